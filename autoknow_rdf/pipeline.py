"""Train, run and evaluate stages: each run under its own activity and graph, idempotent by id.

A run id is a fingerprint of the model checksum and of the activities whose facts the run read
(config + inputs), so running again over the same store and model changes nothing, while new
input or a new model gives a new run beside the old one (nothing is overwritten).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .provenance import run_activity
from .stages.base import ModelInfo, Stage
from .stages.registry import stage_class
from .store import KnowledgeStore
from .vocab import graph_iri

__all__ = ["MODELS_DIR", "RunResult", "train_stage", "is_current", "run_stage", "evaluation_store"]

MODELS_DIR = Path("models")


@dataclass(frozen=True)
class RunResult:
    stage: str
    run_id: str
    facts: int
    quads: int  # 0 when this run id was already in the store

    @property
    def skipped(self) -> bool:
        return self.quads == 0


MODEL_INFO = "model-info.json"  # beside a saved stage: the name, version and checksum it was saved with


def train_stage(store: KnowledgeStore, name: str, models_dir: Path = MODELS_DIR, **config) -> ModelInfo:
    """Fit a stage (with `config` for its constructor) on what the store holds and save it."""
    import json

    stage = stage_class(name)(**config)
    stage.fit(stage.read(store))
    info = stage.save(models_dir / name)
    (models_dir / name / MODEL_INFO).write_text(json.dumps(info.__dict__, indent=2), encoding="utf-8")
    return info


def is_current(models_dir: Path, name: str) -> bool:
    """Whether a stage's saved model exists and was saved by this version of the stage's model
    (a model of an older version cannot be loaded: the demo trains it again)."""
    import json

    path = models_dir / name / MODEL_INFO
    if not path.is_file():
        return False
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["version"]
    except (ValueError, KeyError):
        return False
    return saved == stage_class(name)().model_info().version


AFTER_STAGES = ("shapes", "validate", "review")  # steps that read every stage's output (review: quarantine decisions)


def inputs_fingerprint(store: KnowledgeStore, stage: str) -> str:
    """Which committed activities the store holds, apart from the runs of this stage and of the
    steps after it: the input identity of a run (neither its own earlier output nor a later
    stage's may make a re-run look new)."""
    from .stages.registry import STAGES

    order = [*STAGES, *AFTER_STAGES]
    later = order[order.index(stage):] if stage in order else [stage]
    own = tuple(graph_iri("run", s).value + "/" for s in later)
    graphs = sorted(g for g in (r["graph"].value for r in store.select("list_activities")) if not g.startswith(own))
    return hashlib.sha256("\n".join(graphs).encode()).hexdigest()


def run_stage(store: KnowledgeStore, name: str, models_dir: Path = MODELS_DIR, run_id: str | None = None) -> RunResult:
    """Predict with a trained stage and write its facts in one run graph (a no-op if present)."""
    stage: Stage = stage_class(name).load(models_dir / name)
    info = stage.model_info()
    run_id = run_id or hashlib.sha256(f"{info.checksum}\n{inputs_fingerprint(store, name)}".encode()).hexdigest()[:16]
    activity = run_activity(name, run_id, info.name, info.version, info.checksum, __version__)
    if store.is_committed(activity):
        return RunResult(name, run_id, 0, 0)
    facts = stage.predict(stage.read(store))
    quads = store.write(activity, stage.emit(facts))
    return RunResult(name, run_id, len(facts), quads)


def evaluation_store(data: Path | list[Path], patterns: tuple[str, ...]) -> KnowledgeStore:
    """An in-memory store holding the files of `data` (one or more shared/data-like folders) that match."""
    from .ingest import ingest_many, plan

    files, _ = plan(data if isinstance(data, list) else [data])
    chosen = [(p, a) for p, a in files if any(p.match(pat) for pat in patterns)]
    store = KnowledgeStore()
    ingest_many(store, chosen)
    return store
