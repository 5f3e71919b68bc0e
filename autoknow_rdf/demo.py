"""`autoknow demo`: build an on-disk store from the shipped demo cut, enrich it and summarise it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from .enrich import Enrichment, demo_sizes, enrich_store
from .ingest import ingest_many, plan
from .pipeline import MODELS_DIR
from .audit import load_audit
from .resources import DEMO_AUDIT, DEMO_DATA
from .store import KnowledgeStore

__all__ = ["DEMO_DATA", "run_demo"]


def run_demo(store_path: Path, report_path: Path, models_dir: Path = MODELS_DIR, data: Path = DEMO_DATA,
             restricted: bool = True, retrain: bool = False, shapes_out: Path | None = None,
             min_precision: float | None = None, announce: Callable[[str], None] | None = None,
             audit: Path | None = DEMO_AUDIT) -> Enrichment:
    """Ingest the demo cut (open data, plus the restricted slices unless told not to) and the
    project's audit of the demo (demo/audit/, with the shipped cut only: the stages whose models it
    judged are gated on it),
    then enrich the store (`enrich.enrich_store`) training each stage at its demo size."""
    folders = [data / "open"] + ([data / "restricted"] if restricted and (data / "restricted").is_dir() else [])
    files, _ = plan(folders)
    store = KnowledgeStore(store_path)
    try:
        clock = time.perf_counter()
        ingested = ingest_many(store, files)
        if audit is not None and data == DEMO_DATA and Path(audit).is_file():
            load_audit(store, Path(audit))  # people's judgements of the demo models: their gates are fitted on it
        timings = {"ingest": round(time.perf_counter() - clock, 1)}
        result = enrich_store(store, report_path, models_dir, retrain, shapes_out, min_precision, demo_sizes(), timings,
                              announce)
    finally:
        store.close()
    result.ingested = ingested
    return result
