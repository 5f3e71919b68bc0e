"""Out-of-fold scores: what a gate fitted on people's verdicts must read.

A model scored on the verdicts it was fitted on looks better than it is, and a gate drawn
through those scores passes too much. Each verdict is scored instead by a model fitted without
its fold (synonyms' type links and imputation's values both gate so).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["out_of_fold"]


def out_of_fold(folds: np.ndarray, n_folds: int, fit: Callable[[np.ndarray], Any],
                score: Callable[[Any, np.ndarray], np.ndarray]) -> np.ndarray | None:
    """Each row's score by `score(model, rows)` of the model `fit(rows)` fitted on the other
    folds' rows (`rows`: a boolean mask); None as soon as a fold's model cannot be fitted (`fit`
    returned None).

    >>> folds = np.array([0, 1, 0, 1])
    >>> out_of_fold(folds, 2, lambda rows: rows.sum(), lambda m, rows: np.full(rows.sum(), m)).tolist()
    [2.0, 2.0, 2.0, 2.0]
    >>> out_of_fold(folds, 2, lambda rows: None, lambda m, rows: rows) is None
    True
    """
    scores = np.zeros(len(folds))
    for k in range(n_folds):
        out = folds == k
        model = fit(~out)
        if model is None:
            return None
        scores[out] = score(model, out)
    return scores
