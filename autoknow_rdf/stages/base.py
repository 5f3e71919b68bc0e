"""The one stage interface: read → fit → predict (pure) → emit, and score on a labelled split.

A stage never parses files (it reads the store through named queries) and never writes the
store itself: `pipeline.run_stage` wraps what `emit` returns in one run activity and graph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable

import numpy as np
from pyoxigraph import Literal, NamedNode

from ..ml.audit_gate import AuditGate, audit_gate_rows
from ..ml.gate import DEFAULT_MIN_PRECISION, GATE_FILE, Gate, load_gate, save_gate
from ..provenance import Fact
from ..store import KnowledgeStore

__all__ = ["Stage", "ModelInfo", "Verdict", "audited_triples"]


@dataclass(frozen=True)
class Verdict:
    """People's verdict on one judged (subject, object): the share of its annotators who found it
    right, and how many facts of its run it stands for (its sample's stratum weight)."""

    right: float
    weight: float


def audited_triples(store: KnowledgeStore, stage: str, kind: str, predicate: NamedNode | None,
                    exclude: tuple[str, str] | None = None, symmetric: bool = False) -> dict[tuple, Verdict]:
    """(subject, object) -> people's verdict (each annotator's latest, whatever sample it was in;
    unsure left out), over every audit of `stage`'s facts of `kind` except those of the model
    `exclude` names (model name, version): people's labels for a stage to learn from, while a
    model's own verdicts stay its audit gate's and never its training. A `symmetric` predicate's
    pairs are read in sorted order (a link judged either way round is one pair). With no
    `predicate` every predicate is read, and the keys are (subject, predicate, object)."""
    latest: dict[tuple[tuple[str, str], str], tuple[str, bool]] = {}
    weights: dict[tuple[str, str], list[float]] = {}
    for r in store.select("list_audited_triples", stage=Literal(stage), kind=Literal(kind)):
        if (predicate is not None and r["p"] != predicate) or r["verdict"].value not in ("right", "wrong") \
                or (r["modelName"].value, r["modelVersion"].value) == exclude:
            continue
        pair = (r["s"].value, r["o"].value)
        pair = tuple(sorted(pair)) if symmetric else pair
        pair = pair if predicate is not None else (pair[0], r["p"].value, pair[1])
        key = (pair, r["annotator"].value)
        if key not in latest or r["time"].value >= latest[key][0]:
            latest[key] = (r["time"].value, r["verdict"].value == "right")
        weights.setdefault(pair, []).append(float(r["weight"].value) if r["weight"] is not None else 1.0)
    votes: dict[tuple[str, str], list[bool]] = {}
    for (pair, _), (_, right) in latest.items():
        votes.setdefault(pair, []).append(right)
    return {pair: Verdict(sum(vs) / len(vs), sum(weights[pair]) / len(weights[pair])) for pair, vs in sorted(votes.items())}


@dataclass(frozen=True)
class ModelInfo:
    """What a run's provenance says about the model it used."""

    name: str
    version: str
    checksum: str


class Stage(ABC):
    """A named ML stage with declared inputs (`requires`) and outputs (`assigns`)."""

    name: ClassVar[str]
    requires: ClassVar[tuple[NamedNode, ...]]  # predicates the stage reads
    assigns: ClassVar[tuple[NamedNode, ...]]  # the only predicates its facts may use
    # constructor arguments of the demo-sized model (the demo, the tests); `autoknow train` uses
    # the constructor's full-size defaults
    DEMO_CONFIG: ClassVar[dict[str, Any]] = {}
    model_name: ClassVar[str]  # provenance: what the run's model is called
    model_version: ClassVar[str]  # a saved model of another version is refused (trained again by the demo)
    # the precision each emitted kind of fact must reach on held-in data (`--min-precision` sets
    # it per run); `fit` sets `gate_`, the calibrated gates per kind or attribute
    min_precision: float = DEFAULT_MIN_PRECISION
    gate_: Gate | None = None
    # per kind of fact: gates fitted on people's judgements of this model's runs (the pipeline
    # sets them from the store's audit); where a kind has one, it decides instead of the held-in gate
    audit_gates_: dict[str, AuditGate] | None = None

    def kind_of(self, group: str) -> str:
        """The kind of fact (as the facts-added accounting names it) of one of the stage's gate
        groups: audit gates are per kind, held-in gates per kind or attribute."""
        return group

    @classmethod
    def allows(cls, predicate: NamedNode) -> bool:
        """Whether the stage may assert `predicate` (by default: it is one of `assigns`)."""
        return predicate in cls.assigns

    @abstractmethod
    def read(self, store: KnowledgeStore) -> Any:
        """Inputs from the store, via named queries."""

    @abstractmethod
    def fit(self, examples: Any) -> "Stage":
        """Train on examples (what `read` returned, or a training split); returns self."""

    @abstractmethod
    def predict(self, inputs: Any) -> list[Fact]:
        """Facts with confidence and evidence; pure: no store, no side effects."""

    def parts(self, inputs: Any, n: int) -> list | None:
        """`inputs` in up to `n` parts whose candidates `candidates` finds apart (engine.py), or
        None: the stage runs whole, in one process."""
        return None

    def candidates(self, inputs: Any, part: Any) -> list:
        """The model's work on one part (pure); `decide` turns every part's into the run's facts."""
        raise NotImplementedError(f"stage {self.name} does not split its runs")

    def decide(self, inputs: Any, found: list) -> list[Fact]:
        """The run's facts from the candidates of every part (gated over the whole run)."""
        raise NotImplementedError(f"stage {self.name} does not split its runs")

    def gated(self, groups, scores) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated P(right) of a run's candidate facts (raw `scores`, each of a kind or
        attribute in `groups`) and whether each passes its gate at `min_precision` (`Gate.apply`;
        nothing passes without a gate). Called once per kind of candidate a run makes; what it
        did is kept for `gate_table`."""
        gate = self.gate_ or Gate()
        groups = list(groups)
        p, ok, runs = gate.apply(groups, scores, self.min_precision)
        audits = self.audit_gates_ or {}
        kinds = np.array([self.kind_of(g) for g in groups], dtype=object)
        keys = np.array([gate.key(g) or "" for g in groups], dtype=object)
        for kind in sorted(set(kinds.tolist()) & set(audits)):
            idx = np.flatnonzero(kinds == kind)
            q, passed, t = audits[kind].decide(p[idx], self.min_precision)
            ok[idx] = passed
            self.audit_runs_ = {**getattr(self, "audit_runs_", {}), kind: {
                "run gate": t, "candidates": len(idx), "emitted": int(passed.sum()),
                "expected precision": float(q[passed].mean()) if passed.any() else None}}
            for key in set(keys[idx].tolist()):
                mine = keys == key
                runs.setdefault(key, {})["emitted"] = int(ok[mine].sum())
        self.runs_ = {**getattr(self, "runs_", {}), **runs}
        return p, ok

    def gate_fitted_on(self, group: str) -> str:
        """What a group's model gate was fitted on (the gate table says it)."""
        return "held-in"

    def gate_table(self) -> list[dict[str, Any]]:
        """Per kind or attribute: held-in precision, the gate at `min_precision`, emitted or
        withheld, and (after `predict`) the run's gate, how many candidate facts passed and were
        held back, and the precision to expect of those that passed."""
        audits = self.audit_gates_ or {}
        rows = [] if self.gate_ is None else self.gate_.table(self.min_precision, getattr(self, "runs_", {}))
        for row in rows:
            row["fitted on"] = self.gate_fitted_on(row["group"])
            if self.kind_of(row["group"]) in audits:
                row["decision"] = f"the audit gate of {self.kind_of(row['group'])} decides"
        if audits:
            ran = getattr(self, "audit_runs_", None)
            rows += audit_gate_rows(audits, self.min_precision, ran if hasattr(self, "runs_") else None)
        return rows

    def emit(self, facts: list[Fact]) -> Iterable[Fact]:
        """The facts to write; checks each stays inside `assigns`."""
        for f in facts:
            if not self.allows(f.predicate):
                raise ValueError(f"stage {self.name} may not assert {f.predicate.value}")
            yield f

    @abstractmethod
    def score(self, examples: Any) -> dict[str, Any]:
        """Metrics on a labelled split, beside the stage's named baselines."""

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the trained model's files (config, weights, metrics) into an empty `folder`."""

    @classmethod
    @abstractmethod
    def load(cls, folder: Path) -> "Stage":
        """Read the files `save` wrote (`open` has verified them)."""

    def save_config(self, folder: Path, config: dict[str, Any]) -> None:
        """The stage's constructor arguments and metrics as `<name>.json` in its model folder."""
        import json

        (folder / f"{self.name}.json").write_text(json.dumps({**config, "metrics": getattr(self, "metrics_", {})}, indent=2),
                                                   encoding="utf-8")

    @classmethod
    def from_config(cls, folder: Path) -> "Stage":
        """A stage built from `save_config`'s file, its metrics restored."""
        import json

        config = json.loads((folder / f"{cls.name}.json").read_text(encoding="utf-8"))
        metrics = config.pop("metrics", {})
        stage = cls(**config)
        stage.metrics_ = metrics
        return stage

    def write(self, folder: Path) -> ModelInfo:
        """Save into a temporary folder, seal every file under one checksum, rename it onto
        `folder`: a killed `train` leaves the previous model or none, never a half one."""
        from ..ml.persistence import replace_folder, seal

        with replace_folder(folder) as tmp:
            self.save(tmp)
            if self.gate_ is not None:
                save_gate(tmp, self.gate_, self.min_precision)
            self.checksum_ = seal(tmp, self.model_name, self.model_version)
        return self.model_info()

    @classmethod
    def open(cls, folder: Path) -> "Stage":
        """A trained stage from `write`'s folder, every file verified before anything is loaded."""
        from ..errors import ModelError
        from ..ml.persistence import manifest, verify

        checksum = verify(folder)
        saved = manifest(folder)
        if (saved.get("name"), saved.get("version")) != (cls.model_name, cls.model_version):
            raise ModelError(f"{folder}: a {saved.get('name')} {saved.get('version')} model, not {cls.model_name} "
                             f"{cls.model_version}; run `autoknow train {cls.name}` again")
        if not (folder / GATE_FILE).is_file():
            raise ModelError(f"{folder}: saved before calibrated precision gates existed; run `autoknow train {cls.name}` again")
        stage = cls.load(folder)
        stage.gate_, stage.min_precision = load_gate(folder)
        stage.checksum_ = checksum
        return stage

    def model_info(self) -> ModelInfo:
        """Name, version and checksum of the trained model, for provenance."""
        return ModelInfo(self.model_name, self.model_version, getattr(self, "checksum_", "unsaved"))
