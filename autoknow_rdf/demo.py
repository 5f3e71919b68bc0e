"""`autoknow demo`: build an on-disk store from the shipped demo cut and summarise it.

Later stages extend this: each adds its run after ingest and its counts to the summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .ingest import IngestResult, ingest_many, plan
from .pipeline import MODELS_DIR, RunResult, is_current, model_gates, run_stage, train_stage
from .stages.registry import STAGES, stage_class
from .accounting import accounting
from .report import summary, write_report
from .shapes import Validation, validate, write_shapes
from .store import KnowledgeStore
from .resources import DEMO_DATA

__all__ = ["DEMO_DATA", "DemoResult", "run_demo"]


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
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step (ingest, train X, run X, ...)
    cache: dict[str, float] = field(default_factory=dict)  # embedding cache: hits, misses, hit rate, encoding seconds


def run_demo(store_path: Path, report_path: Path, models_dir: Path = MODELS_DIR, data: Path = DEMO_DATA,
             restricted: bool = True, retrain: bool = False, shapes_out: Path | None = None,
             min_precision: float | None = None) -> DemoResult:
    """Ingest the demo cut (open data, plus the restricted slices unless told not to), train each
    stage that has no saved model of its current version yet (or all with `retrain`), run them in
    order at their precision gates (`min_precision`, default the models'), then generate the shapes and validate the store against them."""
    folders = [data / "open"] + ([data / "restricted"] if restricted and (data / "restricted").is_dir() else [])
    files, _ = plan(folders)
    store = KnowledgeStore(store_path)
    runs = []
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 1)
        clock = now

    try:
        results = ingest_many(store, files)
        lap("ingest")
        for name in STAGES:
            if retrain or not is_current(models_dir, name):
                train_stage(store, name, models_dir, **stage_class(name).DEMO_CONFIG)
                lap(f"train {name}")
            runs.append(run_stage(store, name, models_dir, min_precision=min_precision))
            lap(f"run {name}")
        validation = validate(store, write_shapes(store, shapes_out)[0])
        lap("shapes and validation")
        counts = summary(store)
        added = accounting(store)
        quarantined = store.select("count_quarantined_by_source")
        write_report(store, report_path, accounts=added, counts=counts, gates=model_gates(models_dir))
        lap("summary and report")
    finally:
        store.close()
    from .ml.encoder import cache_stats

    return DemoResult(store_path, results, runs, counts, added, quarantined, report_path, validation, timings, cache_stats())
