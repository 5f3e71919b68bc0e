"""Gates fitted where the facts are: on people's judgements of what a model's runs added.

Held-in labels drawn by a training heuristic (a name found in a title) measure agreement with
the heuristic; an audit measures truth on the candidates a run really makes. Per kind of fact,
an `AuditGate` maps the held-in probability a fact was written with (its `ak:confidence`) to the
audited P(right) (isotonic, weighted by each fact's sample weight) and keeps the judged facts,
so the gate for any target is drawn when the stage runs, as `Gate` does for held-in facts: the
lowest audited probability whose judged facts at or above it reach the target at the one-sided
Wilson lower bound (`AUDIT_CONFIDENCE`), over at least `MIN_SUPPORT` judged facts (their
effective number: a stratified sample's facts weigh unequally). Its honest
precision is `crossfit`: each half of the judged facts is judged at the gate fitted on the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import Calibrator
from .gate import MIN_SUPPORT, expected_threshold, wilson_lower

__all__ = ["AUDIT_CONFIDENCE", "AuditGate", "fit_audit_gate", "latest", "by_fact", "audit_gates", "audit_gate_rows", "from_rows"]

AUDIT_CONFIDENCE = 0.9


@dataclass
class AuditGate:
    """One kind's audited calibration and gate, and the judged facts it was fitted on: their
    held-in probabilities, audited rightness (the share of their annotators who found them
    right) and sample weights."""

    kind: str
    calibrator: Calibrator
    judged: int  # facts with a verdict
    samples: str  # the audit samples' names
    confidence: np.ndarray
    right: np.ndarray
    weight: np.ndarray
    other_training: bool = False  # judged on another training of the same model name and version

    def probability(self, held_in) -> np.ndarray:
        """Audited P(right) of facts with held-in probabilities `held_in`."""
        return self.calibrator(np.asarray(held_in, dtype=float))

    def _passing(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Audited probabilities (highest first, ends of runs of ties), and at each the weighted
        audited precision of the judged facts at or above it (its one-sided Wilson lower bound
        at AUDIT_CONFIDENCE) and their effective number (a stratified sample's judged facts
        weigh unequally: Kish's n = (sum w)^2 / sum w^2)."""
        q = self.probability(self.confidence)
        order = np.argsort(-q, kind="stable")
        q, y, w = q[order], self.right[order], self.weight[order]
        kept, sq = np.cumsum(w), np.cumsum(w * w)
        precision = np.cumsum(w * y) / np.maximum(kept, 1e-12)
        effective = kept * kept / np.maximum(sq, 1e-12)
        judged = wilson_lower(precision, effective, AUDIT_CONFIDENCE)
        last = np.r_[q[1:] < q[:-1], True] if len(q) else np.zeros(0, bool)
        return q[last], judged[last], effective[last]

    def threshold(self, target: float, min_support: int = MIN_SUPPORT) -> float | None:
        """The lowest audited probability whose judged facts at or above it reach `target` at
        the lower bound, over at least `min_support` effective facts; None when none does."""
        q, judged, effective = self._passing()
        ok = np.flatnonzero((judged >= target - 1e-12) & (effective >= min_support - 1e-9))
        return float(q[ok[-1]]) if len(ok) else None

    def best_precision(self, min_support: int = MIN_SUPPORT) -> float | None:
        """The highest lower bound of audited precision over at least `min_support` effective facts."""
        _, judged, effective = self._passing()
        ok = effective >= min_support - 1e-9
        return float(judged[ok].max()) if ok.any() else None

    def decide(self, held_in, target: float) -> tuple[np.ndarray, np.ndarray, float | None]:
        """Audited probabilities of a run's candidates, whether each passes, and the run's gate:
        the audited one at `target`, raised until the candidates that pass are expected (by
        their audited probability) to reach `target`; None (nothing passes) when the audit
        cannot reach it."""
        q = self.probability(held_in)
        t = self.threshold(target)
        if t is None:
            return q, np.zeros(len(q), bool), None
        t = max(t, expected_threshold(q, target))
        return q, q >= t, t

    def crossfit(self, target: float, folds: int = 2) -> dict[str, float | None]:
        """Audited precision and kept share (by weight) of judged facts at the gate, each fold
        judged at the gate fitted on the others (the gate's own facts would flatter it)."""
        idx = np.arange(len(self.confidence))
        kept_w = right_w = 0.0
        for k in range(folds):
            test = idx % folds == k
            if not test.any() or test.all():
                continue
            gate = fit_audit_gate(self.kind, self.confidence[~test], self.right[~test], self.weight[~test], self.samples)
            t = gate.threshold(target)
            if t is None:
                continue
            keep = test & (gate.probability(self.confidence) >= t)
            kept_w += float(self.weight[keep].sum())
            right_w += float((self.weight * self.right)[keep].sum())
        total = float(self.weight.sum())
        return {"precision": right_w / kept_w if kept_w else None, "kept": kept_w / total if total else None}


