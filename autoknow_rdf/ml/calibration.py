"""Calibrated confidence: a map from a model's raw score to the probability that a fact with that
score is right, fitted on held-in data the model was not trained on, and the scores that say how
well it fits.

Isotonic regression (monotone, no shape assumed) where there are enough held-in labels, Platt
scaling (a logistic curve on the score) below that, since isotonic steps overfit a few dozen
points. The calibrator is plain JSON, so a model folder's checksum covers it like any file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Calibrator", "expected_calibration_error", "reliability"]

MIN_ISOTONIC = 200  # held-in labels below which the calibrator is Platt's logistic curve
PRIOR_WEIGHT = 2.0  # pseudo-facts at the overall rate that each isotonic step is shrunk toward


@dataclass
class Calibrator:
    """P(right | score): piecewise-linear through isotonic knots, or a logistic curve."""

    method: str = "identity"  # "isotonic", "platt" or "identity" (no labels: scores pass through)
    knots_x: list[float] = field(default_factory=list)
    knots_y: list[float] = field(default_factory=list)
    slope: float = 1.0
    intercept: float = 0.0
    n: int = 0

    @classmethod
    def fit(cls, scores, right, min_isotonic: int = MIN_ISOTONIC, weights=None) -> "Calibrator":
        """Fit on held-in (score, whether the fact was right) pairs, each counted `weights` times
        (default once)."""
        s = np.asarray(scores, dtype=float)
        y = np.asarray(right).astype(float)
        w = np.ones(len(s)) if weights is None else np.asarray(weights, dtype=float)
        if len(s) == 0 or y.min() == y.max():
            return cls("identity", n=len(s)) if len(s) == 0 else cls("platt", slope=0.0, intercept=_logit(y.mean()), n=len(s))
        if len(s) >= min_isotonic:
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y, sample_weight=w)
            return cls("isotonic", [float(v) for v in iso.X_thresholds_], _shrunk(iso, s, w, float(np.average(y, weights=w))),
                       n=len(s))
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e4).fit(s[:, None], y.astype(int), sample_weight=w)
        return cls("platt", slope=float(lr.coef_[0, 0]), intercept=float(lr.intercept_[0]), n=len(s))

    def __call__(self, scores) -> np.ndarray:
        s = np.asarray(scores, dtype=float)
        if self.method == "isotonic":
            return np.interp(s, self.knots_x, self.knots_y)
        if self.method == "platt":
            return 1.0 / (1.0 + np.exp(-(self.slope * s + self.intercept)))
        return np.clip(s, 0.0, 1.0)

    def to_json(self) -> dict:
        return {"method": self.method, "knots_x": self.knots_x, "knots_y": self.knots_y,
                "slope": self.slope, "intercept": self.intercept, "n": self.n}

    @classmethod
    def from_json(cls, d: dict) -> "Calibrator":
        return cls(**d)


def _shrunk(iso, s: np.ndarray, w: np.ndarray, rate: float) -> list[float]:
    """Each isotonic step's rate shrunk toward the overall `rate` by PRIOR_WEIGHT pseudo-facts:
    a top step that a handful of held-in facts (or of down-weighted ones) make all right says
    1.0, which a run's many facts at that score then disprove (measured: right brands quarantined
    at P(wrong) 1.0 on the demo)."""
    fitted = iso.predict(s)
    levels = np.unique(fitted)
    mass = np.array([w[fitted == v].sum() for v in levels])
    n = mass[np.abs(levels[:, None] - iso.y_thresholds_[None, :]).argmin(axis=0)]  # each knot's step
    return [float(v) for v in (iso.y_thresholds_ * n + rate * PRIOR_WEIGHT) / (n + PRIOR_WEIGHT)]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def reliability(probabilities, right, bins: int = 10, weights=None) -> list[dict]:
    """Per equal-width probability bin: facts, mean stated probability, share right, each fact
    counted `weights` times (the points of a reliability diagram; empty bins are left out)."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(right).astype(float)
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    return [{"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "facts": int((which == b).sum()), "weight": float(w[which == b].sum()),
             "stated": float(np.average(p[which == b], weights=w[which == b])),
             "right": float(np.average(y[which == b], weights=w[which == b]))}
            for b in range(bins) if (which == b).any()]


def expected_calibration_error(probabilities, right, bins: int = 10, weights=None) -> float:
    """Mean |stated probability - share right| over equal-width bins, weighted by their facts.

    >>> expected_calibration_error([0.9, 0.9, 0.1, 0.1], [1, 1, 0, 0])
    0.1
    """
    rows = reliability(probabilities, right, bins, weights)
    total = sum(r["weight"] for r in rows)
    return round(sum(r["weight"] * abs(r["stated"] - r["right"]) for r in rows) / total, 12) if total else 0.0
