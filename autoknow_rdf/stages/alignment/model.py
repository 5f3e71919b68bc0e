"""The alignment model: which type of another taxonomy holds a type, read by its name and members.

A type is read by its name and its members: a few of its products' titles, or the names of the
types below it. A candidate of the target taxonomy is read by its name and its path from the
root. The model learns from the taxonomies' own curated parent links, one type hidden at a time
(its subtree leaves the tree, so nothing below it can point at its parent): the hidden type's
parent is the positive, the other candidates are negatives. It is then asked about a type of
another taxonomy (an Instacart aisle under a Shopify category), where no rule says the answer.

Features (FEATURES), each a cosine of MiniLM sentence embeddings or a count:
  name_name      the type's name against the candidate's name
  name_path      ... against the candidate's path from the root
  members_name   the members' mean embedding against the candidate's name (0 without members)
  members_path   ... against its path
  vote           the share of members whose nearest type of the taxonomy is the candidate or
                 below it (the members' vote, as AutoKnow read a type through its products)
  rank_name      log rank of the candidate by name_path among the whole taxonomy
  rank_members   ... by members_path
  depth          the candidate's ancestors
  descendants    log of the types below the candidate
  best_child     the type's name against the nearest child name of the candidate
  words          the share of words the names share (Jaccard, crudely singularised)
  head           whether the names' head words agree
  members        log of the members read
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ...splits import bucket
from ..view import TaxonomyView, head_word, words

__all__ = ["FEATURES", "Tree", "Source", "AlignmentModel", "members_of"]

FEATURES = ("name_name", "name_path", "members_name", "members_path", "vote", "rank_name", "rank_members", "depth",
            "descendants", "best_child", "words", "head", "members")
MAX_MEMBERS = 20  # titles or names read per type: the vote and the centroid settle by then
TOP_K = 10  # candidates per similarity, before their ancestors join them
BACK_OFF = 0.5  # P(holds) at which the model stops walking up from the parent it aimed at: the nearest
# type above it that more likely holds the type than not (measured on held-in Shopify types of the
# demo: 0.0 kept the aimed-at parent, right 0.59; 0.5 right 0.78 at depth 1.7; 0.9 right 0.90 but
# mostly a top branch, "Food Items")
FOREIGN = 20  # percent of training types read against a taxonomy with their whole top branch out
STRAY = 20  # percent of the other training types with members that get two strays among them


@dataclass(frozen=True)
class Source:
    """A type to align: its IRI, name and members (product titles or the names below it)."""

    type: str
    name: str
    members: tuple[str, ...] = ()


def members_of(view: TaxonomyView, t: str, below: dict[str, set[str]] | None = None,
               limit: int = MAX_MEMBERS) -> tuple[str, ...]:
    """Up to `limit` of `t`'s products' titles, else of the names of the types below it, in a
    fixed hash order (the same members whatever order the store lists them in)."""
    titles = sorted(set(view.titles.get(t, ())), key=lambda x: bucket("member" + x, 10**9))
    if titles:
        return tuple(titles[:limit])
    names = sorted({view.names[c] for c in (below or {}).get(t, ()) if c in view.names},
                   key=lambda x: bucket("member" + x, 10**9))
    return tuple(names[:limit])


class Tree:
    """A target taxonomy as arrays: each type's name and path embedded once, its ancestors and
    children; `hide` takes a subtree out (training), `restore` puts it back."""

    def __init__(self, view: TaxonomyView, types: list[str], embed: Callable):
        self.ids = sorted(types)
        self.ix = {t: i for i, t in enumerate(self.ids)}
        mine = set(self.ids)
        self.parents = {t: sorted(view.parents.get(t, set()) & mine) for t in self.ids}
        self.children: dict[str, set[str]] = {t: set() for t in self.ids}
        for c, ps in self.parents.items():
            for p in ps:
                self.children[p].add(c)
        self.names = [view.names.get(t, t.rsplit("/", 1)[-1]) for t in self.ids]
        self.ancestors = {t: view.ancestors(t) & mine for t in self.ids}
        self.below: dict[str, set[str]] = {t: set() for t in self.ids}
        for t, anc in self.ancestors.items():
            for a in anc:
                self.below[a].add(t)
        self.paths = [self.path(t) for t in self.ids]
        self.name_vec = embed(self.names)
        self.path_vec = embed(self.paths)
        self.depth = np.array([len(self.ancestors[t]) for t in self.ids], dtype=float)
        self.hidden = np.zeros(len(self.ids), dtype=bool)

    def path(self, t: str) -> str:
        """'Food Items > Dairy Products > Yogurt': the first parent's chain (cycles cut)."""
        chain, seen = [t], {t}
        while self.parents.get(chain[-1]) and self.parents[chain[-1]][0] not in seen:
            chain.append(self.parents[chain[-1]][0])
            seen.add(chain[-1])
        return " > ".join(self.names[self.ix[x]] for x in reversed(chain))

    def hide(self, t: str) -> None:
        for x in {t} | self.below[t]:
            self.hidden[self.ix[x]] = True

    def restore(self) -> None:
        self.hidden[:] = False


