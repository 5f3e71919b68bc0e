"""`autoknow enrich` on a store built from the README's own-catalogue example (examples/my-shop):
it trains what has no current model, runs every stage, validates and reports; a re-run adds
nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli
from autoknow_rdf.store import KnowledgeStore

from .conftest import quad_set

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "my-shop"


def run(*args) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_enrich_grows_an_own_catalogue_and_a_rerun_is_a_no_op(tmp_path, cut_models):
    store, models, report = tmp_path / "my-kg", tmp_path / "models", tmp_path / "report.html"
    # the cut's trained stages stand in for earlier training, except relations: enrich trains it
    shutil.copytree(cut_models[0], models)
    shutil.rmtree(models / "relations")
    run("init", "--store", store)
    run("ingest", "--store", store, "--scheme", "my-shop", EXAMPLE / "taxonomy.csv", EXAMPLE / "products.jsonl")
    ks = KnowledgeStore(store, read_only=True)
    assert ks.select("count_products_by_type")[0]["type"].value.startswith("https://w3id.org/autoknow/id/type/my-shop/")
    del ks
    args = ["enrich", "--store", store, "--models", models, "--report", report, "--quick",
            "--shapes-out", tmp_path / "shapes.ttl"]
    first = run(*args)
    assert "trained: relations" in first and (models / "relations" / "manifest.json").is_file()
    for stage in ("taxonomy", "relations", "imputation", "cleaning", "synonyms"):
        assert f"stage {stage}" in first
    assert "Facts-added accounting" in first and "validation:" in first
    assert "every fact is traced" in report.read_text(encoding="utf-8")
    before = quad_set(KnowledgeStore(store, read_only=True))
    second = run(*args)
    assert "nothing new" in second
    assert quad_set(KnowledgeStore(store, read_only=True)) == before


def test_enrich_refuses_a_folder_that_is_no_store(tmp_path):
    result = CliRunner().invoke(cli, ["enrich", "--store", str(tmp_path / "nothing")])
    assert result.exit_code != 0 and "no store here" in str(result.exception)
    assert not (tmp_path / "nothing").exists()
