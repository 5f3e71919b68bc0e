"""Train, run and evaluate stages: each run under its own activity and graph, idempotent by id.

A run id is a fingerprint of the model checksum and of the activities whose facts the run read
(config + inputs), so running again over the same store and model changes nothing, while new
input or a new model gives a new run beside the old one (nothing is overwritten).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .provenance import run_activity
from .stages.base import ModelInfo, Stage
from .stages.registry import STAGES, stage_class, stage_evaluation
from .store import KnowledgeStore
from .vocab import graph_iri

__all__ = ["MODELS_DIR", "RunResult", "train_stage", "is_current", "run_stage", "evaluate_stage", "model_gates", "stage_audit_gates"]

MODELS_DIR = Path("models")


@dataclass(frozen=True)
class RunResult:
    stage: str
    run_id: str
    facts: int
    quads: int  # 0 when this run id was already in the store
    min_precision: float = 0.9
    gates: tuple[dict[str, Any], ...] = ()  # per kind or attribute: held-in precision, gate, emitted or withheld

    @property
    def skipped(self) -> bool:
        return self.quads == 0


def train_stage(store: KnowledgeStore, name: str, models_dir: Path = MODELS_DIR, min_precision: float | None = None,
                **config) -> ModelInfo:
    """Fit a stage (with `config` for its constructor) on what the store holds and save it
    (atomically: a killed training leaves the previous model or none); `min_precision`, the
    default precision its runs' gates aim for, is saved with it."""
    from .ml.gate import check_min_precision

    stage = stage_class(name)(**config)
    if min_precision is not None:
        stage.min_precision = check_min_precision(min_precision)
    stage.fit(stage.read(store))
    return stage.write(models_dir / name)


def is_current(models_dir: Path, name: str) -> bool:
    """Whether a stage's saved model is complete (its manifest verifies) and of this version of
    the stage's model (an older one cannot be loaded: the demo trains it again)."""
    from .errors import ModelError
    from .ml.persistence import manifest, verify

    folder = models_dir / name
    try:
        verify(folder)
        return manifest(folder).get("version") == stage_class(name).model_version
    except ModelError:
        return False


def model_gates(models_dir: Path = MODELS_DIR) -> dict[str, tuple[Any, float]]:
    """Each saved stage model's gates and default minimum precision, by stage (for the report)."""
    from .ml.gate import GATE_FILE, load_gate

    return {name: load_gate(Path(models_dir) / name) for name in STAGES if (Path(models_dir) / name / GATE_FILE).is_file()}


AFTER_STAGES = ("shapes", "validate", "review")  # steps that read every stage's output (review: quarantine decisions)


def inputs_fingerprint(store: KnowledgeStore, stage: str) -> str:
    """Which committed activities the store holds, apart from the runs of this stage and of the
    steps after it: the input identity of a run (neither its own earlier output nor a later
    stage's may make a re-run look new)."""
    order = [*STAGES, *AFTER_STAGES]
    later = order[order.index(stage):] if stage in order else [stage]
    own = tuple(graph_iri("run", s).value + "/" for s in later)
    graphs = sorted(g for g in (r["graph"].value for r in store.select("list_activities")) if not g.startswith(own))
    return hashlib.sha256("\n".join(graphs).encode()).hexdigest()


def stage_audit_gates(store: KnowledgeStore, name: str, info) -> dict[str, Any]:
    """Per kind, the gate fitted on the store's audit judgements of this stage's model (its name
    and version: a judged earlier training of the same configuration counts; the gate table names
    the samples). Empty when nobody judged it."""
    from pyoxigraph import Literal

    from .ml.audit_gate import audit_gates, from_rows

    return audit_gates(from_rows(store.select("list_audit_judgements", stage=Literal(name))), info.name, info.version,
                       info.checksum)


def run_stage(store: KnowledgeStore, name: str, models_dir: Path = MODELS_DIR, run_id: str | None = None,
              min_precision: float | None = None, stage: Stage | None = None, engine: str = "local") -> RunResult:
    """Predict with a trained stage (the saved one, or `stage`, fitted in memory) and write its
    facts in one run graph (a no-op if present). `min_precision` (default: the model's) is the
    held-in precision each emitted kind of fact must reach; it is part of the run id and of the
    run's provenance. `engine`: where the model work happens (engine.py); the facts are the same."""
    from .engine import predict
    from .ml.gate import check_min_precision

    if engine != "local" and stage is not None:
        raise ValueError("a stage fitted in memory runs locally: the Ray workers load the saved one")
    stage = stage or stage_class(name).open(models_dir / name)
    if min_precision is not None:
        stage.min_precision = check_min_precision(min_precision)
    info = stage.model_info()
    stage.audit_gates_ = stage_audit_gates(store, name, info) or None
    target = stage.min_precision
    run_id = run_id or hashlib.sha256(f"{info.checksum}\n{target}\n{inputs_fingerprint(store, name)}".encode()).hexdigest()[:16]
    activity = run_activity(name, run_id, info.name, info.version, info.checksum, __version__, min_precision=target)
    if store.is_committed(activity):
        return RunResult(name, run_id, 0, 0, target, tuple(stage.gate_table()))
    facts = predict(stage, stage.read(store), engine, folder=models_dir / name)
    quads = store.write(activity, stage.emit(facts))
    return RunResult(name, run_id, activity.fact_count, quads, target, tuple(stage.gate_table()))


def evaluate_stage(name: str, data: Path, test: Path | None = None, model: Path | None = None,
                   profile: str = "full") -> dict[str, Any]:
    """Metrics rows for a stage: dev splits carved from `data`, or trained on `data` and scored
    on `test` (refused when the folders share items); `model`, a saved stage to score instead of
    training; `profile`, quick or full (`evaluation.PROFILES`), named in the result with its
    sizes and the time it took. Each stage's protocol lives in its room (`stages/<name>/evaluate.py`)."""
    import time

    from .errors import AutoknowError
    from .evaluation import PROFILES
    from .evaluation.overlap import check_disjoint

    if profile not in PROFILES:
        raise AutoknowError(f"no evaluation profile {profile!r}; profiles: {', '.join(PROFILES)}")
    start = time.perf_counter()

    evaluation = stage_evaluation(name)
    if test is not None:
        check_disjoint(Path(data), Path(test), evaluation.DATA_FILES)
    if model is not None and not Path(model).is_dir():
        raise AutoknowError(f"{model}: no such model folder (one written by `autoknow train {name}`)")
    result = evaluation.evaluate(data, test=test, model=model, profile=profile)
    result["profile"] = {"name": profile, "about": PROFILES[profile], "settings": evaluation.PROFILES[profile],
                         "seconds": round(time.perf_counter() - start, 1)}
    if model is not None and test is None:
        result.setdefault("skipped", []).append(
            "note: a saved model scored on dev splits carved from --data may have been trained on them; "
            "use --test with data it never saw")
    return result
