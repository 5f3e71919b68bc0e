"""Product typing decided over the whole title: which type of a taxonomy a product belongs to.

The span tagger types a product by a type name found in its title, and takes the modifier for the
head: "Sweet Bread & Butter Pickles" → bread, "Panko Bread Crumbs" → bread (audited on the demo:
0.69 right, and its confidence does not rank). `TitleTyper` reads the whole title against each
candidate type instead. Candidates come from the titles of the nearest products that have a type
of the taxonomy (sentence embeddings, cached) and from type names found in the title (the
dictionary); a gradient-boosted classifier weighs, per candidate, how many near products have
it, how close the title sits to the candidate's path from the root, whether its name is the
title's head or a modifier (the word after it), and how close it sits to the product's types in
other taxonomies.

It learns from **curated** types: each typed product in turn has its types in one taxonomy
hidden, and the candidates of that taxonomy are right where they are among the hidden types (or
above them). Its gate is fitted on products held out of its training in the same way, never on
names found in titles; `held_in` refuses a product it trained on. The stage asks it only for the
taxonomies a product has no type in yet: the very situation it was trained in.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...ml.encoder import DIM
from ...splits import bucket
from ..view import TaxonomyView, words

__all__ = ["TitleTyper", "TypeCandidate", "FEATURES", "NEXT_WORD", "name_context", "name_span", "held_out"]

HELD_OUT = 15  # percent of typed products whose hidden types fit the gate, never the classifier
NEIGHBOURS = 10  # nearest products of a taxonomy that vote on a product's type
PER_TAXONOMY = 6  # candidates kept per product and taxonomy (names in the title first, then near products' types)
DUPLICATE = 0.98  # title similarity at which another product is taken for the same one and does not vote
MAX_WORDS = 5  # the longest type name looked up in a title
CONNECTORS = {"with", "in", "for", "by", "from", "w", "made", "on", "of"}
NEXT_WORD = ("absent", "end", "punctuation", "connector", "and", "number", "word")  # what follows a name in the title
FEATURES = ("vote", "vote_parent", "vote_root", "vote_specific", "nearest_with", "nearest", "cos_path", "cos_name", "own_types", "has_own_types",
            "vote_rank", "path_rank", "name_words", "name_start", "after_connector", "words_after", "depth", "leaf",
            "products") + tuple(
    f"next_{k}" for k in NEXT_WORD)

CONTEXT = ("own_types", "has_own_types", "next_end", "next_word", "after_connector", "cos_name", "cos_path", "vote")
PRIOR_WEIGHT = 3.0  # pseudo-verdicts at the overall rate behind a type's own verdicts (its smoothed audited rate)
MIN_AUDITED = 100  # people's verdicts (with both right and wrong among them) before the context model is fitted

_TOKEN = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")


def held_out(product: str) -> bool:
    """Whether a typed product's hidden types fit the gate (and it never trains the classifier)."""
    return bucket("typing-held" + product) < HELD_OUT


def _name_at(title: str, name: str) -> tuple[list[re.Match], int, int] | None:
    """The title's tokens, and where and over how many of them a type's name first occurs (its
    words singularised as `words` does); None where it does not."""
    tokens = list(_TOKEN.finditer(title))
    normal = [words(m.group())[0] if words(m.group()) else m.group() for m in tokens]
    target = words(name)
    n = len(target)
    for i in range(len(normal) - n + 1):
        if n and normal[i:i + n] == target:
            return tokens, i, n
    return None


def _span(at: tuple[list[re.Match], int, int]) -> tuple[int, int]:
    tokens, i, n = at
    return tokens[i].start(), tokens[i + n - 1].end()


def _context(at: tuple[list[re.Match], int, int] | None) -> tuple[str, bool, int]:
    if at is None:
        return "absent", False, 0
    tokens, i, n = at
    text = [m.group() for m in tokens]
    before = any(t == "&" or t.lower() in CONNECTORS or t.lower() == "and" for t in text[:i])
    following = 0
    for t in text[i + n:]:
        if not t.isalnum():
            break
        following += 1
    if i + n == len(text):
        return "end", before, 0
    after = text[i + n]
    if after == "&" or after.lower() == "and":
        kind = "and"
    elif not after.isalnum():
        kind = "punctuation"
    elif after.lower() in CONNECTORS:
        kind = "connector"
    else:
        kind = "number" if after[0].isdigit() else "word"
    return kind, before, following


