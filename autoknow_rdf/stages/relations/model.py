"""Relation discovery: does an attribute apply to a product type, and how much do buyers care?

Features of a pair (type t, attribute a), computed from everything except t's own labels, so
that a type with no labels yet (a hidden leaf, a type the taxonomy stage just found) looks
exactly like a training example:
  parent_has         a is declared for one of t's parents
  grandparent_has    ... for one of its grandparents
  sibling_share      share of t's labelled siblings that declare a
  siblings           log(1 + labelled siblings)
  knn_share          similarity-weighted share of the 10 labelled types whose names are
                     nearest t's (MiniLM) that declare a
  knn_top1           whether the nearest one declares a
  prior              share of labelled types in t's vertical (root) that declare a
  name_cos           cosine of the names of t and a
  title_value_share  share of t's product titles that contain a known value of a
  filled_share       share of t's products with a value of a in the catalogue
  buyer_share        share of all buyer texts (queries, questions) naming a or its values
  has_products       whether t has products
A gradient-boosted tree classifier (the paper used random forests over such frequencies) turns
them into a probability; `structure=False` drops the first four, as for a type known only by
its name, products and text. The importance regressor learns, from the same features, the share
of buyer texts about t that mention a, so it can be predicted for types no buyer wrote about.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...ml.metrics import best_f1_threshold
from ..view import TaxonomyView, words

__all__ = ["RelationView", "ApplicabilityModel", "FEATURES", "STRUCTURE", "mentions", "buyer_targets"]

FEATURES = ("parent_has", "grandparent_has", "sibling_share", "siblings", "knn_share", "knn_top1", "prior",
            "name_cos", "title_value_share", "filled_share", "buyer_share", "has_products")
STRUCTURE = ("parent_has", "grandparent_has", "sibling_share", "siblings")
MAX_TITLES = 50


def has_relatives(X: np.ndarray) -> np.ndarray:
    """Per feature row: whether the type's parent, grandparent or siblings say anything (a type
    of a taxonomy without labelled applicability, such as Open Food Facts' or a new one, is
    decided by its nearest labelled types alone, and is gated apart)."""
    cols = [FEATURES.index(f) for f in STRUCTURE]
    return (X[:, cols] != 0).any(axis=1) if len(X) else np.zeros(0, bool)


@dataclass
class RelationView:
    """Everything relation discovery reads, as plain data."""

    taxonomy: TaxonomyView  # names, parents, schemes, product titles per type
    attributes: dict[str, str]  # attribute -> name
    values: dict[str, set[str]] = field(default_factory=dict)  # attribute -> value names (lower case)
    labels: dict[str, set[str]] = field(default_factory=dict)  # type -> attributes declared applicable
    filled: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> attribute -> products with a value
    products: dict[str, int] = field(default_factory=dict)  # type -> products
    buyer_texts: list[str] = field(default_factory=list)

    def without_labels(self, types: set[str]) -> "RelationView":
        """The view with the labels of `types` removed (hidden types for evaluation)."""
        labels = {t: a for t, a in self.labels.items() if t not in types}
        return RelationView(self.taxonomy, self.attributes, self.values, labels, self.filled, self.products,
                            self.buyer_texts)


def _grams(text: str, n: int = 3) -> set[str]:
    ws = words(text)
    return {" ".join(ws[i:i + k]) for k in range(1, n + 1) for i in range(len(ws) - k + 1)}


def gram_index(vocab: dict[str, set[str]]) -> dict[str, list[int]]:
    """Normalised value phrase -> columns (attributes, in `vocab` order) it names."""
    index: dict[str, list[int]] = {}
    for j, a in enumerate(vocab):
        for v in vocab[a]:
            g = " ".join(words(v))
            if len(g) >= 3:
                index.setdefault(g, []).append(j)
    return index


def mentions(texts: list[str], vocab: dict[str, set[str]], index: dict[str, list[int]] | None = None) -> np.ndarray:
    """texts × attributes: whether a text names the attribute or one of its values.

    >>> mentions(["dark roast coffee", "red shoes"], {"roast": {"roast", "dark roast"}, "color": {"red"}}).tolist()
    [[True, False], [False, True]]
    """
    index = gram_index(vocab) if index is None else index
    out = np.zeros((len(texts), len(vocab)), dtype=bool)
    for i, t in enumerate(texts):
        for g in _grams(t):
            for j in index.get(g, ()):
                out[i, j] = True
    return out


def buyer_targets(view: RelationView, attrs: list[str], min_texts: int = 5) -> dict[str, np.ndarray]:
    """Per type with at least `min_texts` buyer texts about it (its name's head word occurs in
    them): the share of those texts that mention each attribute — the importance target."""
    vocab = {a: view.values.get(a, set()) | {view.attributes[a].lower()} for a in attrs}
    M = mentions(view.buyer_texts, vocab)
    text_words = [set(words(t)) for t in view.buyer_texts]
    out = {}
    for t, name in view.taxonomy.names.items():
        ws = words(name.split(",")[0])
        if not ws:
            continue
        about = [i for i, tw in enumerate(text_words) if ws[-1] in tw]
        if len(about) >= min_texts:
            out[t] = M[about].mean(0)
    return out


class _Features:
    """Label matrices, name embeddings and per-attribute vocabularies, built once per view."""

    def __init__(self, view: RelationView, embed, extra_types: list[str] = ()):
        tax = view.taxonomy
        self.view = view
        self.attrs = sorted(view.attributes)
        self.aix = {a: i for i, a in enumerate(self.attrs)}
        self.labelled = sorted(t for t in view.labels if t in tax.names)
        self.lix = {t: i for i, t in enumerate(self.labelled)}
        self.L = np.zeros((len(self.labelled), len(self.attrs)), dtype=bool)
        for t in self.labelled:
            for a in view.labels[t]:
                if a in self.aix:
                    self.L[self.lix[t], self.aix[a]] = True
        self.types = sorted(set(self.labelled) | {t for t in extra_types if t in tax.names})
        self.tix = {t: i for i, t in enumerate(self.types)}
        self.type_vec = embed([tax.names[t] for t in self.types])
        self.attr_vec = embed([view.attributes[a] for a in self.attrs])
        self.lab_vec = self.type_vec[[self.tix[t] for t in self.labelled]] if self.labelled else np.zeros((0, 1))
        self.kids = tax.children()
        self.root_of: dict[str, set[str]] = {}
        self.vertical_rows: dict[str, np.ndarray] = {}
        for t in self.labelled:
            for r in self.roots(t):
                self.vertical_rows.setdefault(r, []).append(self.lix[t])
        self.vertical_rows = {r: np.array(rows) for r, rows in self.vertical_rows.items()}
        vocab = {a: view.values.get(a, set()) for a in self.attrs}
        self.buyer = mentions(view.buyer_texts, {a: vocab[a] | {view.attributes[a].lower()} for a in self.attrs}).mean(0) \
            if view.buyer_texts else np.zeros(len(self.attrs))
        self.vocab = vocab
        self.value_index = gram_index(vocab)
        self.title_mentions: dict[str, np.ndarray] = {}

    def roots(self, t: str) -> set[str]:
        if t not in self.root_of:
            ps = self.view.taxonomy.parents.get(t, set())
            self.root_of[t] = {t} if not ps else set().union(*(self.roots(p) for p in ps))
        return self.root_of[t]

    def vertical(self, t: str) -> list[int]:
        """Label rows of the other labelled types under t's roots (its verticals)."""
        return [r for root in self.roots(t) for r in self.vertical_rows.get(root, []) if self.labelled[r] != t]

    def has(self, types, exclude: str) -> np.ndarray:
        rows = [self.lix[x] for x in types if x in self.lix and x != exclude]
        return self.L[rows] if rows else np.zeros((0, len(self.attrs)), dtype=bool)

    def candidates(self, t: str, k: int = 20) -> list[str]:
        """Attributes declared in t's vertical; for a type outside every labelled vertical, those
        of the k labelled types nearest by name."""
        rows = self.vertical(t)
        if not rows:
            rows = [self.lix[x] for x in self.nearest(t, k)]
        cols = np.flatnonzero(self.L[rows].any(0)) if rows else []
        return [self.attrs[j] for j in cols]

    def nearest(self, t: str, k: int) -> list[str]:
        if not self.labelled:
            return []
        sims = self.lab_vec @ self.type_vec[self.tix[t]]
        order = [i for i in np.argsort(-sims, kind="stable")[:k + 1] if self.labelled[i] != t]
        return [self.labelled[i] for i in order[:k]]

    def matrix(self, t: str, attrs: list[str]) -> np.ndarray:
        """Feature rows for (t, a) for a in attrs; t's own labels never enter."""
        tax, view = self.view.taxonomy, self.view
        cols = [self.aix[a] for a in attrs]
        n = len(attrs)
        parents = tax.parents.get(t, set())
        grand = set().union(*(tax.parents.get(p, set()) for p in parents)) if parents else set()
        siblings = {s for p in parents for s in self.kids.get(p, ())} - {t}
        P, G, S = self.has(parents, t), self.has(grand, t), self.has(siblings, t)
        F = np.zeros((n, len(FEATURES)), dtype=np.float32)
        F[:, 0] = P[:, cols].any(0) if len(P) else 0
        F[:, 1] = G[:, cols].any(0) if len(G) else 0
        F[:, 2] = S[:, cols].mean(0) if len(S) else 0
        F[:, 3] = np.log1p(len(S))
        near = self.nearest(t, 10)
        if near:
            sims = np.maximum(self.lab_vec[[self.lix[x] for x in near]] @ self.type_vec[self.tix[t]], 0)
            Ln = self.L[[self.lix[x] for x in near]][:, cols]
            F[:, 4] = (sims[:, None] * Ln).sum(0) / max(sims.sum(), 1e-6)
            F[:, 5] = Ln[0]
        rows = self.vertical(t)
        F[:, 6] = self.L[rows][:, cols].mean(0) if rows else 0
        F[:, 7] = self.attr_vec[cols] @ self.type_vec[self.tix[t]]
        titles = tax.titles.get(t, [])[:MAX_TITLES]
        if titles:
            if t not in self.title_mentions:
                self.title_mentions[t] = mentions(titles, self.vocab, self.value_index).mean(0)
            F[:, 8] = self.title_mentions[t][cols]
        count = view.products.get(t, 0)
        if count:
            F[:, 9] = [view.filled.get(t, {}).get(a, 0) / count for a in attrs]
        F[:, 10] = self.buyer[cols]
        F[:, 11] = float(bool(count or titles))
        return F


