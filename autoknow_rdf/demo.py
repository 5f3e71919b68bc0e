"""`autoknow demo`: build an on-disk store from the shipped demo cut and summarise it.

Later stages extend this: each adds its run after ingest and its counts to the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .ingest import IngestResult, ingest_many, plan
from .pipeline import MODELS_DIR, RunResult, run_stage, train_stage
from .accounting import accounting
from .report import summary, write_report
from .shapes import Validation, validate, write_shapes
from .store import KnowledgeStore
from .vocab import PROJECT_DIR

__all__ = ["DEMO_DATA", "DemoResult", "run_demo"]

DEMO_DATA = PROJECT_DIR / "demo" / "data"


STAGES = ("taxonomy", "relations", "imputation", "cleaning", "synonyms")  # the stages that exist, in pipeline order


@dataclass
class DemoResult:
    store: Path
    ingested: list[IngestResult]
    runs: list[RunResult]
    counts: dict[str, int]
    added: list[dict]  # accounting: what the stages added, by kind, against what was ingested
    quarantined: list[dict]  # count_quarantined_by_source: facts out of the default view, by source
    report: Path
    validation: Validation


def run_demo(store_path: Path, report_path: Path, models_dir: Path = MODELS_DIR, data: Path = DEMO_DATA,
             restricted: bool = True, retrain: bool = False, shapes_out: Path | None = None) -> DemoResult:
    """Ingest the demo cut (open data, plus the restricted slices unless told not to), train each
    stage that has no saved model yet (or all with `retrain`), run them in order, then generate
    the shapes and validate the store against them."""
    folders = [data / "open"] + ([data / "restricted"] if restricted and (data / "restricted").is_dir() else [])
    files, _ = plan(folders)
    store = KnowledgeStore(store_path)
    runs = []
    try:
        results = ingest_many(store, files)
        for name in STAGES:
            if retrain or not (models_dir / name).is_dir():
                train_stage(store, name, models_dir)
            runs.append(run_stage(store, name, models_dir))
        validation = validate(store, write_shapes(store, shapes_out)[0])
        counts = summary(store)
        added = accounting(store)
        quarantined = store.select("count_quarantined_by_source")
        write_report(store, report_path)
    finally:
        store.close()
    return DemoResult(store_path, results, runs, counts, added, quarantined, report_path, validation)
