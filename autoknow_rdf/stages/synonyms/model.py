"""Synonym pair classifier: string distances, word overlap and a fine-tuned MiniLM cross-encoder,
combined by a learned model (AutoKnow's synonym finding).

`pair_features` are rapidfuzz similarities (with `default_process`, so case and punctuation do
not count), word and character-trigram overlap, distinct and common words, number agreement,
length ratio and whether the model numbers of two offers agree; the cross-encoder reads both
strings; the base encoder's cosine is one more feature. A gradient-boosted combiner is fitted on pairs the cross-encoder never trained on (the
groups are split), and the threshold is the best-F1 point of cross-validated combiner scores on
those same held-in pairs, so nothing is tuned on a dev or test split.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ...splits import bucket
from ...ml.cross_encoder import CrossEncoder
from ...ml.metrics import best_f1_threshold, precision_threshold

__all__ = ["SynonymPair", "pair_features", "codes", "FEATURES", "SynonymClassifier", "pairs_from_clusters",
           "complete_linkage", "transitive_closure", "nearest_other_names"]

FEATURES = ("ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio", "jaro_winkler", "levenshtein",
            "word_jaccard", "common_words", "distinct_words", "trigram_jaccard", "numbers_agree", "length_ratio",
            "folded_equal", "is_offer", "word_subset", "head_equal", "codes_shared", "codes_conflict")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# a model number or part code: letters and digits together, hyphens and slashes inside ("lds4821ww", "mb13-pnk-see-v2")
_CODE = re.compile(r"(?<![\w-])(?=[\w/-]*\d)(?=[\w/-]*[^\W\d_])[^\W_][\w/-]{2,}[^\W_](?![\w-])", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class SynonymPair:
    a: str
    b: str
    label: int = 0  # 1: same meaning (or the same product)
    group: str = ""  # the gold cluster(s) the pair comes from: splits never cut a group
    kind: str = "term"  # "term" (type or value names) or "offer" (product records)
    negative: str = ""  # how a negative was drawn: "sibling", "nearest", "random", "parent"


def _words(text: str) -> list[str]:
    from rapidfuzz import utils

    return _WORD.findall(utils.default_process(text.replace("&", " and ")))


def _trigrams(text: str) -> set[str]:
    t = " " + " ".join(_words(text)) + " "
    return {t[i:i + 3] for i in range(len(t) - 2)}


def _jaccard(x: set, y: set) -> float:
    return len(x & y) / len(x | y) if x | y else 1.0


def _fold(word: str) -> str:
    """A word with a plural ending dropped, so "Crusts" and "crust" compare equal."""
    for end in ("ies", "es", "s"):
        if len(word) > len(end) + 2 and word.endswith(end) and not word.endswith("ss"):
            return word[: -len(end)] + ("y" if end == "ies" else "")
    return word


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def codes(text: str) -> set[str]:
    """The model numbers and part codes in a text, lower-cased without their punctuation.

    >>> sorted(codes("LG 24' LDS4821WW dishwasher, model mb13-pnk-see-v2 for 13 in"))
    ['lds4821ww', 'mb13pnkseev2']
    """
    return {_compact(c) for c in _CODE.findall(text)}


def _code_agreement(a: str, b: str) -> tuple[float, float]:
    """(share of the codes of either text that the other text also contains, written with or
    without punctuation; whether both have codes and none is shared): the identifiers that tell
    two offers of one product line apart (Ditto injects the same knowledge as span markers)."""
    ca, cb = codes(a), codes(b)
    if not ca or not cb:
        return 0.0, 0.0
    xa, xb = _compact(a), _compact(b)
    found = sum(c in xb for c in ca) + sum(c in xa for c in cb)
    return found / (len(ca) + len(cb)), float(found == 0)


def pair_features(a: str, b: str, offer: bool = False) -> list[float]:
    """The string features of a pair, in the order of FEATURES (symmetric in a and b).

    >>> f = dict(zip(FEATURES, pair_features("Half & Half", "half and half")))
    >>> f["ratio"] < 1.0, f["folded_equal"], f["word_jaccard"]
    (True, 1.0, 1.0)
    >>> f = dict(zip(FEATURES, pair_features("Pie Crusts", "crust")))
    >>> f["word_subset"], f["head_equal"]
    (1.0, 1.0)
    """
    from rapidfuzz import distance, fuzz, utils

    p = utils.default_process
    wa, wb = _words(a), _words(b)
    sa, sb = set(wa), set(wb)
    fa, fb = {_fold(w) for w in wa}, {_fold(w) for w in wb}  # word_subset: "pie crusts" is narrower than "crusts"
    na, nb = set(_NUMBER.findall(a)), set(_NUMBER.findall(b))
    la, lb = len(p(a)), len(p(b))
    return [
        fuzz.ratio(a, b, processor=p) / 100, fuzz.partial_ratio(a, b, processor=p) / 100,
        fuzz.token_sort_ratio(a, b, processor=p) / 100, fuzz.token_set_ratio(a, b, processor=p) / 100,
        distance.JaroWinkler.normalized_similarity(a, b, processor=p),
        distance.Levenshtein.normalized_similarity(a, b, processor=p),
        _jaccard(sa, sb), float(len(sa & sb)), float(len(sa ^ sb)), _jaccard(_trigrams(a), _trigrams(b)),
        _jaccard(na, nb), min(la, lb) / max(la, lb, 1),
        float(sorted(sa) == sorted(sb) and bool(sa)), float(offer),
        float(fa < fb or fb < fa), float(bool(wa) and bool(wb) and _fold(wa[-1]) == _fold(wb[-1]) and fa != fb),
        *_code_agreement(a, b),
    ]


PRECISION_TARGETS = (0.8, 0.9, 0.95)


class SynonymClassifier:
    """P(same) for a pair of terms or offers: features + cross-encoder, combined by boosted trees."""

    def __init__(self, epochs: int = 2, max_length: int = 64, combiner_share: int = 25, seed: int = 0,
                 cross_encoder: bool = True, negative_ratio: float | None = None):
        self.epochs, self.max_length, self.combiner_share, self.seed = epochs, max_length, combiner_share, seed
        self.cross_encoder = cross_encoder
        # the cross-encoder trains on at most this many negatives per positive (product matching
        # sets are ~90% easy negatives: CPU time); the combiner and the threshold still see the
        # held-in pairs at their own rate, so the operating point is not skewed
        self.negative_ratio = negative_ratio

    def _matrix(self, pairs: list[SynonymPair], embed: Callable) -> np.ndarray:
        feats = np.array([pair_features(p.a, p.b, p.kind == "offer") for p in pairs], dtype=np.float32).reshape(len(pairs), len(FEATURES))
        texts = sorted({t for p in pairs for t in (p.a, p.b)})
        vec = dict(zip(texts, embed(texts))) if texts else {}
        cosine = np.array([[float(vec[p.a] @ vec[p.b])] for p in pairs], dtype=np.float32).reshape(len(pairs), 1)
        columns = [feats, cosine]
        if self.cross_encoder:
            neural = self.encoder_.predict_texts([p.a for p in pairs], [p.b for p in pairs]) if pairs else []
            columns.append(np.array(neural, dtype=np.float32).reshape(len(pairs), 1))
        return np.hstack(columns)

    def fit(self, pairs: list[SynonymPair], embed: Callable | None = None, progress=None) -> "SynonymClassifier":
        """Cross-encoder on most groups, then the combiner and threshold on the rest."""
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.model_selection import cross_val_predict

        from ...ml.encoder import embed as default_embed

        embed = embed or default_embed
        held = [p for p in pairs if bucket("combiner" + p.group) < self.combiner_share]
        train = [p for p in pairs if bucket("combiner" + p.group) >= self.combiner_share]
        if len({p.label for p in held}) < 2 or len({p.label for p in train}) < 2:
            raise ValueError(f"need positive and negative pairs on both sides of the split ({len(pairs)} pairs)")
        if self.negative_ratio is not None:
            import random

            positives, negatives = [p for p in train if p.label], [p for p in train if not p.label]
            keep = min(len(negatives), int(self.negative_ratio * len(positives)))
            train = positives + random.Random(self.seed).sample(negatives, keep)
        if self.cross_encoder:
            self.encoder_ = CrossEncoder(epochs=self.epochs, max_length=self.max_length, seed=self.seed)
            self.encoder_.fit_texts([p.a for p in train], [p.b for p in train], [p.label for p in train], progress)
        x, y = self._matrix(held, embed), np.array([p.label for p in held])
        self.combiner_ = GradientBoostingClassifier(n_estimators=150, max_depth=3, subsample=0.8, random_state=self.seed)
        folds = max(2, min(5, int(min(y.sum(), len(y) - y.sum()))))
        oof = cross_val_predict(self.combiner_, x, y, cv=folds, method="predict_proba")[:, 1]
        self.held_ = (held, oof)  # cross-validated held-in scores, for per-source operating points (not saved)
        self.threshold_ = best_f1_threshold(y, oof)
        self.precision_thresholds_ = {str(t): precision_threshold(y, oof, t) for t in PRECISION_TARGETS}
        self.combiner_.fit(x, y)
        self.sizes_ = {"cross-encoder pairs": len(train), "combiner pairs": len(held), "positives": int(sum(p.label for p in pairs))}
        return self

    def threshold_for(self, prefix: str, min_positives: int = 10) -> float:
        """The best-F1 threshold on the held-in pairs whose group starts with `prefix` (one data
        set's own operating point: match rates differ between sets), or the overall one when
        there are too few of them or the model was loaded (held-in scores are not saved)."""
        held, oof = getattr(self, "held_", ([], np.zeros(0)))
        idx = [i for i, p in enumerate(held) if p.group.startswith(prefix)]
        y = np.array([held[i].label for i in idx])
        if len(idx) == 0 or y.sum() < min_positives or y.sum() == len(y):
            return self.threshold_
        return best_f1_threshold(y, oof[idx])

    def predict(self, pairs: list[SynonymPair], embed: Callable | None = None) -> np.ndarray:
        """P(same) per pair."""
        from ...ml.encoder import embed as default_embed

        if not pairs:
            return np.zeros(0)
        return self.combiner_.predict_proba(self._matrix(pairs, embed or default_embed))[:, 1]

    def save(self, folder: Path) -> None:
        """Cross-encoder, combiner and config."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.cross_encoder:
            self.encoder_.save(folder / "cross_encoder")
        (folder / "combiner.pkl").write_bytes(pickle.dumps(self.combiner_))
        config = {"epochs": self.epochs, "max_length": self.max_length, "combiner_share": self.combiner_share,
                  "seed": self.seed, "cross_encoder": self.cross_encoder, "negative_ratio": self.negative_ratio,
                  "threshold": self.threshold_,
                  "precision_thresholds": self.precision_thresholds_, "sizes": self.sizes_}
        (folder / "synonym.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "SynonymClassifier":
        """The classifier `save` wrote (its stage's manifest was verified before)."""
        config = json.loads((folder / "synonym.json").read_text(encoding="utf-8"))
        model = cls(config["epochs"], config["max_length"], config["combiner_share"], config["seed"], config["cross_encoder"],
                    config.get("negative_ratio"))
        model.threshold_, model.sizes_ = config["threshold"], config["sizes"]
        model.precision_thresholds_ = config.get("precision_thresholds", {})
        if model.cross_encoder:
            model.encoder_ = CrossEncoder.load(folder / "cross_encoder")
        model.combiner_ = pickle.loads((folder / "combiner.pkl").read_bytes())
        expected_columns = len(FEATURES) + 1 + int(model.cross_encoder)  # features, cosine, cross-encoder
        if getattr(model.combiner_, "n_features_in_", expected_columns) != expected_columns:
            raise ValueError(f"{folder}: a synonym model of an older version ({model.combiner_.n_features_in_} combiner "
                             f"inputs, {expected_columns} now); train it again")
        return model


def pairs_from_clusters(clusters: dict[str, list[str]], siblings: dict[str, list[str]], nearest: dict[str, str],
                        per_cluster: int = 3, seed: int = 0, broader: dict[str, list[str]] | None = None) -> list[SynonymPair]:
    """Gold pairs: names of one cluster are synonyms; each positive gets up to four negatives,
    a name of a sibling cluster, the nearest name of another cluster (`nearest`: name → a
    near-but-different name, from an embedding blocker), a random name, and a name of the
    cluster's parent (`broader`: "Pie crusts" is no synonym of "Crusts", the errors hypernyms
    make when only siblings are negatives).

    >>> ps = pairs_from_clusters({"c1": ["ice cream", "ice-cream"], "c2": ["sorbet"]}, {"c1": ["c2"]}, {},
    ...                          broader={"c1": ["frozen desserts"]})
    >>> sorted((p.b, p.label) for p in ps)
    [('frozen desserts', 0), ('ice-cream', 1), ('sorbet', 0)]
    """
    import random

    rng = random.Random(seed)
    keys = sorted(k for k, v in clusters.items() if v)
    broader = broader or {}
    out = []
    for key in keys:
        names = list(dict.fromkeys(n for n in clusters[key] if n.strip()))
        for other in names[1:per_cluster + 1]:
            a = names[0]
            out.append(SynonymPair(a, other, 1, key))
            sib = [k for k in siblings.get(key, ()) if k != key and clusters.get(k)]
            if sib:
                out.append(SynonymPair(a, rng.choice(clusters[rng.choice(sib)]), 0, key, negative="sibling"))
            if nearest.get(other):
                out.append(SynonymPair(a, nearest[other], 0, key, negative="nearest"))
            k2 = rng.choice(keys)
            if k2 != key:
                out.append(SynonymPair(a, rng.choice(clusters[k2]), 0, key, negative="random"))
            up = [n for n in broader.get(key, ()) if n.strip() and n not in names]
            if up:
                out.append(SynonymPair(rng.choice([a, other]), rng.choice(up), 0, key, negative="parent"))
    return out


def complete_linkage(items: list[str], scored: dict[tuple[str, str], float], score: Callable[[list[tuple[str, str]]], list[float]],
                     threshold: float, max_size: int = 12, cannot_link: Callable[[str, str], bool] | None = None) -> list[list[str]]:
    """Clusters from accepted pairs without chaining: two clusters merge (best pair first) only if
    every cross pair scores at or above the threshold and none is a `cannot_link` pair (e.g. two
    classes of one curated taxonomy). Unscored cross pairs are scored on demand, in batches: each
    pass links with what is known, collects the cross pairs a merge still waits for, scores them
    all at once and links again, until no merge waits (the result is that of scoring one by one).

    >>> s = {("a", "b"): .9, ("b", "c"): .8, ("a", "c"): .1}
    >>> complete_linkage(["a", "b", "c"], s, lambda ps: [s.get(p, s.get(p[::-1], 0)) for p in ps], .5)
    [['a', 'b'], ['c']]
    """
    known = {tuple(sorted(k)): v for k, v in scored.items()}
    accepted = sorted(((k, v) for k, v in known.items() if v >= threshold), key=lambda kv: (-kv[1], kv[0]))
    while True:
        clusters, waiting = _link(items, accepted, known, threshold, max_size, cannot_link)
        if not waiting:
            return clusters
        pairs = sorted(waiting)
        for p, s in zip(pairs, score(pairs)):
            known[p] = s


def _link(items, accepted, known, threshold, max_size, cannot_link) -> tuple[list[list[str]], set[tuple[str, str]]]:
    of = {i: {i} for i in items}
    waiting: set[tuple[str, str]] = set()
    for (a, b), _ in accepted:
        if a not in of or b not in of or of[a] is of[b]:
            continue
        ca, cb = of[a], of[b]
        if len(ca) + len(cb) > max_size or (cannot_link and any(cannot_link(x, y) for x in ca for y in cb)):
            continue
        cross = [tuple(sorted((x, y))) for x in ca for y in cb]
        missing = [p for p in cross if p not in known]
        if missing:  # decided in a later pass, once these are scored; later merges must not touch these clusters
            waiting.update(missing)
            frozen = ca | cb
            for x in frozen:
                of.pop(x, None)
            continue
        if all(known[p] >= threshold for p in cross):
            merged = ca | cb
            for x in merged:
                of[x] = merged
    if waiting:
        return [], waiting
    seen, out = set(), []
    for i in items:
        if id(of[i]) not in seen:
            seen.add(id(of[i]))
            out.append(sorted(of[i]))
    return out, waiting


def transitive_closure(items: list[str], accepted: list[tuple[str, str]]) -> list[list[str]]:
    """Connected components of accepted pairs (what owl:sameAs entails): the chaining baseline."""
    parent = {i: i for i in items}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in accepted:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for i in items:
        groups.setdefault(find(i), []).append(i)
    return [sorted(g) for g in groups.values()]


def nearest_other_names(names: dict[str, list[str]], embed: Callable) -> dict[str, str]:
    """For each name, the most similar name (MiniLM cosine) of another cluster, differing after
    `default_process`: the near-but-different negative, as a blocker would propose it."""
    from rapidfuzz import utils

    items = [(k, n) for k, ns in names.items() for n in ns]
    if len(items) < 2:
        return {}
    vec = embed([n for _, n in items])
    out = {}
    for i in range(0, len(items), 1024):
        sims = vec[i:i + 1024] @ vec.T
        for row, j in zip(sims, range(i, min(i + 1024, len(items)))):
            top = np.argpartition(-row, min(20, len(row) - 1))[:21]
            for c in top[np.argsort(-row[top])]:
                if items[c][0] != items[j][0] and utils.default_process(items[c][1]) != utils.default_process(items[j][1]):
                    out[items[j][1]] = items[c][1]
                    break
    return out
