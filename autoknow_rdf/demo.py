"""`autoknow demo`: build an on-disk store from the shipped demo cut and summarise it.

Later stages extend this: each adds its run after ingest and its counts to the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .ingest import IngestResult, ingest_many, plan
from .report import summary, write_report
from .store import KnowledgeStore
from .vocab import PROJECT_DIR

__all__ = ["DEMO_DATA", "DemoResult", "run_demo"]

DEMO_DATA = PROJECT_DIR / "demo" / "data"


@dataclass
class DemoResult:
    store: Path
    ingested: list[IngestResult]
    counts: dict[str, int]
    report: Path


def run_demo(store_path: Path, report_path: Path, data: Path = DEMO_DATA, restricted: bool = True) -> DemoResult:
    """Ingest the demo cut (open data, plus the restricted slices unless told not to)."""
    folders = [data / "open"] + ([data / "restricted"] if restricted and (data / "restricted").is_dir() else [])
    files, _ = plan(folders)
    store = KnowledgeStore(store_path)
    try:
        results = ingest_many(store, files)
        counts = summary(store)
        write_report(store, report_path)
    finally:
        store.close()
    return DemoResult(store_path, results, counts, report_path)