def name_span(title: str, name: str) -> tuple[int, int] | None:
    """The character offsets of a type's name where its words first occur in a title (words
    singularised as `words` does), or None.

    >>> name_span("Boiled Peanuts in Oil", "Oils"), name_span("Sweet Bread & Butter Pickles", "Breads")
    ((18, 21), (6, 11))
    >>> name_span("Tea", "Coffee") is None
    True
    """
    at = _name_at(title, name)
    return _span(at) if at else None


def name_context(title: str, name: str) -> tuple[str, bool, int]:
    """Where a type's name first occurs in a title: what follows it (nothing: the name ends the
    title; punctuation; a connector such as "with"; "and"/"&"; a number; another word, and the
    name is then most often a modifier: "Panko *Bread* Crumbs"), whether a connector or "and"
    comes before it ("Orange Juice with Calcium & *Vitamin* D"), and how many words follow it
    before punctuation; ("absent", False, 0) where it does not occur.

    >>> name_context("Panko Bread Crumbs", "bread"), name_context("Whole Wheat Bread, 20 oz", "bread")
    (('word', False, 1), ('punctuation', False, 0))
    >>> name_context("Juice With Calcium & Vitamin D", "vitamins"), name_context("Tea", "coffee")
    (('word', True, 1), ('absent', False, 0))
    """
    return _context(_name_at(title, name))


@dataclass(frozen=True)
class TypeCandidate:
    """A candidate type of a product in one taxonomy, with the features the classifier weighs."""

    product: str
    type: str
    scheme: str
    features: tuple[float, ...]
    evidence: str  # what put it forward: the name in the title, or the nearest product's title
    span: tuple[int, int] | None = None  # where the title names it (None: put forward by near products)


