"""Hypernym attachment, second stage: a path-aware cross-encoder re-ranks the first stage's top
candidates, and a per-taxonomy stacker turns its score and the first stage's into the ranking.

The first stage (`HypernymModel`: name, title and structure features under a small MLP) is fast
and ranks every candidate; it measured below its own name-embedding feature on Shopify. The
cross-encoder reads "child name: a few of its product titles" against each of the top
candidates' path from the root ("Food > Dairy > Cheeses", TEMP-style), trained on the training
leaves against their true parent and hard negatives: the first stage's own top mistakes, the
parent's siblings, the grandparent and types sharing the child's head word. Per taxonomy, a
logistic regression stacks the cross-encoder's logit with the first stage's probability and the
name cosine, fitted on held-in leaves; its out-of-fold accuracy@1 there is set against the first
stage's and the name embedding's, and the taxonomy uses whichever of the three ranks best, so on
held-in data the result does not fall below its baselines.

How sure a first parent is comes from a second, per-taxonomy model: a logistic regression over
the top candidate's features (its score and margin under the taxonomy's method, the first stage's,
the cross-encoder's and the name cosine's, and whether the three agree on it), cross-fitted on
the held-in leaves. A ranking score says which candidate is best, not how often the best is right:
at a gate of 0.877 on held-in leaves, Shopify's stacked score attached 0 and 35 hidden leaves
(precision 0.857) in two trainings; this confidence 48 and 78 (0.875 and 0.897). The held-in
leaves' out-of-fold confidences (first parents) and scores (further ones) are what the gates are
calibrated on.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Callable

import numpy as np

from ...ml.cross_encoder import CrossEncoder
from ...splits import bucket
from ..view import TaxonomyView, head_word
from .hypernym import FEATURES, HypernymModel

__all__ = ["PathCrossEncoder", "Reranker", "path_text", "child_text", "METHODS"]

NAME_COS = FEATURES.index("name_cos")
METHODS = ("stacked", "first stage", "name embedding")  # what a taxonomy may rank with
# columns of a child's stacker features (`Reranker._features`)
FIRST, NAME, CE, FIRST_MARGIN, NAME_MARGIN, CE_MARGIN = 0, 3, 4, 6, 7, 8
COLUMN = {"first stage": FIRST, "name embedding": NAME}  # a method that ranks by one feature
FOLDS = 5


def path_text(view: TaxonomyView, t: str, depth: int = 5) -> str:
    """A type's path from the root, root first (the first parent by IRI at each step)."""
    names, cur, seen = [view.names[t]], t, {t}
    while len(names) < depth:
        ps = sorted(p for p in view.parents.get(cur, ()) if p in view.names and p not in seen)
        if not ps:
            break
        cur = ps[0]
        seen.add(cur)
        names.append(view.names[cur])
    return " > ".join(reversed(names))


def child_text(view: TaxonomyView, t: str, titles: int = 2) -> str:
    """A type as the re-ranker reads it: its name and a few of its product titles (never its path:
    a new type has none)."""
    shown = sorted(view.titles.get(t, ()), key=lambda s: bucket(t + s))[:titles]
    return view.names[t] + (": " + "; ".join(s[:80] for s in shown) if shown else "")


class PathCrossEncoder(CrossEncoder):
    """P(the candidate is a parent | child text, candidate path) on the project's encoder."""

    CONFIG_FILE = "path_cross_encoder.json"
    FROZEN_LAYERS = 2  # the two lowest layers stay as pre-trained (CPU time; not compared with 0 yet)


