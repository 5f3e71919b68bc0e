"""Type links read in context, as people judged earlier links.

The synonym classifier reads two names. Its gold pairs are one term's own names, which share
one place in one taxonomy, so it never learns how two taxonomies' places and products bear on a
link. People's verdicts on the links earlier model versions added do (`audited_triples`): a
logistic regression reads the classifier's logit beside the two types' names, their paths from
the root, their parents' paths and the products typed in both taxonomies (does each side hold
the other's products?). Fitted on the demo's audits of model 0.4.0, one audit scoring the other,
it ranks people's verdicts at ROC-AUC 0.93 and 0.97 against 0.89 and 0.93 for the classifier.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Callable

import numpy as np

from ..view import TaxonomyView

__all__ = ["CONTEXT", "MIN_AUDITED", "LinkContext", "TypePlaces"]

CONTEXT = ("name cosine", "same name", "path cosine", "parents' path cosine", "a side without parent",
           "products held both ways (least)", "products held both ways (most)", "products typed in both")
MIN_AUDITED = 100  # verdicts a context model needs, else links are read by their names alone
CONTEXT_FILE = "context.json"


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-9)


def _singular(name: str) -> str:
    name = " ".join(name.lower().split())
    return name[:-1] if name.endswith("s") else name


class TypePlaces:
    """Where each type sits: its name, its path from the root as the taxonomies state it (through
    the parent whose IRI sorts first, as an audit sheet draws it), and the products typed with it
    or with a type below it, runs' typings included (a product a run typed in two taxonomies is
    the evidence that they overlap)."""

    def __init__(self, label: Callable[[str], str], curated_parents: dict[str, set[str]], scheme: dict[str, str],
                 type_products: dict[str, set[str]]):
        terms = set(scheme) | set(curated_parents) | {p for ps in curated_parents.values() for p in ps}
        self.view = TaxonomyView({t: label(t) for t in terms}, curated_parents, scheme)
        self.label, self.scheme = label, scheme
        self.below: dict[str, set[str]] = defaultdict(set)  # type -> products typed with it or a type below it
        self.product_schemes: dict[str, set[str]] = defaultdict(set)
        for t, products in type_products.items():
            for u in self.view.ancestors(t) | {t}:
                self.below[u] |= products
            for p in products:
                self.product_schemes[p].add(scheme.get(t, ""))

    def first_parent(self, t: str) -> str | None:
        return min(self.view.parents[t]) if self.view.parents.get(t) else None

    def path(self, t: str) -> str:
        return " > ".join(self.view.path_names(t))

    def share_held(self, a: str, b: str) -> float | None:
        """Of a's products typed in b's taxonomy at all, the share typed with b or below it."""
        typed = [p for p in self.below.get(a, ()) if self.scheme.get(b) in self.product_schemes[p]]
        return sum(p in self.below.get(b, ()) for p in typed) / len(typed) if typed else None

    def features(self, pairs: list[tuple[str, str]], embed: Callable) -> np.ndarray:
        """CONTEXT features of each (a, b) type pair."""
        if not pairs:
            return np.zeros((0, len(CONTEXT)))
        terms = sorted({t for pair in pairs for t in pair})
        parents = sorted({p for p in map(self.first_parent, terms) if p is not None})
        row = {t: i for i, t in enumerate(terms)}
        prow = {t: i for i, t in enumerate(parents)}
        names = _unit(embed([self.label(t) for t in terms]))
        paths = _unit(embed([self.path(t) for t in terms]))
        ppaths = _unit(embed([self.path(t) for t in parents])) if parents else np.zeros((0, names.shape[1]))
        out = []
        for a, b in pairs:
            i, j = row[a], row[b]
            pa, pb = self.first_parent(a), self.first_parent(b)
            both = pa is not None and pb is not None
            held = [h for h in (self.share_held(a, b), self.share_held(b, a)) if h is not None]
            out.append([float(names[i] @ names[j]), float(_singular(self.label(a)) == _singular(self.label(b))),
                        float(paths[i] @ paths[j]), float(ppaths[prow[pa]] @ ppaths[prow[pb]]) if both else 0.0,
                        float(not both), min(held) if held else 0.0, max(held) if held else 0.0, float(bool(held))])
        return np.array(out)


class LinkContext:
    """A logistic regression over the classifier's logit and the CONTEXT features, fitted on
    people's verdicts: a link is right when most of its annotators found it right, and weighs as
    many facts of its run as its sample stratum stands for."""

    def __init__(self, coef: list[float], intercept: float):
        self.coef, self.intercept = coef, intercept

    @staticmethod
    def inputs(raw: np.ndarray, features: np.ndarray) -> np.ndarray:
        raw = np.clip(np.asarray(raw, dtype=float), 1e-3, 1 - 1e-3)
        return np.column_stack([np.log(raw / (1 - raw)), features])

    @classmethod
    def fit(cls, raw: np.ndarray, features: np.ndarray, right: np.ndarray, weight: np.ndarray) -> "LinkContext | None":
        """None with fewer than MIN_AUDITED verdicts or only one kind of verdict."""
        from sklearn.linear_model import LogisticRegression

        y = (np.asarray(right) > 0.5).astype(int)
        if len(y) < MIN_AUDITED or len(set(y.tolist())) < 2:
            return None
        model = LogisticRegression(C=1.0, max_iter=1000).fit(cls.inputs(raw, features), y, sample_weight=weight)
        return cls([float(c) for c in model.coef_[0]], float(model.intercept_[0]))

    def score(self, raw: np.ndarray, features: np.ndarray) -> np.ndarray:
        z = self.inputs(raw, features) @ np.array(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, folder: Path) -> None:
        (folder / CONTEXT_FILE).write_text(json.dumps({"features": ["classifier logit", *CONTEXT], "coef": self.coef,
                                                       "intercept": self.intercept}, indent=1))

    @classmethod
    def load(cls, folder: Path) -> "LinkContext | None":
        f = folder / CONTEXT_FILE
        if not f.is_file():
            return None
        d = json.loads(f.read_text())
        if d["features"] != ["classifier logit", *CONTEXT]:
            raise ValueError(f"{f}: saved for other context features; train the synonyms stage again")
        return cls(d["coef"], d["intercept"])