class ApplicabilityModel:
    """Gradient-boosted trees over pair features: applicability probability and importance."""

    def __init__(self, structure: bool = True, seed: int = 0, max_types: int = 2500):
        self.structure, self.seed, self.max_types = structure, seed, max_types
        self.threshold_: float = 0.5
        self._f: _Features | None = None

    @property
    def columns(self) -> list[int]:
        return [i for i, n in enumerate(FEATURES) if self.structure or n not in STRUCTURE]

    def prepare(self, view: RelationView, embed, extra_types: list[str] = ()) -> None:
        """Embed the labelled types' names (and `extra_types`', to be predicted) once."""
        self._f = _Features(view, embed, extra_types)

    def share_features(self, other: "ApplicabilityModel") -> None:
        self._f = other._f

    def candidates(self, t: str) -> list[str]:
        return self._f.candidates(t)

    def features(self, t: str, attrs: list[str]) -> np.ndarray:
        return self._f.matrix(t, attrs)

    def _pairs(self, types: list[str]) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
        X, y, keys = [], [], []
        for t in types:
            attrs = self.candidates(t)
            if not attrs:
                continue
            X.append(self.features(t, attrs))
            gold = self._f.view.labels.get(t, set())
            y += [a in gold for a in attrs]
            keys += [(t, a) for a in attrs]
        return (np.vstack(X) if X else np.zeros((0, len(FEATURES)))), np.array(y, dtype=bool), keys

    def fit(self, types: list[str], calibration: list[str]) -> "ApplicabilityModel":
        """Train on labelled `types` (a deterministic sample of at most `max_types`) and set the
        threshold that maximises F1 on the labelled `calibration` types."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        from ...splits import bucket

        types = sorted(types, key=lambda t: bucket("sample" + t, 10**6))[: self.max_types]
        X, y, _ = self._pairs(types)
        self.clf_ = None
        if len(set(y.tolist())) < 2:  # a store without applicability labels of both kinds: nothing to learn
            self.held_ = (np.zeros(0, bool), np.zeros(0), np.zeros(0, bool))
            return self
        self.clf_ = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=self.seed)
        self.clf_.fit(X[:, self.columns], y)
        Xc, yc, _ = self._pairs(calibration)
        p = self.clf_.predict_proba(Xc[:, self.columns])[:, 1] if len(yc) else np.zeros(0)
        if yc.any():
            self.threshold_ = best_f1_threshold(yc, p)
        # held-in labels, probabilities and whether the type has labelled relatives: what the stage's gates are fitted on
        self.held_ = (yc, p, has_relatives(Xc))
        return self

    def fit_importance(self, targets: dict[str, np.ndarray]) -> "ApplicabilityModel":
        """Regress the buyer-mention share of each candidate attribute of the types that have
        buyer texts, from the same features (never from the buyer texts about the type)."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        X, y = [], []
        for t, share in targets.items():
            attrs = self.candidates(t) if t in self._f.tix else []
            if attrs:
                X.append(self.features(t, attrs))
                y += [share[self._f.aix[a]] for a in attrs]
        self.reg_ = None
        if X:
            self.reg_ = HistGradientBoostingRegressor(max_iter=150, random_state=self.seed)
            self.reg_.fit(np.vstack(X), np.array(y))
        return self

    def predict(self, t: str, attrs: list[str] | None = None) -> list[tuple[str, float, float, np.ndarray]]:
        """(attribute, probability, importance, features) for t's candidates, most probable first."""
        attrs = self.candidates(t) if attrs is None else attrs
        if not attrs or self.clf_ is None:
            return []
        F = self.features(t, attrs)
        prob = self.clf_.predict_proba(F[:, self.columns])[:, 1]
        imp = np.clip(self.reg_.predict(F), 0, 1) if getattr(self, "reg_", None) is not None else np.zeros(len(attrs))
        order = np.argsort(-prob, kind="stable")
        return [(attrs[i], float(prob[i]), float(imp[i]), F[i]) for i in order]

    # ---- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Pickle the fitted trees and threshold."""
        folder.mkdir(parents=True, exist_ok=True)
        state = {"structure": self.structure, "seed": self.seed, "threshold": self.threshold_,
                 "clf": self.clf_, "reg": getattr(self, "reg_", None)}
        (folder / "applicability.pkl").write_bytes(pickle.dumps(state))

    @classmethod
    def load(cls, folder: Path) -> "ApplicabilityModel":
        state = pickle.loads((folder / "applicability.pkl").read_bytes())
        m = cls(state["structure"], state["seed"])
        m.threshold_, m.clf_, m.reg_ = state["threshold"], state["clf"], state["reg"]
        return m
