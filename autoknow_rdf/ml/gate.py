"""Precision gates: a stage emits a fact only where held-in data says facts like it are right at
least the target share of the time (AutoKnow's growth *at* ~88-90% precision).

Per group (a kind of fact, or an attribute; groups with few held-in facts are pooled into
"other"), fitted on held-in (score, right) pairs the model was not trained on: a `Calibrator`
maps the raw score to P(right), and the held-in probabilities with their labels are kept, so the
gate for any target is computed when the stage runs (`--min-precision` needs no retraining).
The gate is the lowest calibrated probability at which the held-in facts at or above it are
right at least `target` of the time, counting at least `min_support` of them: a gate drawn
through a handful of held-in facts is noise (the synonym stage's 0.9 gate among a few dozen
pairs linked 0 links on one training of the demo store and 63 on the next). A gate may ask more:
with a `confidence` (say 0.9), the held-in precision's one-sided Wilson lower bound at that level
must reach the target, not the point estimate, because the lowest passing threshold is the one
whose held-in facts happened to look best (measured: hypernym gates at a held-in 0.877 gave
0.60-0.85 on hidden leaves). A group that cannot reach the target is withheld: it emits nothing.

Held-in facts may carry weights, so a held-in set with planted errors can stand for a realistic
error rate (cleaning: 10% wrong values, not the 75% its negatives make).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from .calibration import Calibrator, expected_calibration_error, reliability

__all__ = ["Gate", "GroupGate", "DEFAULT_MIN_PRECISION", "MIN_SUPPORT", "OTHER", "check_min_precision", "expected_threshold",
           "save_gate", "load_gate", "GATE_FILE", "wilson_lower", "fit_group"]

DEFAULT_MIN_PRECISION = 0.90
MIN_GROUP = 50  # held-in facts below which a group is pooled into OTHER
MIN_SUPPORT = 20  # held-in facts a gate must keep at or above it
OTHER = "other (pooled)"
GATE_FILE = "gate.json"  # in a model folder: the gates and the model's default minimum precision


def save_gate(folder, gate: "Gate", min_precision: float) -> None:
    """Write a model's gates and default minimum precision into its folder (GATE_FILE)."""
    import json
    from pathlib import Path

    (Path(folder) / GATE_FILE).write_text(json.dumps({"min_precision": min_precision, "groups": gate.to_json()}),
                                          encoding="utf-8")


def load_gate(folder) -> tuple["Gate", float]:
    """A model folder's gates and default minimum precision, as `save_gate` wrote them."""
    import json
    from pathlib import Path

    saved = json.loads((Path(folder) / GATE_FILE).read_text(encoding="utf-8"))
    return Gate.from_json(saved["groups"]), saved["min_precision"]


def check_min_precision(value: float) -> float:
    """`value` when it is a precision a gate can aim for, in (0, 1]; a ValueError otherwise."""
    if not 0 < float(value) <= 1:
        raise ValueError(f"a minimum precision is in (0, 1], not {value}")
    return float(value)


