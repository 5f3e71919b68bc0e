"""`autoknow enrich`: the main job on a user's own store, in one command.

Trains each stage that has no current model (or all, with `retrain`), runs them in order at
their precision gates, generates the SHACL shapes, validates, and writes the accounting and the
HTML report. Every step is idempotent (a model that verifies is reused; a run, shape or
validation id already in the store is a no-op), so a re-run on unchanged input adds nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .accounting import accounting, facts_by_kind, kinds_by_run
from .errors import StoreError
from .ingest import IngestResult
from .ontology import load_ontology
from .pipeline import MODELS_DIR, RunResult, is_current, model_gates, run_stage, train_stage
from .report import summary, write_report
from .shapes import Validation, validate, write_shapes
from .stages.registry import STAGES
from .remote import is_remote
from .store import KnowledgeStore, open_store

__all__ = ["Enrichment", "enrich", "enrich_store", "demo_sizes"]


@dataclass
class Enrichment:
    store: Path
    runs: list[RunResult]
    trained: list[str]  # stages fitted by this call (the others had a current model)
    counts: dict[str, int]
    added: list[dict]  # accounting: what the stages added, by kind, against what was ingested
    quarantined: list[dict]  # count_quarantined_by_source: facts out of the default view, by source
    report: Path
    validation: Validation
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step (ingest, train X, run X, ...)
    cache: dict[str, float] = field(default_factory=dict)  # embedding cache: hits, misses, hit rate, encoding seconds
    ingested: list[IngestResult] = field(default_factory=list)  # `autoknow demo` ingests first
    kinds: dict[str, dict[str, int]] = field(default_factory=dict)  # facts of each kind per run id (accounting's figures)

    @property
    def wrote_nothing(self) -> bool:
        return not self.trained and all(r.skipped for r in self.runs)


class _Laps:
    """Seconds per step, and a line as each step starts (its name and the time so far), so a
    log shows where a long run is."""

    def __init__(self, timings: dict[str, float], announce: Callable[[str], None] | None):
        self.timings, self.announce, self.clock = timings, announce, time.perf_counter()
        self.began = self.clock - sum(timings.values())

    def start(self, step: str) -> None:
        if self.announce:
            self.announce(f"[{time.perf_counter() - self.began:5.0f} s] {step} …")

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(self.timings.get(step, 0) + now - self.clock, 1)
        self.clock = now


def demo_sizes() -> dict[str, dict]:
    """Each stage's demo-sized training settings (minutes on a CPU, not hours)."""
    from .stages.registry import stage_class

    return {name: stage_class(name).DEMO_CONFIG for name in STAGES}


def enrich_store(store: KnowledgeStore, report_path: Path, models_dir: Path = MODELS_DIR, retrain: bool = False,
                 shapes_out: Path | None = None, min_precision: float | None = None,
                 config: dict[str, dict] | None = None, timings: dict[str, float] | None = None,
                 announce: Callable[[str], None] | None = None, engine: str = "local") -> Enrichment:
    """Enrich an open store (see the module); `config` holds constructor settings per stage for
    the stages it trains (e.g. each stage's DEMO_CONFIG)."""
    laps = _Laps(timings if timings is not None else {}, announce)
    load_ontology(store)  # a no-op when it is there
    runs, trained = [], []
    for name in STAGES:
        if retrain or not is_current(models_dir, name):
            laps.start(f"train {name}")
            train_stage(store, name, models_dir, **(config or {}).get(name, {}))
            trained.append(name)
            laps.done(f"train {name}")
        laps.start(f"run {name}")
        runs.append(run_stage(store, name, models_dir, min_precision=min_precision, engine=engine))
        laps.done(f"run {name}")
    laps.start("shapes and validation")
    validation = validate(store, write_shapes(store, shapes_out)[0])
    laps.done("shapes and validation")
    laps.start("summary and report")
    counts = summary(store)
    kinds = facts_by_kind(store)
    added = accounting(store, counts=kinds)
    quarantined = store.select("count_quarantined_by_source")
    write_report(store, report_path, accounts=added, counts=counts, gates=model_gates(models_dir))
    laps.done("summary and report")
    from .ml.encoder import cache_stats

    return Enrichment(Path(store.path) if store.path else Path(), runs, trained, counts, added, quarantined, report_path,
                      validation, laps.timings, cache_stats(), kinds=kinds_by_run(kinds))


def enrich(store_path: Path, report_path: Path = Path("report.html"), models_dir: Path = MODELS_DIR, retrain: bool = False,
           shapes_out: Path | None = None, min_precision: float | None = None, config: dict[str, dict] | None = None,
           announce: Callable[[str], None] | None = None, engine: str = "local") -> Enrichment:
    """`enrich_store` on the store at `store_path` (a directory, which must exist: init and ingest
    first; or a SPARQL server); `engine`: where the stages' model work happens (engine.py)."""
    if not is_remote(store_path) and not (Path(store_path) / "CURRENT").exists():
        raise StoreError(f"{store_path}: no store here (autoknow init, then autoknow ingest your files)")
    store = open_store(store_path)
    try:
        return enrich_store(store, report_path, models_dir, retrain, shapes_out, min_precision, config, announce=announce,
                            engine=engine)
    finally:
        store.close()