class Reranker:
    """First stage, cross-encoder and per-taxonomy stackers (see the module)."""

    def __init__(self, top_k: int = 16, max_train: int | None = 1500, epochs: int = 1, negatives: int = 8,
                 seed: int = 0):
        self.top_k, self.max_train, self.epochs, self.negatives, self.seed = top_k, max_train, epochs, negatives, seed
        self.choice_: dict[str, str] = {}
        self.stackers_: dict[str, object] = {}
        self.held_in_: dict[str, dict[str, float]] = {}  # per taxonomy: out-of-fold acc@1 of each method
        self.confidences_: dict[str, object] = {}  # per taxonomy: P(the first parent is right | its features)

    # ---- training --------------------------------------------------------------------------------
    def fit(self, first: HypernymModel, view: TaxonomyView, train: list[str], calib: list[str],
            candidates_of: Callable[[str], list[str]], progress: Callable[[int], None] | None = None) -> "Reranker":
        """`first`: a fitted first stage prepared on `view` (the training view: the children's own
        links are left out of their features by the first stage itself); `train` children teach
        the cross-encoder, `calib` children (held out of both models) fit the stackers."""
        self.first_, self.view_ = first, view
        rng = np.random.default_rng(self.seed)
        picked = sorted(train, key=lambda c: bucket(f"rerank{self.seed}" + c))[: self.max_train]
        kids = view.children()
        firsts, seconds, labels = [], [], []
        for c in picked:
            gold = view.parents.get(c, set()) & set(candidates_of(c))
            if not gold:
                continue
            top = [p for p, _, _ in first.rank(c, candidates_of(c), limit=self.top_k) if p not in gold]
            related = set()
            for g in gold:
                for gp in view.parents.get(g, ()):
                    related.add(gp)  # the grandparent
                    related |= kids.get(gp, set())  # the parent's siblings
            head = head_word(view.names[c])
            pool = set(candidates_of(c))
            related |= {p for p in pool if head and head_word(view.names[p]) == head}
            related = sorted((related & pool) - gold - {c} - set(top))
            extra = [related[i] for i in rng.permutation(len(related))[: max(2, self.negatives // 3)]]
            negatives = top[: self.negatives] + extra
            for p in sorted(gold) + negatives:
                firsts.append(child_text(view, c))
                seconds.append(path_text(view, p))
                labels.append(int(p in gold))
        self.encoder_ = PathCrossEncoder(epochs=self.epochs, max_length=96, seed=self.seed)
        self.encoder_.fit_texts(firsts, seconds, labels, progress=progress)
        self.pairs_ = len(labels)
        self._fit_stackers(calib, candidates_of)
        return self

    def _features(self, children: list[str], candidates_of, ranked: dict | None = None) -> list[tuple[str, list[str], np.ndarray]]:
        """Per child: its top candidates and their stacker features (first-stage probability and
        rank, name cosine, cross-encoder logit and rank, and each score's margin over the best
        other candidate: a top-1 is surer when it stands apart), one cross-encoder pass for all;
        `ranked`, the first stage's rankings when the caller has them."""
        tops = []
        firsts, seconds = [], []
        for c in children:
            top = ranked[c][: self.top_k] if ranked else self.first_.rank(c, candidates_of(c), limit=self.top_k)
            tops.append((c, top))
            for p, _, _ in top:
                firsts.append(child_text(self.view_, c))
                seconds.append(path_text(self.view_, p))
        probs = np.asarray(self.encoder_.predict_texts(firsts, seconds), dtype=float) if firsts else np.zeros(0)
        logits = np.log(np.clip(probs, 1e-6, 1)) - np.log(np.clip(1 - probs, 1e-6, 1))
        out, k = [], 0
        for c, top in tops:
            n = len(top)
            ce = logits[k:k + n]
            k += n
            first = np.array([p for _, p, _ in top])
            name = np.array([f[NAME_COS] for _, _, f in top])
            ce_rank = np.empty(n)
            ce_rank[np.argsort(-ce, kind="stable")] = np.arange(1, n + 1)
            X = np.stack([first, np.log(np.clip(first, 1e-6, 1)), 1 / np.arange(1, n + 1), name, ce, 1 / ce_rank,
                          _margin(first), _margin(name), _margin(ce)], axis=1)
            out.append((c, [p for p, _, _ in top], X))
        return out

    def _fit_stackers(self, calib: list[str], candidates_of) -> None:
        """Per taxonomy: a stacker on the held-in children, its out-of-fold accuracy@1 against the
        first stage's and the name embedding's, and the method the taxonomy ranks with."""
        from sklearn.linear_model import LogisticRegression

        rows = self._features(calib, candidates_of)
        self.oof_: dict[str, list[tuple[str, list[str], np.ndarray]]] = {}
        self.oof_confidence_: dict[str, dict[str, float]] = {}
        for scheme in sorted({self.view_.scheme[c] for c in calib}):
            mine = [(c, ps, X) for c, ps, X in rows if self.view_.scheme[c] == scheme]
            gold = {c: self.view_.parents.get(c, set()) for c, _, _ in mine}
            fold = {c: bucket(f"fold{self.seed}" + c) * FOLDS // 100 for c, _, _ in mine}
            oof = {c: np.zeros(len(ps)) for c, ps, _ in mine}
            for f in range(FOLDS):
                fit_rows = [(ps, X, gold[c]) for c, ps, X in mine if fold[c] != f]
                if not fit_rows:
                    continue
                model = _stacker(fit_rows, LogisticRegression)
                for c, ps, X in mine:
                    if fold[c] == f:
                        oof[c] = model.predict_proba(X)[:, 1] if model is not None else X[:, FIRST]
            scored = {"stacked": [oof[c] for c, _, _ in mine],
                      **{m: [X[:, k] for _, _, X in mine] for m, k in COLUMN.items()}}
            acc = {m: float(np.mean([ps[int(np.argmax(s))] in gold[c] for (c, ps, _), s in zip(mine, ss)])) if mine else 0.0
                   for m, ss in scored.items()}
            alone = [ps[int(np.argmax(X[:, CE]))] in gold[c] for c, ps, X in mine]
            self.held_in_[scheme] = {**acc, "cross-encoder alone": float(np.mean(alone)) if mine else 0.0, "children": len(mine)}
            self.stackers_[scheme] = _stacker([(ps, X, gold[c]) for c, ps, X in mine], LogisticRegression)
            usable = [m for m in METHODS if m != "stacked" or self.stackers_[scheme] is not None]
            self.choice_[scheme] = max(usable, key=lambda m: acc[m])  # the first of equals: the stacker
            self.oof_[scheme] = [(c, ps, s) for (c, ps, _), s in zip(mine, scored[self.choice_[scheme]])]
            self.oof_confidence_[scheme] = self._fit_confidence(scheme, mine, scored[self.choice_[scheme]], gold, fold,
                                                                LogisticRegression)

    def _fit_confidence(self, scheme: str, mine, scores, gold, fold, LogisticRegression) -> dict[str, float]:
        """The taxonomy's confidence model (see the module) on its held-in children, and their
        out-of-fold confidences (each fold's from a model fitted on the others)."""
        tops = [_top_features(X, s) for (_, _, X), s in zip(mine, scores)]
        F = np.array([f for f, _ in tops])
        y = np.array([ps[j] in gold[c] for (c, ps, _), (_, j) in zip(mine, tops)], dtype=int)
        f = np.array([fold[c] for c, _, _ in mine])
        if len(set(y.tolist())) < 2:
            return {}
        out = np.zeros(len(y))
        for k in range(FOLDS):
            part = f == k
            if part.any():
                fit = ~part
                out[part] = (LogisticRegression(C=1.0, max_iter=2000).fit(F[fit], y[fit]).predict_proba(F[part])[:, 1]
                             if len(set(y[fit].tolist())) == 2 else y[fit].mean())
        self.confidences_[scheme] = LogisticRegression(C=1.0, max_iter=2000).fit(F, y)
        return {c: float(v) for (c, _, _), v in zip(mine, out)}

    def held_in(self, ranks: int = 3) -> list[tuple[str, int, float, bool]]:
        """(taxonomy, rank, out-of-fold score, whether a parent) of the first `ranks` candidates of
        each held-in child, ranked by its taxonomy's method, the first scored by its confidence
        (where the taxonomy has a confidence model): what the gates are calibrated on."""
        out = []
        for scheme, rows in self.oof_.items():
            sure = self.oof_confidence_.get(scheme, {})
            for c, ps, s in rows:
                gold = self.view_.parents.get(c, set())
                for i, j in enumerate(np.argsort(-s, kind="stable")[:ranks]):
                    out.append((scheme, i, sure.get(c, float(s[j])) if i == 0 else float(s[j]), ps[j] in gold))
        return out

    # ---- ranking ---------------------------------------------------------------------------------
    def rank_many(self, children: list[str], candidates_of, limit: int | None = None,
                  scheme_of: Callable[[str], str] | None = None) -> dict[str, list[tuple[str, float, np.ndarray]]]:
        """Per child, its first stage's top candidates ordered by its taxonomy's method (as on
        held-in children; the rest follow in the first stage's order), with the first stage's
        feature rows. The first parent's score is its confidence where the taxonomy has a
        confidence model; the others', their method's score."""
        scheme_of = scheme_of or (lambda c: self.view_.scheme.get(c, ""))
        out: dict[str, list[tuple[str, float, np.ndarray]]] = {}
        firsts = {c: self.first_.rank(c, candidates_of(c)) for c in children}
        for c, ps, X in self._features(children, candidates_of, firsts):
            if not ps:
                out[c] = []
                continue
            scheme = scheme_of(c)
            s = self._scores(scheme, X)
            feats = {p: f for p, _, f in firsts[c]}
            head = [(ps[j], float(s[j]), feats[ps[j]]) for j in np.argsort(-s, kind="stable")]
            if scheme in self.confidences_:
                F, _ = _top_features(X, s)
                head[0] = (head[0][0], float(self.confidences_[scheme].predict_proba(F[None])[0, 1]), head[0][2])
            out[c] = (head + [(p, 0.0, f) for p, _, f in firsts[c][len(ps):]])[:limit]
        return out

    def _scores(self, scheme: str, X: np.ndarray) -> np.ndarray:
        """The taxonomy's method's scores of a child's top candidates (the first stage's where the
        taxonomy has no method)."""
        method = self.choice_.get(scheme, "first stage")
        if method == "stacked":
            return self.stackers_[scheme].predict_proba(X)[:, 1]
        return X[:, COLUMN[method]]

    # ---- persistence ------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.encoder_.save(folder / "cross_encoder")
        (folder / "stackers.pkl").write_bytes(pickle.dumps(self.stackers_))
        (folder / "confidences.pkl").write_bytes(pickle.dumps(self.confidences_))
        (folder / "reranker.json").write_text(json.dumps(
            {"top_k": self.top_k, "max_train": self.max_train, "epochs": self.epochs, "negatives": self.negatives,
             "seed": self.seed, "choice": self.choice_, "held_in_acc@1": self.held_in_}, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, first: HypernymModel) -> "Reranker":
        config = json.loads((folder / "reranker.json").read_text(encoding="utf-8"))
        model = cls(config["top_k"], config["max_train"], config["epochs"], config["negatives"], config["seed"])
        model.choice_, model.held_in_ = config["choice"], config["held_in_acc@1"]
        model.stackers_ = pickle.loads((folder / "stackers.pkl").read_bytes())
        model.confidences_ = pickle.loads((folder / "confidences.pkl").read_bytes())
        model.encoder_ = PathCrossEncoder.load(folder / "cross_encoder")
        model.first_ = first
        return model

    def attach(self, view: TaxonomyView) -> None:
        """Rank against `view` (the first stage must be prepared on it)."""
        self.view_ = view


def _margin(v: np.ndarray) -> np.ndarray:
    """Each score less the best of the others.

    >>> _margin(np.array([3.0, 1.0, 2.0])).tolist()
    [1.0, -2.0, -1.0]
    """
    if len(v) < 2:
        return np.zeros(len(v))
    top2 = np.sort(v)[-2:]
    return v - np.where(v == top2[1], top2[0], top2[1])


def _top_features(X: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, int]:
    """The confidence model's features of a child's top candidate under scores `s` (rows of X, the
    stacker's features), and that candidate's row: its score and margin, the first stage's
    probability and margin, the cross-encoder's logit and margin, the name cosine and margin, and
    whether the first stage, the cross-encoder and the name cosine each rank it first, and all
    three do.

    >>> X = np.zeros((3, 9)); X[:, 0], X[:, 4], X[:, 3] = [0.2, 0.7, 0.1], [0.5, 2.0, -1.0], [0.9, 0.3, 0.1]
    >>> F, j = _top_features(X, np.array([0.3, 0.6, 0.1])); j, round(float(F[1]), 2), F[-4:].tolist()
    (1, 0.3, [1.0, 1.0, 0.0, 0.0])
    """
    order = np.argsort(-s, kind="stable")
    j = int(order[0])
    margin = s[j] - s[order[1]] if len(s) > 1 else 0.0
    tops = [int(np.argmax(X[:, k])) == j for k in (FIRST, CE, NAME)]
    return np.array([s[j], margin, X[j, FIRST], X[j, FIRST_MARGIN], X[j, CE], X[j, CE_MARGIN], X[j, NAME], X[j, NAME_MARGIN],
                     *tops, all(tops)], dtype=float), j


def _stacker(rows, LogisticRegression):
    """A logistic regression over (features, is a parent) of every top candidate; None when the
    rows hold a single class."""
    X = np.concatenate([X for _, X, _ in rows])
    y = np.concatenate([[p in gold for p in ps] for ps, _, gold in rows]).astype(int)
    if len(set(y.tolist())) < 2:
        return None
    return LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