@dataclass
class GroupGate:
    """One group's calibrator and its held-in facts (calibrated probability, right, weight),
    sorted by probability, highest first."""

    calibrator: Calibrator
    probability: list[float]
    right: list[int]
    weight: list[float]
    ece: float | None = None  # expected calibration error, 2-fold cross-fitted on the held-in facts
    curve: list[dict] = field(default_factory=list)  # reliability points of the cross-fitted probabilities
    confidence: float = 0.0  # > 0: the held-in precision's Wilson lower bound at this level must pass

    def _cumulative(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities, and at each: held-in precision and support (facts counted by weight:
        a down-weighted planted fact is a fraction of evidence) of the facts at or above it."""
        p, y, w = (np.asarray(v, dtype=float) for v in (self.probability, self.right, self.weight))
        return p, np.cumsum(w * y) / np.maximum(np.cumsum(w), 1e-12), np.cumsum(w), np.cumsum(w * y)

    def _passing(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities, and at each: the precision a gate there is judged by (the point estimate,
        or its lower bound at `confidence`), and the support; only at the end of a run of ties."""
        p, precision, kept, _ = self._cumulative()
        judged = wilson_lower(precision, kept, self.confidence) if self.confidence else precision
        last = np.r_[p[1:] < p[:-1], True] if len(p) else np.zeros(0, bool)  # end of a run of ties
        return p[last], judged[last], kept[last]

    def threshold(self, target: float, min_support: int = MIN_SUPPORT) -> float | None:
        """The lowest calibrated probability whose held-in precision (or its lower bound) reaches
        `target` over at least `min_support` facts, by weight (tied probabilities pass together);
        None when none does."""
        p, judged, kept = self._passing()
        ok = np.flatnonzero((judged >= target - 1e-12) & (kept >= min_support))
        return float(p[ok[-1]]) if len(ok) else None

    def best_precision(self, min_support: int = MIN_SUPPORT) -> float | None:
        """The highest held-in precision (or its lower bound) over at least `min_support` facts:
        what the group can reach."""
        _, judged, kept = self._passing()
        ok = kept >= min_support
        return float(judged[ok].max()) if ok.any() else None

    def at(self, threshold: float | None) -> dict[str, float | None]:
        """Held-in precision and recall (share of the right facts kept) at `threshold`."""
        p, y, w = (np.asarray(v, dtype=float) for v in (self.probability, self.right, self.weight))
        keep = p >= threshold if threshold is not None else np.zeros(len(p), bool)
        right = float((w * y).sum())
        return {"precision": float((w * y)[keep].sum() / w[keep].sum()) if keep.any() else None,
                "recall": float((w * y)[keep].sum() / right) if right else None, "kept": int(keep.sum())}

    def to_json(self) -> dict:
        return {"calibrator": self.calibrator.to_json(), "probability": [round(v, 5) for v in self.probability],
                "right": [int(v) for v in self.right], "weight": [round(v, 5) for v in self.weight],
                "ece": self.ece, "curve": self.curve, "confidence": self.confidence}

    @classmethod
    def from_json(cls, d: dict) -> "GroupGate":
        return cls(Calibrator.from_json(d["calibrator"]), d["probability"], d["right"], d["weight"], d.get("ece"),
                   d.get("curve", []), d.get("confidence", 0.0))


@dataclass
class Gate:
    """Per-group gates of one stage; a group never seen on held-in data takes OTHER's, if any."""

    groups: dict[str, GroupGate] = field(default_factory=dict)

    @classmethod
    def fit(cls, scores, right, groups, weights=None, min_group: int = MIN_GROUP, confidence: float = 0.0) -> "Gate":
        """Calibrate each group with at least `min_group` held-in facts on its own, and the rest
        pooled as OTHER (attributes, of which a catalogue has many rare ones; a stage's few
        kinds of fact differ too much to pool: they pass `min_group=1`). `confidence`: see the
        module's docstring."""
        s = np.asarray(scores, dtype=float)
        y = np.asarray(right).astype(int)
        w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=float)
        g = np.asarray(list(groups), dtype=object)
        sizes = Counter(g.tolist())
        names = np.array([x if sizes[x] >= min_group else OTHER for x in g.tolist()], dtype=object)
        gate = cls()
        for name in sorted(set(names.tolist())):
            idx = np.flatnonzero(names == name)
            gate.groups[name] = fit_group(s[idx], y[idx], w[idx])
            gate.groups[name].confidence = confidence
        return gate

    def key(self, group: str) -> str | None:
        return group if group in self.groups else OTHER if OTHER in self.groups else None

    def probability(self, group: str, scores) -> np.ndarray:
        """Calibrated P(right) of raw `scores` of `group` (zeros for a group without held-in data)."""
        k = self.key(group)
        return self.groups[k].calibrator(scores) if k else np.zeros(len(np.atleast_1d(scores)))

    def threshold(self, group: str, target: float, min_support: int = MIN_SUPPORT) -> float | None:
        k = self.key(group)
        return self.groups[k].threshold(target, min_support) if k else None

    def apply(self, groups, scores, target: float) -> tuple[np.ndarray, np.ndarray, dict[str, dict]]:
        """Calibrated P(right) of candidate facts (raw `scores` of `groups`), whether each passes,
        and per gate what the run did. A gate is its held-in one at `target`, raised where the
        run's own candidates need it so that the mean calibrated probability of what passes (the
        precision to expect from this run) reaches `target` too: held-in precision above a gate
        counts held-in facts, mostly confident ones, while a run's candidates may crowd just above
        the gate (measured: relation decisions on the demo at a mean 0.71 behind a held-in 0.93)."""
        g = np.asarray(list(groups), dtype=object)
        s = np.asarray(scores, dtype=float)
        p, ok, runs = np.zeros(len(s)), np.zeros(len(s), bool), {}
        keys = np.array([self.key(x) or "" for x in g.tolist()], dtype=object)
        for key in sorted(set(keys.tolist())):
            idx = np.flatnonzero(keys == key)
            p[idx] = self.groups[key].calibrator(s[idx]) if key else 0.0
            held = self.groups[key].threshold(target) if key else None
            t = max(held, expected_threshold(p[idx], target)) if held is not None else None
            ok[idx] = p[idx] >= t if t is not None else False
            runs[key] = {"run gate": t, "candidates": len(idx), "emitted": int(ok[idx].sum()),
                         "expected precision": float(p[idx][ok[idx]].mean()) if ok[idx].any() else None}
        return p, ok, runs

    def table(self, target: float, runs: dict[str, dict] | None = None) -> list[dict]:
        """Per group: held-in facts, best held-in precision, the gate at `target` and the held-in
        precision and recall there, and (from a run, `apply`'s) the run's gate, the candidate
        facts emitted and withheld and their expected precision."""
        rows = []
        for name, gg in sorted(self.groups.items()):
            t = gg.threshold(target)
            at = gg.at(t)
            row = {"group": name, "held-in facts": len(gg.probability), "best held-in precision": gg.best_precision(),
                   "gate": t, "held-in precision": at["precision"], "held-in recall": at["recall"], "ECE": gg.ece,
                   "decision": "emitted" if t is not None else "withheld"}
            if runs is not None:
                run = runs.get(name, {})
                row.update({"run gate": run.get("run gate", t), "facts emitted": run.get("emitted", 0),
                            "facts withheld": run.get("candidates", 0) - run.get("emitted", 0),
                            "expected precision": run.get("expected precision")})
            rows.append(row)
        return rows

    def to_json(self) -> dict:
        return {name: gg.to_json() for name, gg in self.groups.items()}

    @classmethod
    def from_json(cls, d: dict) -> "Gate":
        return cls({name: GroupGate.from_json(v) for name, v in d.items()})


