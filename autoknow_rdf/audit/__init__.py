"""Audits: precision as a person measures it, on what the stages really add.

`sample` draws a run's facts (stratified over confidence, in hash order) into a sheet a person
can judge without seeing the score; `review` is a local page to judge it one fact at a time;
`judgements` records the verdicts in the store, each with provenance; `report` gives audited
precision with its interval per stage, kind and confidence bin, and the annotators' agreement.
The pipeline fits the gates of an audited model's later runs on these judgements
(`ml/audit_gate.py`). The written guide is docs/audit-guide.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AutoknowError
from ..store import KnowledgeStore
from .judgements import GUIDELINE_VERSION, ImportResult, export_audit, import_sheets, judgements, load_audit
from .report import audit_tables
from .sample import AUDITED_KINDS, sample_name, sample_run
from .sheet import SAMPLE_CSV, SAMPLE_JSONL, write_sheet, write_weights

__all__ = ["AUDITED_KINDS", "GUIDELINE_VERSION", "ImportResult", "write_sample", "import_sheets", "judgements",
           "audit_tables", "export_audit", "load_audit"]


def write_sample(store: KnowledgeStore, stage: str, folder: Path, run_id: str | None = None, n: int = 200,
                 name: str | None = None, kinds: tuple[str, ...] = (), min_confidence: float | None = None) -> dict[str, Any]:
    """Draw up to `n` facts of each kind (of `kinds`, or all; at or above `min_confidence`, or all) a run of
    `stage` added (its newest run unless `run_id`)
    into `folder`: sample.csv and sample.jsonl (the sheet) and sample.weights.json (the strata).
    Returns what was drawn: the sample's name, the run, and per kind the facts drawn and added."""
    unknown = set(kinds) - set(AUDITED_KINDS)
    if unknown:
        raise AutoknowError(f"no kind {', '.join(sorted(unknown))}; the audit judges {', '.join(AUDITED_KINDS)}")
    run, drawn, population = sample_run(store, stage, run_id, n, name, kinds, min_confidence)
    name = name or sample_name(stage, run.run_id, min_confidence)
    rows = [{"item": i, "stage": stage, "sample": name, **f["row"], "judgement": "", "annotator": "", "note": ""}
            for i, f in enumerate(drawn, 1)]
    folder = Path(folder)
    write_sheet(folder / SAMPLE_CSV, rows)
    write_sheet(folder / SAMPLE_JSONL, rows)
    write_weights(folder, {"sample": name, "stage": stage, "run": run.run_id, "activity": run.activity,
                           "model": f"{run.model_name} {run.model_version} {run.model_checksum}",
                           "population": population, "weights": {f["fact"]: f["weight"] for f in drawn},
                           **({"min confidence": min_confidence} if min_confidence is not None else {})})
    kinds = {k: {"drawn": sum(1 for f in drawn if f["kind"] == k), "added": sum(population[k].values())} for k in population}
    return {"sample": name, "run": run.run_id, "min precision": run.min_precision, "kinds": kinds, "folder": str(folder)}
