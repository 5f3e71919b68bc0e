"""Implicit values (ImplicitAVE): a classifier over an attribute's allowed values, for values the
text implies but does not write ("Lilies Womens Semi-Sheer T-Shirt" → neckline: scoop neck).

One multinomial logistic regression per attribute over frozen MiniLM vectors of the title and,
when `conditioned`, of the product type's name: a tagger cannot find what is not a span.
"""

from __future__ import annotations


import numpy as np

from ...ml.labelled import ImplicitExample

__all__ = ["ImplicitExample", "ImplicitValueClassifier"]



class ImplicitValueClassifier:
    """Pick an attribute's value among its options from the title (and the type)."""

    def __init__(self, conditioned: bool = True, c: float = 2.0, seed: int = 0):
        self.conditioned, self.c, self.seed = conditioned, c, seed

    def _features(self, examples: list[ImplicitExample], embed) -> np.ndarray:
        titles = embed([e.title for e in examples])
        if not self.conditioned:
            return titles
        names = sorted({e.type_name for e in examples})
        vec = dict(zip(names, embed(names)))
        return np.hstack([titles, np.stack([vec[e.type_name] for e in examples])])

    def fit(self, examples: list[ImplicitExample], embed, features: np.ndarray | None = None) -> "ImplicitValueClassifier":
        from sklearn.linear_model import LogisticRegression

        X = self._features(examples, embed) if features is None else features
        self.models_ = {}
        by_attr: dict[str, list[int]] = {}
        for i, e in enumerate(examples):
            by_attr.setdefault(e.attribute, []).append(i)
        for a, idx in sorted(by_attr.items()):
            y = [examples[i].value for i in idx]
            if len(set(y)) == 1:
                self.models_[a] = y[0]
                continue
            self.models_[a] = LogisticRegression(C=self.c, max_iter=300, random_state=self.seed).fit(X[idx], y)
        return self

    def predict(self, examples: list[ImplicitExample], embed, features: np.ndarray | None = None) -> list[tuple[str | None, float]]:
        """(value, probability) per example; None for an attribute never trained on."""
        X = self._features(examples, embed) if features is None else features
        out: list[tuple[str | None, float]] = [(None, 0.0)] * len(examples)
        by_attr: dict[str, list[int]] = {}
        for i, e in enumerate(examples):
            by_attr.setdefault(e.attribute, []).append(i)
        for a, idx in by_attr.items():
            m = self.models_.get(a)
            if m is None:
                continue
            if isinstance(m, str):
                for i in idx:
                    out[i] = (m, 1.0)
                continue
            p = m.predict_proba(X[idx])
            for i, row in zip(idx, p):
                out[i] = (m.classes_[row.argmax()], float(row.max()))
        return out
