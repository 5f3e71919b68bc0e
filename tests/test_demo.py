"""`autoknow demo` builds an on-disk store from the shipped demo cut and summarises it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli
from autoknow_rdf.accounting import accounting
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.stages.registry import STAGES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models_dir(cut_models, tmp_path_factory):
    """The stages trained on the cut (conftest): the demo finds them and does not train again."""
    import shutil

    dst = tmp_path_factory.mktemp("demo-models") / "models"
    shutil.copytree(cut_models[0], dst)
    return dst


def test_demo_builds_the_store_prints_counts_and_is_rerunnable(tmp_path, models_dir, demo_cut):
    store, report = tmp_path / "demo-store", tmp_path / "report.html"
    args = ["demo", "--data", str(demo_cut), "--store", str(store), "--report", str(report), "--models", str(models_dir)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, (first.output, first.exception)
    for heading in ("types", "products", "attributeValues", "customerTexts", "behaviourEvents"):
        assert heading in first.output
    ks = KnowledgeStore(store, read_only=True)
    counts = {k: int(v.value) for k, v in ks.select("count_summary")[0].items()}
    assert counts["types"] > 300 and counts["products"] > 300
    assert counts["customerTexts"] > 0 and counts["behaviourEvents"] > 0 and counts["attributeValues"] > 0
    assert ks.ask("find_facts_without_provenance") is False
    size = len(ks)
    del ks
    assert "every fact is traced" in report.read_text(encoding="utf-8")
    accounts = accounting(KnowledgeStore(store, read_only=True))
    added = {}
    for r in accounts:
        if r["stage"] != "all stages":
            added[r["kind"]] = added.get(r["kind"], 0) + r["added"]
    total = next(r for r in accounts if r["kind"] == "all kinds")
    assert total["ingested"] > 0 and total["growth"] > 0
    # at the 0.9 gates the cut's small held-in sets let these through (measured); the others are
    # withheld, and the summary says so per stage
    assert added.get("type shape", 0) > 0
    assert added.get("attribute value", 0) > 0 and added.get("quarantined", 0) > 0
    assert "Precision gates" in first.output and "What each stage added, at its gates" in first.output
    for stage in STAGES:
        assert f"stage {stage}" in first.output
    assert "withheld" in first.output and "facts written" in first.output and " added" in first.output
    assert "Facts-added accounting" in first.output and "all kinds" in first.output
    assert "validation:" in first.output and "Quarantined by cleaning" in first.output
    assert " warning" in first.output and " violation" in first.output  # results by severity
    # a log (not a TTY) shows each step as it starts, with the time so far, on stderr
    steps = [line for line in first.stderr.splitlines() if line.startswith("[") and "] run " in line]
    assert [line.split("] run ")[1].split()[0] for line in steps] == list(STAGES)
    assert f"next: autoknow stats --store {store}" in first.stdout
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0 and "0 files ingested" in second.output
    assert "already in the store" in second.output
    assert len(KnowledgeStore(store, read_only=True)) == size


def test_demo_runs_without_the_restricted_slices(tmp_path, models_dir, demo_cut):
    out = CliRunner().invoke(cli, ["demo", "--data", str(demo_cut), "--no-restricted", "--store", str(tmp_path / "s"),
                                   "--report", str(tmp_path / "r.html"), "--models", str(models_dir)])
    assert out.exit_code == 0, (out.output, out.exception)
    ks = KnowledgeStore(tmp_path / "s", read_only=True)
    adapters = {r["adapter"].value for r in ks.select("list_activities") if r["adapter"] is not None}
    assert not adapters & {"subjqa", "instacart-orders", "instacart-products"}


def test_a_saved_model_of_another_version_is_trained_again(cut_models, tmp_path):
    """The demo retrains a stage whose saved model another version of its code wrote (such a
    model cannot be loaded), and keeps one of the current version."""
    import json
    import shutil

    from autoknow_rdf.ml.persistence import MANIFEST
    from autoknow_rdf.pipeline import is_current

    models, infos = cut_models
    assert all(is_current(models, name) for name in infos)
    old = tmp_path / "models"
    shutil.copytree(models / "cleaning", old / "cleaning")
    info = json.loads((old / "cleaning" / MANIFEST).read_text())
    (old / "cleaning" / MANIFEST).write_text(json.dumps({**info, "version": "0.0.1"}))
    assert not is_current(old, "cleaning")
    (old / "cleaning" / MANIFEST).unlink()
    assert not is_current(old, "cleaning") and not is_current(old, "synonyms")
