"""Scores of a binary decision that every stage and evaluation shares: ranking quality, the
operating points a stage picks on held-in data, and precision and recall at a threshold.

One definition each, so a threshold picked in a stage's `fit` and the figure its evaluation
prints mean the same thing. `y` is 1 (or True) for the positive class; `s` is a score, higher
meaning more likely positive; a fact is accepted when its score is at or above the threshold.
"""

from __future__ import annotations

import numpy as np

__all__ = ["roc_auc", "average_precision", "best_f1_threshold", "precision_threshold", "at_threshold"]


def _arrays(y, s) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(y).astype(int), np.asarray(s, dtype=float)


def roc_auc(y, s) -> float | None:
    """ROC-AUC, or None when only one class is present (it is undefined then).

    >>> roc_auc([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.3]), roc_auc([1, 1], [0.2, 0.3])
    (1.0, None)
    """
    from sklearn.metrics import roc_auc_score

    y, s = _arrays(y, s)
    return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None


def average_precision(y, s) -> float | None:
    """Area under the precision-recall curve (average precision), or None without positives or
    without negatives."""
    from sklearn.metrics import average_precision_score

    y, s = _arrays(y, s)
    return float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else None


def best_f1_threshold(y, s) -> float:
    """The score threshold with the best F1 on (y, s): a held-in operating point (0.5 when there
    is nothing to choose from). Tied scores are accepted or refused together.

    >>> best_f1_threshold([1, 1, 0, 0], [0.9, 0.8, 0.3, 0.1])
    0.8
    """
    from sklearn.metrics import precision_recall_curve

    y, s = _arrays(y, s)
    if not y.any():
        return 0.5
    prec, rec, thr = precision_recall_curve(y, s)
    f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
    return float(thr[int(np.argmax(f1[:-1]))]) if len(thr) else 0.5


def precision_threshold(y, s, target: float) -> float:
    """The lowest score threshold whose precision on (y, s) reaches `target`; above every score
    (nothing accepted) when none does. Tied scores are accepted or refused together.

    >>> precision_threshold([1, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.6, 0.1], 0.75)
    0.6
    >>> precision_threshold([0, 1], [0.9, 0.1], 0.9) > 0.9
    True
    """
    from sklearn.metrics import precision_recall_curve

    y, s = _arrays(y, s)
    if not len(s):
        return 1.0
    if not y.any():
        return float(np.max(s)) + 1e-6
    prec, _, thr = precision_recall_curve(y, s)
    ok = [float(t) for p, t in zip(prec[:-1], thr) if p >= target]
    return min(ok) if ok else float(np.max(s)) + 1e-6


def at_threshold(y, s, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of accepting scores at or above `threshold`, and the share
    accepted (precision is 0 when nothing is accepted).

    >>> at_threshold([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1], 0.5)["precision"]
    0.5
    """
    y, s = _arrays(y, s)
    accept = s >= threshold
    tp = int((accept & (y == 1)).sum())
    p = tp / max(1, int(accept.sum()))
    r = tp / max(1, int((y == 1).sum()))
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "accepted": float(accept.mean()) if len(s) else 0.0}