class AlignmentModel:
    """Gradient-boosted trees over FEATURES, trained on hidden types of the target taxonomy."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.clf_ = None

    # ---- features ----------------------------------------------------------------------------
    def features(self, tree: Tree, sources: list[Source], embed: Callable) -> list[tuple[list[int], np.ndarray]]:
        """Per source: its candidate types (indexes into `tree`) and their feature rows."""
        out = []
        if not sources:
            return out
        name_vec = embed([s.name for s in sources])
        flat = [m for s in sources for m in s.members]
        member_vec = embed(flat) if flat else np.zeros((0, tree.name_vec.shape[1]), dtype=np.float32)
        at = 0
        for s, nv in zip(sources, name_vec):
            mv = member_vec[at:at + len(s.members)]
            at += len(s.members)
            out.append(self._one(tree, s, nv, mv))
        return out

    def _one(self, tree: Tree, s: Source, nv: np.ndarray, mv: np.ndarray) -> tuple[list[int], np.ndarray]:
        gone = tree.hidden
        name_name = tree.name_vec @ nv
        name_path = tree.path_vec @ nv
        has = len(mv) > 0
        centroid = mv.mean(0) if has else np.zeros_like(nv)
        if has:
            centroid = centroid / (np.linalg.norm(centroid) or 1.0)
        members_name, members_path = tree.name_vec @ centroid, tree.path_vec @ centroid
        vote = np.zeros(len(tree.ids))
        if has:
            sims = mv @ tree.path_vec.T
            sims[:, gone] = -2.0
            for n in sims.argmax(1):
                t = tree.ids[n]
                vote[n] += 1
                for a in tree.ancestors[t]:
                    vote[tree.ix[a]] += 1
            vote /= len(mv)
        masked = lambda v: np.where(gone, -np.inf, v)  # noqa: E731
        rank_name = np.empty(len(tree.ids))
        rank_name[np.argsort(-masked(name_path), kind="stable")] = np.arange(len(tree.ids))
        rank_members = np.empty(len(tree.ids))
        rank_members[np.argsort(-masked(members_path), kind="stable")] = np.arange(len(tree.ids))
        picked = set(np.argsort(-masked(name_path), kind="stable")[:TOP_K].tolist())
        picked |= set(np.argsort(-masked(name_name), kind="stable")[:TOP_K].tolist())
        if has:
            picked |= set(np.argsort(-masked(members_path), kind="stable")[:TOP_K].tolist())
            picked |= set(np.argsort(-masked(vote), kind="stable")[:TOP_K].tolist())
        for c in list(picked):
            picked |= {tree.ix[a] for a in tree.ancestors[tree.ids[c]]}
        cands = sorted(c for c in picked if not gone[c])
        sw, sh = set(words(s.name)), head_word(s.name)
        rows = []
        for c in cands:
            t = tree.ids[c]
            kids = [tree.ix[k] for k in tree.children[t] if not gone[tree.ix[k]]]
            tw = set(words(tree.names[c]))
            rows.append([name_name[c], name_path[c], members_name[c] if has else 0.0, members_path[c] if has else 0.0,
                         vote[c], np.log1p(rank_name[c]), np.log1p(rank_members[c]) if has else np.log1p(len(tree.ids)),
                         tree.depth[c], np.log1p(sum(1 for b in tree.below[t] if not gone[tree.ix[b]])),
                         float(max((name_name[k] for k in kids), default=0.0)), len(sw & tw) / max(1, len(sw | tw)),
                         float(bool(sh) and sh == head_word(tree.names[c])), np.log1p(len(mv))])
        return cands, np.array(rows, dtype=float).reshape(len(cands), len(FEATURES))

    # ---- training ----------------------------------------------------------------------------
    def hidden_sources(self, tree: Tree) -> list[str]:
        """The tree's types that have a parent in it: each can be hidden and found again."""
        return [t for t in tree.ids if tree.parents[t]]

    def examples(self, view: TaxonomyView, tree: Tree, types: list[str], embed: Callable):
        """(source, candidates, rows, is-parent, holds) per hidden type: its subtree out of the
        tree while it is read. A FOREIGN share (by hash) is read with its whole top branch out, so
        nothing left holds it: a catalogue type the taxonomy has no place for (an aisle of trash
        bags against food and beauty) must score low everywhere, not find the nearest word."""
        out = []
        roots = [r for r in tree.ids if not tree.parents[r]]
        for t in types:
            foreign = len(roots) > 1 and bucket("foreign" + t) < FOREIGN
            top = [r for r in roots if r in tree.ancestors[t]] if foreign else []
            for x in top or [t]:
                tree.hide(x)
            members = members_of(view, t, tree.below)
            strays = self._strays(tree, t, roots) if members and not foreign and bucket("stray" + t) < STRAY else ()
            src = Source(t, view.names.get(t, t), members + strays)
            cands, X = self.features(tree, [src], embed)[0]
            tree.restore()
            y = np.array([tree.ids[c] in tree.parents[t] and not strays for c in cands], dtype=bool)
            holds = np.array([tree.ids[c] in tree.ancestors[t] and not strays for c in cands], dtype=bool)
            out.append((t, cands, X, y, holds))
        return out

    @staticmethod
    def _strays(tree: Tree, t: str, roots: list[str]) -> tuple[str, ...]:
        """Two names from another top branch, mixed into a type's members: a type that also
        holds things of another kind (an aisle "coffee" that sells filters) is held by no type
        whole, and must score low, as a person judging "every product is a P" finds."""
        others = sorted((x for r in roots if r not in tree.ancestors[t] and r != t for x in tree.below[r] | {r}),
                        key=lambda x: bucket("stray" + t + x, 10**6))
        return tuple(tree.names[tree.ix[x]] for x in others[:2])

    def fit(self, examples) -> "AlignmentModel":
        """Two classifiers on the same rows: is the candidate the hidden type's parent (which
        type to aim at), and does it hold the hidden type at all (its parent or an ancestor:
        how far up to back off)."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        X = np.vstack([e[2] for e in examples if len(e[2])])
        y = np.concatenate([e[3] for e in examples if len(e[2])])
        holds = np.concatenate([e[4] for e in examples if len(e[2])])
        self.clf_ = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=self.seed).fit(X, y)
        self.holds_ = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=self.seed).fit(X, holds)
        return self

    def best(self, tree: Tree, cands: list[int], X: np.ndarray) -> tuple[int | None, float, np.ndarray | None]:
        """The candidate to attach under, P(it holds the type) and its feature row: the most
        probable parent, or the deepest type above it (itself included) that holds the type
        with probability at least BACK_OFF; else the one on that chain most likely to hold it
        (a broad type that surely holds is right; a near one that may not is not)."""
        if not len(cands) or self.clf_ is None:
            return None, 0.0, None
        aim = int(np.argmax(self.clf_.predict_proba(X)[:, 1]))
        held = self.holds_.predict_proba(X)[:, 1]
        at = {c: i for i, c in enumerate(cands)}
        chain = [aim] + sorted((at[tree.ix[a]] for a in tree.ancestors[tree.ids[cands[aim]]] if tree.ix[a] in at),
                               key=lambda i: -tree.depth[cands[i]])
        sure = [i for i in chain if held[i] >= BACK_OFF]
        i = sure[0] if sure else max(chain, key=lambda i: held[i])
        return cands[i], float(held[i]), X[i]

    # ---- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "alignment.pkl").write_bytes(pickle.dumps({"seed": self.seed, "clf": self.clf_, "holds": self.holds_}))

    @classmethod
    def load(cls, folder: Path) -> "AlignmentModel":
        state = pickle.loads((folder / "alignment.pkl").read_bytes())
        m = cls(state["seed"])
        m.clf_, m.holds_ = state["clf"], state["holds"]
        return m