def expected_threshold(probabilities, target: float) -> float:
    """The lowest probability at which the facts at or above it have a mean probability of at
    least `target` (ties pass together); above every probability when none does.

    >>> expected_threshold([0.99, 0.95, 0.8, 0.6, 0.3], 0.9)
    0.8
    """
    p = np.sort(np.asarray(probabilities, dtype=float))[::-1]
    if not len(p):
        return 0.0
    mean = np.cumsum(p) / np.arange(1, len(p) + 1)
    last = np.r_[p[1:] < p[:-1], True]
    ok = np.flatnonzero(last & (mean >= target - 1e-12))
    return float(p[ok[-1]]) if len(ok) else float(p[0]) + 1e-9


def wilson_lower(precision, support, confidence: float):
    """One-sided Wilson lower bound, at `confidence`, of a precision measured over `support` facts.

    >>> round(float(wilson_lower(1.0, 30, 0.9)), 3), round(float(wilson_lower(0.9, 300, 0.9)), 3)
    (0.948, 0.876)
    """
    z = NormalDist().inv_cdf(confidence)
    p, n = np.asarray(precision, dtype=float), np.maximum(np.asarray(support, dtype=float), 1e-12)
    return (p + z * z / (2 * n) - z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)


def fit_group(s: np.ndarray, y: np.ndarray, w: np.ndarray) -> GroupGate:
    """The group's calibrator on all its held-in facts, and its calibration error measured 2-fold
    (each half calibrated on the other), so the error is not the fit's own."""
    calibrator = Calibrator.fit(s, y, weights=w)
    p = calibrator(s)
    order = np.argsort(-p, kind="stable")
    ece, curve = None, []
    if len(s) >= 20:
        fold = np.arange(len(s)) % 2 == 0
        crossed = np.empty(len(s))
        for half in (fold, ~fold):
            crossed[half] = Calibrator.fit(s[~half], y[~half], weights=w[~half])(s[half])
        ece = expected_calibration_error(crossed, y, weights=w)
        curve = reliability(crossed, y, weights=w)
    return GroupGate(calibrator, p[order].tolist(), y[order].tolist(), w[order].tolist(), ece, curve)