@dataclass
class TitleTyper:
    """Scores (product, type) candidates per taxonomy from the whole title (module docstring)."""

    seed: int = 0
    max_train: int = 6000  # (product, taxonomy) pairs the classifier learns from
    near: float = 0.9  # a type no name in the title names is a candidate from a product this close
    ignore: tuple[str, ...] = ()  # features held at 0 (the evaluation's ablations)
    classifier_: object = None
    context_: object = None  # how people read the score in context (fit_context); None: the score as it is
    audited_: int = 0
    trained_on_: set = field(default_factory=set)
    verdicts_: dict = field(default_factory=dict)  # type -> (verdicts right, verdicts), fit_context's
    rate_: float = 0.0  # the share of fit_context's verdicts that were right

    # ---- the index: titles, paths and each taxonomy's typed products ----------------------------
    def prepare(self, view: TaxonomyView, titles: dict[str, str], types: dict[str, set[str]], embed) -> "TitleTyper":
        """Embed every title, type path and type name, and index each taxonomy's typed products
        (their types closed upwards) for the nearest-product vote."""
        self.view_, self.titles_ = view, titles
        self.products_ = sorted(titles)
        self.row_ = {p: i for i, p in enumerate(self.products_)}
        self.T_ = embed([titles[p] for p in self.products_]) if self.products_ else np.zeros((0, DIM), np.float32)
        self.type_list_ = sorted(view.names)
        self.type_row_ = {t: i for i, t in enumerate(self.type_list_)}
        self.P_ = embed([self.path(t) for t in self.type_list_])
        self.N_ = embed([view.names[t] for t in self.type_list_])
        self.types_ = {p: {t for t in ts if t in view.names} for p, ts in types.items()}
        self.closed_, self.specific_ = {}, {}
        for p, ts in self.types_.items():
            above = set().union(*(view.ancestors(t) for t in ts)) if ts else set()
            self.closed_[p] = ts | above
            self.specific_[p] = ts - above
        self.members_: dict = {}  # taxonomy -> rows of its typed products (an array)
        for p in self.products_:
            for s in {view.scheme[t] for t in self.types_.get(p, ())}:
                self.members_.setdefault(s, []).append(self.row_[p])
        self.members_ = {s: np.asarray(rows, dtype=int) for s, rows in self.members_.items()}
        self.popularity_ = {}
        for p, ts in self.closed_.items():
            for t in ts:
                self.popularity_[t] = self.popularity_.get(t, 0) + 1
        self.by_name_: dict[tuple[str, ...], list[str]] = {}
        for t in self.type_list_:
            key = tuple(words(view.names[t]))
            if key and len(key) <= MAX_WORDS:
                self.by_name_.setdefault(key, []).append(t)
        kids = view.children()
        self.leaf_ = {t: t not in kids for t in self.type_list_}
        self.depth_ = {t: len(self.view_.path_names(t)) - 1 for t in self.type_list_}
        self.roots_ = {t: view.roots(t) - {t} for t in self.type_list_}
        return self

    def path(self, t: str) -> str:
        """A type's path from its root, as the classifier reads it ("Snacks > Sweet snacks > gum")."""
        return " > ".join(self.view_.path_names(t))

    # ---- candidates and their features ------------------------------------------------------------
    def candidates(self, products: list[str], schemes_of=None, extra: dict[str, list[str]] | None = None
                   ) -> list[TypeCandidate]:
        """Every product's candidates in each taxonomy `schemes_of(product)` names (default: the
        taxonomies it has no type in); its own types of that taxonomy are hidden from it.
        `extra`: types to score for a product whatever the candidates (people's verdicts)."""
        view = self.view_
        schemes_of = schemes_of or (lambda p: sorted(set(self.members_) - {view.scheme[t] for t in self.types_.get(p, ())}))
        out: list[TypeCandidate] = []
        for p in products:
            row = self.row_[p]
            sim = self.T_ @ self.T_[row]  # one product at a time: the same bits in a Ray part as in a local run
            for s in schemes_of(p):
                out += self._candidates_in(p, row, sim, s, [t for t in (extra or {}).get(p, ()) if view.scheme[t] == s])
        return out

    def _candidates_in(self, p: str, row: int, sim: np.ndarray, scheme: str, extra: list[str] = ()) -> list[TypeCandidate]:
        view, title = self.view_, self.titles_[p]
        members = self.members_.get(scheme, np.zeros(0, dtype=int))
        if len(members):  # not itself, nor a copy of its title (what a hidden product's copy says is no evidence)
            members = members[(members != row) & (sim[members] < DUPLICATE)]
        vote: dict[str, float] = {}
        specific: dict[str, float] = {}
        nearest_with: dict[str, float] = {}
        evidence: dict[str, str] = {}
        nearest = 0.0
        if len(members):
            k = min(NEIGHBOURS, len(members))
            near_first = -sim[members]
            if k < len(members):  # the k nearest (ties at the k-th kept for the order below)
                kth = near_first[np.argpartition(near_first, k - 1)[k - 1]]
                part = np.flatnonzero(near_first <= kth)
            else:
                part = np.arange(len(members))
            top = members[part[np.lexsort((members[part], near_first[part]))][:k]]  # nearest first, lower row on a tie
            weights = np.clip(sim[top], 0.0, None)
            total = float(weights.sum()) or 1.0
            nearest = float(sim[top[0]])
            for n, w in zip(top, weights):
                q = self.products_[n]
                for t in self.closed_.get(q, ()):
                    if view.scheme[t] == scheme:
                        vote[t] = vote.get(t, 0.0) + w / total
                        if t not in nearest_with:
                            nearest_with[t], evidence[t] = float(sim[n]), f"near: {self.titles_[q]}"
                for t in self.specific_.get(q, ()):
                    if view.scheme[t] == scheme:
                        specific[t] = specific.get(t, 0.0) + w / total
        named = self._named(title, scheme)
        near = [t for t in sorted(specific, key=lambda t: (-specific[t], t)) if nearest_with.get(t, 0.0) >= self.near]
        pool = (named + [t for t in near if t not in named])[:PER_TAXONOMY]
        base = len(pool)  # the candidates a run would score; `extra` ones are ranked as if each came alone
        pool += [t for t in extra if t not in pool]
        if not pool:
            return []
        t_rows = [self.type_row_[t] for t in pool]
        cos_path = self.P_[t_rows] @ self.T_[row]
        cos_name = self.N_[t_rows] @ self.T_[row]
        own = [self.type_row_[o] for o in self.types_.get(p, ()) if view.scheme[o] != scheme]
        own_sim = (self.P_[t_rows] @ self.N_[own].T).max(axis=1) if own else np.zeros(len(pool))
        vote_key = [(-vote.get(t, 0.0), t) for t in pool]
        vote_rank = [sum(vote_key[i] < vote_key[j] for i in range(base) if i != j) for j in range(len(pool))]
        path_rank = [sum(cos_path[i] > cos_path[j] or (cos_path[i] == cos_path[j] and i < j) for i in range(base) if i != j)
                     for j in range(len(pool))]
        out = []
        for j, t in enumerate(pool):
            name = view.names[t]
            at = _name_at(title, name) if t in named else None  # one scan of the title for the name's place
            kind, before, following = _context(at)
            span = _span(at) if at else None
            hidden = t in self.closed_.get(p, ())  # the product's own hidden type: not among the type's products
            feats = (vote.get(t, 0.0), max((vote.get(q, 0.0) for q in view.parents.get(t, ())), default=0.0),
                     max((vote.get(q, 0.0) for q in self.roots_[t]), default=0.0), specific.get(t, 0.0), nearest_with.get(t, 0.0), nearest,
                     float(cos_path[j]), float(cos_name[j]), float(own_sim[j]), float(bool(own)),
                     float(vote_rank[j]), float(path_rank[j]), float(len(words(name))),
                     float(span is not None and span[0] == 0), float(before), float(following), float(self.depth_[t]),
                     float(self.leaf_[t]), float(np.log1p(self.popularity_.get(t, 0) - hidden))) + tuple(
                float(kind == k) for k in NEXT_WORD)
            feats = tuple(0.0 if FEATURES[i] in self.ignore else v for i, v in enumerate(feats))
            why = f"name: {name}" if t in named else evidence.get(t, "")
            out.append(TypeCandidate(p, t, scheme, feats, why, span if t in named else None))
        return out

    def _named(self, title: str, scheme: str) -> list[str]:
        """Types of `scheme` whose name occurs in the title, longest first (the dictionary)."""
        ws = words(title)
        found = []
        for n in range(min(MAX_WORDS, len(ws)), 0, -1):
            for i in range(len(ws) - n + 1):
                for t in self.by_name_.get(tuple(ws[i:i + n]), ()):
                    if self.view_.scheme[t] == scheme and t not in found:
                        found.append(t)
        return found

    def named_longest(self, title: str, scheme: str) -> str | None:
        """The dictionary baseline's type: the longest type name of `scheme` in the title."""
        named = self._named(title, scheme)
        return named[0] if named else None

    def right_type(self, product: str, t: str) -> bool:
        """Whether `t` is among the product's curated types or above one."""
        return t in self.closed_.get(product, ())

    def right(self, c: TypeCandidate) -> bool:
        """Whether a candidate is among its product's curated types of its taxonomy, or above one."""
        return self.right_type(c.product, c.type)

    # ---- training, scoring, held-out facts --------------------------------------------------------
    def training_pairs(self, held: bool) -> list[tuple[str, str]]:
        """(product, taxonomy) pairs whose types are hidden in turn: the held-out products' when
        `held`, else the rest's (at most `max_train`, drawn by a stable hash)."""
        pairs = sorted(((p, s) for p in self.products_ if held_out(p) == held
                        for s in sorted({self.view_.scheme[t] for t in self.types_.get(p, ())})),
                       key=lambda ps: (bucket(f"typing{self.seed}" + ps[0] + ps[1], 10 ** 6), ps))
        return pairs if held else pairs[:self.max_train]

    def fit(self) -> "TitleTyper":
        """Train the classifier on the curated types of products not held out."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        pairs = self.training_pairs(held=False)
        cands = self._hidden_candidates(pairs)
        y = np.array([self.right(c) for c in cands], dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("typing: the curated types give no right and wrong candidates to learn from")
        self.classifier_ = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=31,
                                                          l2_regularization=1.0, random_state=self.seed)
        self.classifier_.fit(np.array([c.features for c in cands]), y)
        self.trained_on_ = {p for p, _ in pairs}
        return self

    def _hidden_candidates(self, pairs: list[tuple[str, str]]) -> list[TypeCandidate]:
        by_product: dict[str, list[str]] = {}
        for p, s in pairs:
            by_product.setdefault(p, []).append(s)
        return self.candidates(sorted(by_product), lambda p: by_product[p])

    def fit_context(self, audited: dict[tuple[str, str], float]) -> "TitleTyper":
        """Learn from people's verdicts on typings (the share of annotators who found each right)
        how the classifier's score reads beside the typing's context: the product's types in other
        taxonomies and where the name sits in the title. Curated types cannot teach the first: a
        product's types hidden in turn are its only types, so the classifier never saw one typed
        elsewhere (measured on the demo's audits: these features alone rank people's verdicts at
        a ROC-AUC of 0.76-0.86, the classifier's score at 0.70). Needs MIN_AUDITED verdicts."""
        from sklearn.linear_model import LogisticRegression

        typed = {p: {self.view_.scheme[t] for t in ts} for p, ts in self.types_.items()}
        pairs = sorted((p, t) for p, t in audited if p in self.row_ and t in self.type_row_  # as a run would ask:
                       and self.view_.scheme[t] not in typed.get(p, ()))  # in a taxonomy the product has no type in
        extra: dict[str, list[str]] = {}
        for p, t in pairs:
            extra.setdefault(p, []).append(t)
        schemes = {p: sorted({self.view_.scheme[t] for t in ts}) for p, ts in extra.items()}
        cands = [c for c in self.candidates(sorted(extra), schemes.get, extra) if (c.product, c.type) in audited]
        y = np.array([audited[(c.product, c.type)] >= 0.5 for c in cands], dtype=int)
        self.context_, self.audited_, self.verdicts_, self.rate_ = None, len(cands), {}, 0.0
        if len(cands) < MIN_AUDITED or len(set(y.tolist())) < 2:
            return self
        for c, ok in zip(cands, y):  # how people read each type wherever it was given
            right, n = self.verdicts_.get(c.type, (0, 0))
            self.verdicts_[c.type] = (right + int(ok), n + 1)
        self.rate_ = float(y.mean())
        own = [(int(ok), 1) for ok in y]  # each verdict is left out of its own type's rate while fitting
        self.context_ = LogisticRegression(C=1.0, max_iter=1000).fit(self._context(cands, own), y)
        return self

    def _context(self, cands: list[TypeCandidate], leave_out: list[tuple[int, int]] | None = None) -> np.ndarray:
        """The context model's inputs: the classifier's logit, the CONTEXT features, and the
        type's smoothed audited rate with its number of verdicts (log)."""
        raw = np.clip(self.classifier_.predict_proba(np.array([c.features for c in cands]))[:, 1], 1e-3, 1 - 1e-3)
        cols = [FEATURES.index(f) for f in CONTEXT]
        rates = []
        for i, c in enumerate(cands):
            right, n = self.verdicts_.get(c.type, (0, 0))
            if leave_out is not None:
                right, n = right - leave_out[i][0], n - leave_out[i][1]
            rates.append(((right + PRIOR_WEIGHT * self.rate_) / (n + PRIOR_WEIGHT), np.log1p(n)))
        return np.column_stack([np.log(raw / (1 - raw)), np.array([[c.features[i] for i in cols] for c in cands]),
                                np.array(rates)])

    def score(self, cands: list[TypeCandidate]) -> np.ndarray:
        """P(right) of each candidate: the classifier's, read in context where people's verdicts
        taught how (`fit_context`); uncalibrated: the gate calibrates it."""
        if not cands:
            return np.zeros(0)
        if self.context_ is not None:
            return self.context_.predict_proba(self._context(cands))[:, 1]
        return self.classifier_.predict_proba(np.array([c.features for c in cands]))[:, 1]

    def best(self, cands: list[TypeCandidate]) -> list[tuple[TypeCandidate, float]]:
        """Each product's most probable candidate per taxonomy, with its score."""
        scores = self.score(cands)
        top: dict[tuple[str, str], tuple[TypeCandidate, float]] = {}
        for c, s in zip(cands, scores):
            key = (c.product, c.scheme)
            if key not in top or s > top[key][1] or (s == top[key][1] and c.type < top[key][0].type):
                top[key] = (c, float(s))
        return [top[k] for k in sorted(top)]

    def held_in(self) -> list[tuple[TypeCandidate, float, bool]]:
        """(best candidate, score, right) per held-out (product, taxonomy): the gate's facts.
        Refuses a product the classifier trained on: a gate must not be fitted on its own labels."""
        pairs = self.training_pairs(held=True)
        leaked = {p for p, _ in pairs} & self.trained_on_
        if leaked:
            raise ValueError(f"typing: {len(leaked)} gate products trained the classifier (e.g. {min(leaked)}); "
                             "a gate needs labels the model did not learn from")
        return [(c, s, self.right(c)) for c, s in self.best(self._hidden_candidates(pairs))]

    # ---- persistence: the classifier and its settings (the index is rebuilt from the run's store) --
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "classifier.pkl").write_bytes(pickle.dumps(self.classifier_))
        (folder / "context.pkl").write_bytes(pickle.dumps((self.context_, self.verdicts_, self.rate_)))
        (folder / "typer.json").write_text(json.dumps({"seed": self.seed, "max_train": self.max_train, "near": self.near, "ignore": list(self.ignore),
                                                       "features": list(FEATURES),
                                                       "context": list(CONTEXT), "audited": self.audited_,
                                                       "trained_on": sorted(self.trained_on_)}, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "TitleTyper":
        config = json.loads((folder / "typer.json").read_text(encoding="utf-8"))
        if config["features"] != list(FEATURES) or config["context"] != list(CONTEXT):
            raise ValueError(f"{folder}: the typing classifier was trained on other features; retrain the taxonomy stage")
        typer = cls(seed=config["seed"], max_train=config["max_train"], near=config["near"], ignore=tuple(config["ignore"]))
        typer.classifier_ = pickle.loads((folder / "classifier.pkl").read_bytes())
        typer.context_, typer.verdicts_, typer.rate_ = pickle.loads((folder / "context.pkl").read_bytes())
        typer.audited_, typer.trained_on_ = config["audited"], set(config["trained_on"])
        return typer
