"""demo/evaluation: the small evaluation folder a clone carries, so `autoknow evaluate STAGE
--data` and the report's metric sections work without ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli
from autoknow_rdf.stages.registry import STAGES, stage_evaluation

from .conftest import SHARED

EVALUATION = Path(__file__).resolve().parents[1] / "demo" / "evaluation"


def _patterns(name: str) -> tuple[str, ...]:
    module = stage_evaluation(name)
    return tuple(getattr(module, "EVALUATION_FILES", ())) + tuple(getattr(module, "DATA_FILES", ()))


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_file_a_stage_evaluation_reads_is_there(name):
    patterns = _patterns(name)
    assert patterns, f"{name}: its evaluation names no files"
    missing = [p for p in patterns if not any(EVALUATION.glob(p))]
    assert not missing, f"{name}: nothing in demo/evaluation matches {missing}"


def test_each_data_set_keeps_its_source_and_terms():
    folders = sorted(p for p in EVALUATION.iterdir() if p.is_dir())
    assert len(folders) >= 15
    assert all((p / "SOURCE.md").is_file() for p in folders), [p.name for p in folders if not (p / "SOURCE.md").is_file()]
    assert "research use" in (EVALUATION / "SOURCE.md").read_text(encoding="utf-8")


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside the checkout")
def test_the_folder_is_what_build_cut_makes_of_the_shared_data(tmp_path):
    """Byte-identical: the shipped folder is the documented cut, not hand-edited."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_cut", EVALUATION.parent / "build_cut.py")
    build_cut = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_cut)
    build_cut.evaluation(SHARED, tmp_path / "evaluation")
    made = {p.relative_to(tmp_path / "evaluation"): p.read_bytes() for p in (tmp_path / "evaluation").rglob("*") if p.is_file()}
    shipped = {p.relative_to(EVALUATION): p.read_bytes() for p in EVALUATION.rglob("*") if p.is_file()}
    assert made.keys() == shipped.keys()
    assert [k for k in made if made[k] != shipped[k]] == []


def test_evaluate_and_the_report_metrics_work_on_it(tmp_path):
    """`evaluate relations --data demo/evaluation` (seconds) prints the model beside its baselines,
    and its JSON, as `evaluate all` writes it, is read back by the report's metrics loader."""
    from autoknow_rdf.accounting import dev_precision, load_metrics

    out = tmp_path / "runs" / "relations.json"
    out.parent.mkdir()
    result = CliRunner().invoke(cli, ["evaluate", "relations", "--data", str(EVALUATION), "--profile", "quick", "--json", str(out)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "baseline: sibling majority" in result.output and "hidden types" in result.output
    relations = json.loads(out.read_text(encoding="utf-8"))
    assert 0.0 < dev_precision("relations", relations) <= 1.0
    out.rename(tmp_path / "runs" / "all.json")  # the shape `evaluate all --json` writes: {stage: result}
    (tmp_path / "runs" / "all.json").write_text(json.dumps({"relations": relations}), encoding="utf-8")
    assert load_metrics(tmp_path / "runs") == {"relations": relations}