def fit_audit_gate(kind: str, confidence, right, weight, samples: str = "") -> AuditGate:
    """An AuditGate from judged facts: held-in `confidence`, audited `right` (the share of its
    annotators who found it right: a fact two people disagree on counts half) and sample `weight`.

    >>> g = fit_audit_gate("k", [0.9] * 40 + [0.6] * 40, [1] * 39 + [0] + [1] * 20 + [0] * 20, [1.0] * 80)
    >>> g.threshold(0.85) > 0.9, g.threshold(0.99) is None
    (True, True)
    """
    c, y, w = (np.asarray(v, dtype=float) for v in (confidence, right, weight))
    # isotonic from 50 judged facts (an audit has hundreds, not the thousands held-in data has)
    return AuditGate(kind, Calibrator.fit(c, y, min_isotonic=50, weights=w), len(c), samples, c, y, w)


def audit_gate_rows(gates: dict[str, AuditGate], target: float, runs: dict[str, dict] | None = None) -> list[dict]:
    """Gate-table rows of the audited kinds: what the gate was fitted on, the audited precision it
    can reach, the gate, its cross-fitted audited precision and what the run emitted."""
    rows = []
    for kind, g in sorted(gates.items()):
        t = g.threshold(target)
        cross = g.crossfit(target)
        run = (runs or {}).get(kind, {})
        other = "; of another training of this model: judge a fresh sample" if g.other_training else ""
        rows.append({"group": kind, "fitted on": f"audit ({g.judged} judged; {g.samples}{other})", "held-in facts": g.judged,
                     "best held-in precision": g.best_precision(), "gate": t,
                     "held-in precision": cross["precision"], "held-in recall": cross["kept"], "ECE": None,
                     "decision": "emitted" if t is not None else "withheld",
                     **({"run gate": run.get("run gate"), "facts emitted": run.get("emitted", 0),
                         "facts withheld": run.get("candidates", 0) - run.get("emitted", 0),
                         "expected precision": run.get("expected precision")} if runs is not None else {})})
    return rows


def latest(judgements: list[dict]) -> list[dict]:
    """The latest verdict of each annotator on each fact of each sample (a corrected verdict
    replaces the earlier one); rows are plain dicts of list_audit_judgements' variables."""
    kept: dict[tuple[str, str, str], dict] = {}
    for j in judgements:
        key = (j["sample"], j["fact"], j["annotator"])
        if key not in kept or j["time"] >= kept[key]["time"]:
            kept[key] = j
    return sorted(kept.values(), key=lambda r: (r["stage"], r["kind"], r["sample"], r["fact"], r["annotator"]))


def by_fact(judgements: list[dict]) -> list[dict]:
    """One row per judged fact and sample: its stage, kind, model, confidence, weight, the share
    of its verdicts that say right (None when every verdict was unsure) and the verdicts by
    annotator.

    >>> j = dict(sample="s", fact="f", stage="t", kind="k", confidence=0.7, weight=1.0, modelName="m",
    ...          modelVersion="1", modelChecksum="c", time="1")
    >>> by_fact([{**j, "annotator": "a", "verdict": "right"}, {**j, "annotator": "b", "verdict": "wrong"}])[0]["right"]
    0.5
    """
    facts: dict[tuple[str, str], dict] = {}
    for j in latest(judgements):
        f = facts.setdefault((j["sample"], j["fact"]), {k: j[k] for k in (
            "fact", "sample", "stage", "kind", "confidence", "weight", "modelName", "modelVersion", "modelChecksum")}
            | {"verdicts": {}})
        f["verdicts"][j["annotator"]] = j["verdict"]
    for f in facts.values():
        sure = [v for v in f["verdicts"].values() if v != "unsure"]
        f["right"] = sum(v == "right" for v in sure) / len(sure) if sure else None
    return list(facts.values())


def audit_gates(judgements: list[dict], model_name: str, model_version: str, checksum: str | None = None
                ) -> dict[str, AuditGate]:
    """Per kind, the gate fitted on the judged facts of this model (name and version) that have a
    confidence and a verdict other than unsure; `other_training` when none of them judged the
    model with `checksum` (a retrained model of the same configuration: judge a fresh sample)."""
    kinds: dict[str, list[dict]] = {}
    for f in by_fact(judgements):
        if (f["modelName"], f["modelVersion"]) == (model_name, model_version) and f["right"] is not None \
                and f["confidence"] is not None:
            kinds.setdefault(f["kind"], []).append(f)
    gates = {}
    for kind, fs in sorted(kinds.items()):
        gates[kind] = fit_audit_gate(kind, [f["confidence"] for f in fs], [f["right"] for f in fs], [f["weight"] for f in fs],
                                     ", ".join(sorted({f["sample"] for f in fs})))
        gates[kind].other_training = checksum is not None and all(f["modelChecksum"] != checksum for f in fs)
    return gates


def from_rows(rows: list[dict]) -> list[dict]:
    """list_audit_judgements rows (terms) as plain values, confidence and weight as floats."""
    out = []
    for r in rows:
        row = {k: (getattr(v, "value", v) if v is not None else None) for k, v in r.items()}
        row["confidence"] = float(row["confidence"]) if row["confidence"] is not None else None
        row["weight"] = float(row["weight"])
        out.append(row)
    return out
