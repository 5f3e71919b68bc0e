"""Synonym evaluation: value/type synonyms and product matching on dev splits, beside baselines.

Terms. Gold clusters: Open Food Facts categories and label/allergen/ingredient values (the names
of one entry, English and cross-language), WordNet synsets (lemmas). Dev: 20% of clusters, by a
hash of the cluster's first English name (so the same entry met in two OFF taxonomies falls on
one side), and a dev cluster sharing any normalised name with a training cluster is dropped
(Open Food Facts names recur across its taxonomies). Negatives: a sibling's name (same parent),
the nearest other name by MiniLM cosine, a random name, a parent's name (a hypernym, when the
parent is a cluster of the same split). Scores: PR-AUC and F1 at the model's
held-in threshold, against rapidfuzz token-set ratio and embedding cosine whose thresholds are
the best-F1 points on the training pairs. Also: recall of the candidate blockers (embedding
and rapidfuzz k nearest names) on dev synonym pairs, and cluster purity of complete-linkage
clusters against the transitive closure of the same accepted pairs.

Products. ER-Magellan (Amazon-Google, Walmart-Amazon, Abt-Buy, Beer) and WDC LSPC (cameras,
computers, shoes, watches): one classifier on the train files (all ER-Magellan pairs, a uniform
sample of the WDC ones), scored on each valid file (the official test splits are withheld); F1 at
the pooled held-in threshold, and at each set's own held-in threshold as a second row (measured:
the per-set cuts, from fewer pairs, were worse on 6 of 8 sets), the baselines at their best F1 on
the set's training pairs.
"""

from __future__ import annotations

import csv
import gzip
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...evaluation import pick
from ...ml.metrics import at_threshold, average_precision, best_f1_threshold
from .model import SynonymClassifier, SynonymPair, complete_linkage, nearest_other_names, pairs_from_clusters, transitive_closure
from ...splits import bucket

__all__ = ["term_clusters", "offer_pairs", "evaluate_synonyms", "evaluate", "dev_precision", "DATA_FILES"]

LANGS = ("en", "fr", "de", "es", "it", "nl")  # English and the Latin-script languages OFF has most of
MAX_CLUSTERS = {"train": 2400, "dev": 300}  # per source (CPU time; 800 training clusters measured PR-AUC 0.735, 2,400 0.763)
POSITIVES_PER_CLUSTER = 2
MAX_OFFER_TRAIN = 3000  # pairs per data set without a Ditto figure (WDC), sampled uniformly; the others train on all
OFFER_NEGATIVE_RATIO = 2.0  # negatives per positive the offer cross-encoder trains on (CPU time; see SynonymClassifier)
BLOCK_K = 10
DITTO_F1 = {"amazon_google": 75.6, "walmart_amazon": 86.8, "abt_buy": 89.3, "beer": 94.4}


def _tsv(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def term_clusters(data: Path) -> dict[str, tuple[dict[str, list[tuple[str, str]]], dict[str, str]]]:
    """Per source: cluster id → [(lang, name)] (first English name first), and child → parent."""
    out = {}
    off = [("OFF categories", data / "openfoodfacts_categories" / "synonyms.tsv", data / "openfoodfacts_categories" / "edges.tsv")]
    off += [(f"OFF {k}", data / "openfoodfacts_value_taxonomies" / f"{k}.synonyms.tsv",
             data / "openfoodfacts_value_taxonomies" / f"{k}.edges.tsv") for k in ("labels", "allergens", "ingredients")]
    for name, syn, edges in off:
        if not syn.is_file():
            continue
        clusters: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for r in _tsv(syn):
            lang = (r.get("lang") or "").lower()
            if lang in LANGS and r.get("synonym"):
                clusters[r["id"].lower()].append((lang, r["synonym"].strip()))
        parents = {r["child_id"].lower(): r["parent_id"].lower() for r in _tsv(edges)} if edges.is_file() else {}
        out[name] = (_english_first(clusters), parents)
    synsets = data / "wordnet_consumables" / "synsets.tsv"
    if synsets.is_file():
        rows = _tsv(synsets)
        clusters = {r["synset_offset"]: [("en", l.replace("_", " ")) for l in r["lemmas"].split("|")] for r in rows}
        hyper = data / "wordnet_consumables" / "hypernyms.tsv"
        parents = {r["synset_offset"]: r["hypernym_offset"] for r in _tsv(hyper)} if hyper.is_file() else {}
        out["WordNet"] = (_english_first(clusters), parents)
    return out


def _english_first(clusters: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    kept = {}
    for k, names in clusters.items():
        names = list(dict.fromkeys(names))
        en = [n for n in names if n[0] == "en"]
        if en and len({n[1].lower() for n in names}) > 1:
            kept[k] = en[:1] + [n for n in names if n != en[0]]
    return kept


def _norm(text: str) -> str:
    from rapidfuzz import utils

    return utils.default_process(text)


def _split_clusters(sources, cap=MAX_CLUSTERS, test_sources=None):
    """Train/dev clusters per source (dev: 20% by first English name, or every cluster of
    `test_sources` when a test folder is given), dev clusters sharing a normalised name with
    train dropped."""
    split = {"train": {}, "dev": {}}
    for source, (clusters, _) in sources.items():
        for key in sorted(clusters, key=lambda k: bucket("order" + k, 10**6)):
            side = "dev" if test_sources is None and bucket(_norm(clusters[key][0][1])) < 20 else "train"
            split[side][(source, key)] = clusters[key]
    for source, (clusters, _) in (test_sources or {}).items():
        for key in sorted(clusters, key=lambda k: bucket("order" + k, 10**6)):
            split["dev"][(source, key)] = clusters[key]
    train_names = {_norm(n) for names in split["train"].values() for _, n in names}
    leaked = [k for k, names in split["dev"].items() if any(_norm(n) in train_names for _, n in names)]
    for k in leaked:
        del split["dev"][k]
    for side in split:
        per: dict[str, int] = defaultdict(int)
        kept = {}
        for k, v in split[side].items():
            if per[k[0]] < cap[side]:
                per[k[0]] += 1
                kept[k] = v
        split[side] = kept
    return split, len(leaked)


def _pairs(clusters: dict, parents: dict[str, dict[str, str]], embed: Callable, seed: int) -> tuple[list[SynonymPair], list[str]]:
    """Gold pairs and, per pair, its slice ("<source>, English" or "<source>, cross-language")."""
    names = {f"{s}|{k}": [n for _, n in v] for (s, k), v in clusters.items()}
    langs = {(f"{s}|{k}", n): l for (s, k), v in clusters.items() for l, n in v}
    children: dict[str, list[str]] = defaultdict(list)
    for (s, k) in clusters:
        p = parents[s].get(k)
        if p:
            children[f"{s}|{p}"].append(f"{s}|{k}")
    siblings = {f"{s}|{k}": children.get(f"{s}|{parents[s].get(k)}", []) for (s, k) in clusters}
    nearest = nearest_other_names(names, embed)
    broader = {f"{s}|{k}": names.get(f"{s}|{parents[s].get(k)}", [])[:2] for (s, k) in clusters}  # same split only
    pairs = pairs_from_clusters(names, siblings, nearest, per_cluster=POSITIVES_PER_CLUSTER, seed=seed, broader=broader)
    name_langs: dict[str, set[str]] = defaultdict(set)  # (ASCII French names are not English)
    for (_, n), lang in langs.items():
        name_langs[n].add(lang)
    slices = []
    for p in pairs:
        source = p.group.split("|", 1)[0]
        cross = langs.get((p.group, p.b), langs.get((p.group, p.a), "en")) != "en" if p.label else \
            "en" not in name_langs.get(p.b, {"en"})  # a negative's slice: the language of the name drawn
        slices.append(f"{source}, {'cross-language' if cross else 'English'}")
    return pairs, slices


def _prf(y: np.ndarray, s: np.ndarray, threshold: float) -> dict[str, float]:
    at = at_threshold(y, s, threshold)
    return {"PR-AUC": average_precision(y, s), "P": at["precision"], "R": at["recall"], "F1": at["f1"]}


def pr_curve(y: np.ndarray, s: np.ndarray, points: int = 100) -> dict[str, list[float]]:
    """A precision–recall curve thinned to about `points` points (for the report's plot)."""
    from sklearn.metrics import precision_recall_curve

    prec, rec, _ = precision_recall_curve(y, s)
    step = max(1, len(prec) // points)
    return {"precision": [round(float(v), 4) for v in prec[::step]], "recall": [round(float(v), 4) for v in rec[::step]]}


def _baselines(train: list[SynonymPair], embed: Callable) -> dict[str, tuple[Callable, float, np.ndarray]]:
    """Score functions with thresholds at their best F1 on the training pairs (and their scores
    there, for per-set thresholds)."""
    from rapidfuzz import fuzz, utils

    def fuzzy(ps: list[SynonymPair]) -> np.ndarray:
        return np.array([fuzz.token_set_ratio(p.a, p.b, processor=utils.default_process) / 100 for p in ps])

    def cosine(ps: list[SynonymPair]) -> np.ndarray:
        texts = sorted({t for p in ps for t in (p.a, p.b)})
        vec = dict(zip(texts, embed(texts)))
        return np.array([float(vec[p.a] @ vec[p.b]) for p in ps])

    y = np.array([p.label for p in train])
    out = {}
    for name, f in (("baseline: rapidfuzz token-set ratio", fuzzy), ("baseline: embedding cosine", cosine)):
        s = f(train)
        out[name] = (f, best_f1_threshold(y, s), s)
    return out


def _score_table(dev: list[SynonymPair], slices: list[str], methods: dict[str, tuple[np.ndarray, float]]) -> list[dict[str, Any]]:
    rows = []
    y = np.array([p.label for p in dev])
    for sl in ["all", *sorted(set(slices))]:
        mask = np.array([sl == "all" or s == sl for s in slices])
        if mask.sum() == 0 or y[mask].sum() == 0:
            continue
        for method, (scores, thr) in methods.items():
            rows.append({"slice": sl, "method": method, **_prf(y[mask], scores[mask], thr),
                         "pairs": int(mask.sum()), "positives": int(y[mask].sum())})
    return rows


def _by_negative_kind(dev: list[SynonymPair], methods: dict[str, tuple[np.ndarray, float]]) -> list[dict[str, Any]]:
    """Every dev positive against the negatives of one kind at a time: which confusions the
    model separates (a parent's name is the hard one)."""
    rows = []
    y = np.array([p.label for p in dev])
    for kind in sorted({p.negative for p in dev if not p.label}):
        mask = np.array([bool(p.label) or p.negative == kind for p in dev])
        for method, (scores, thr) in methods.items():
            rows.append({"negatives": kind, "method": method, **_prf(y[mask], scores[mask], thr),
                         "pairs": int(mask.sum()), "negative pairs": int((y[mask] == 0).sum())})
    return rows


def _blocker_recall(dev_clusters: dict, embed: Callable, k: int = BLOCK_K) -> list[dict[str, Any]]:
    """Share of dev synonym pairs whose partner is among a name's k nearest (embedding, rapidfuzz)."""
    from rapidfuzz import fuzz, process, utils

    items = list(dict.fromkeys(n for v in dev_clusters.values() for _, n in v))
    index = {n: i for i, n in enumerate(items)}
    gold = [(v[0][1], n) for v in dev_clusters.values() for _, n in v[1:] if n != v[0][1]]
    vec = embed(items)
    found = {"embedding kNN": 0, "rapidfuzz kNN": 0, "either": 0}
    for a, b in gold:
        sims = vec[index[a]] @ vec.T
        top = {items[j] for j in np.argsort(-sims)[:k + 1]}
        fz = {m[0] for m in process.extract(a, items, scorer=fuzz.token_set_ratio, processor=utils.default_process, limit=k + 1)}
        found["embedding kNN"] += b in top
        found["rapidfuzz kNN"] += b in fz
        found["either"] += b in top or b in fz
    return [{"source": f"{s} (k={k})", "recall": v / max(1, len(gold)), "gold pairs": len(gold), "names": len(items)}
            for s, v in found.items()]


def _purity(dev_clusters: dict, model: SynonymClassifier, embed: Callable, n_clusters: int = 300, k: int = 5) -> list[dict[str, Any]]:
    """Cluster dev names from embedding-kNN candidates: complete linkage vs. transitive closure."""
    chosen = dict(sorted(dev_clusters.items(), key=lambda kv: bucket("purity" + kv[0][1], 10**6))[:n_clusters])
    gold = {}
    for key, names in chosen.items():
        for _, n in names:
            gold.setdefault(n, key)
    items = sorted(gold)
    vec = embed(items)
    cand = {tuple(sorted((items[i], items[j]))) for i in range(len(items))
            for j in np.argsort(-(vec[i] @ vec.T))[1:k + 1]}
    cand = sorted(cand)
    scores = model.predict([SynonymPair(a, b) for a, b in cand], embed)
    scored = dict(zip(cand, scores))
    thr = model.threshold_

    def score(ps):
        return list(model.predict([SynonymPair(a, b) for a, b in ps], embed))

    methods = {"complete linkage (the stage)": complete_linkage(items, scored, score, thr),
               "transitive closure of accepted pairs": transitive_closure(items, [p for p, s in scored.items() if s >= thr])}
    rows = []
    for method, clusters in methods.items():
        multi = [c for c in clusters if len(c) > 1]
        in_multi = sum(len(c) for c in multi)
        majority = sum(max(sum(gold[n] == g for n in c) for g in {gold[n] for n in c}) for c in multi)
        same = sum(gold[a] == gold[b] for c in multi for i, a in enumerate(c) for b in c[i + 1:])
        pairs = sum(len(c) * (len(c) - 1) // 2 for c in multi)
        gold_pairs = sum(len(v) * (len(v) - 1) // 2 for v in
                         (lambda d: [d[g] for g in d])(_members(gold)))
        rows.append({"method": method, "purity": majority / in_multi if in_multi else None,
                     "pair precision": same / pairs if pairs else None, "pair recall": same / gold_pairs if gold_pairs else None,
                     "clusters (size > 1)": len(multi), "largest": max((len(c) for c in multi), default=0), "names": len(items)})
    return rows


def _members(gold: dict[str, Any]) -> dict[Any, list[str]]:
    out: dict[Any, list[str]] = defaultdict(list)
    for n, g in gold.items():
        out[g].append(n)
    return out


def offer_text(record) -> str:
    """An offer as one string: title, then its other attributes (brand, model, price...), then
    the start of its description."""
    parts = [record.title or ""] + [a.value for a in record.attributes] + [(record.description or "")[:200]]
    return " | ".join(p for p in parts if p)


def offer_pairs(data: Path) -> dict[str, dict[str, list[SynonymPair]]]:
    """Per matching data set: its train and valid pairs as offer strings."""
    from ...loaders.pairs import match_pairs

    out: dict[str, dict[str, list[SynonymPair]]] = {}
    files = sorted(data.glob("er_magellan_products/*/*.csv")) + sorted(data.glob("wdc_lspc_v2_products/*/*.csv"))
    for path in files:
        split = "train" if path.stem.startswith("train") else "valid"
        name = path.parent.name
        for r in match_pairs(path, name):
            out.setdefault(name, {}).setdefault(split, []).append(
                SynonymPair(offer_text(r.left), offer_text(r.right), int(r.match), f"{name}:{r.id}", "offer"))
    return out


def _evaluate_terms(data: Path, test: Path | None, trained: SynonymClassifier | None, embed: Callable, seed: int,
                    epochs: int, progress, max_clusters: dict[str, int] = MAX_CLUSTERS) -> dict[str, Any]:
    sources = term_clusters(data)
    test_sources = term_clusters(test) if test is not None else None
    if not sources or test_sources == {}:
        return {}
    split, leaked = _split_clusters(sources, max_clusters, test_sources=test_sources)
    parents = {s: {**p, **(test_sources or {}).get(s, ({}, {}))[1]} for s, (_, p) in {**(test_sources or {}), **sources}.items()}
    train, _ = _pairs(split["train"], parents, embed, seed)
    dev, slices = _pairs(split["dev"], parents, embed, seed)
    start = time.perf_counter()
    model = trained or SynonymClassifier(epochs=epochs, max_length=32, seed=seed).fit(train, embed, progress)
    fit_s = time.perf_counter() - start
    methods = {"model: features + cross-encoder": (model.predict(dev, embed), model.threshold_)}
    no_neural = SynonymClassifier(seed=seed, cross_encoder=False).fit(train, embed)
    methods["model without the cross-encoder"] = (no_neural.predict(dev, embed), no_neural.threshold_)
    for name, (f, thr, _) in _baselines(train, embed).items():
        methods[name] = (f(dev), thr)
    y = np.array([p.label for p in dev])
    curves = {m: pr_curve(y, sc) for m, (sc, _) in methods.items()}
    return {"rows": _score_table(dev, slices, methods), "by negative kind": _by_negative_kind(dev, methods), "curves": curves, "blockers": _blocker_recall(split["dev"], embed),
            "purity": _purity(split["dev"], model, embed),
            "sizes": {"train clusters": len(split["train"]), "dev clusters": len(split["dev"]),
                      "dev clusters dropped (a name also in train)": leaked, "train pairs": len(train), "dev pairs": len(dev),
                      "dev positives": sum(p.label for p in dev), "threshold": model.threshold_, "fit s": round(fit_s, 1),
                      **model.sizes_}}


def _evaluate_offers(data: Path, test: Path | None, trained: SynonymClassifier | None, embed: Callable, seed: int,
                     epochs: int, progress, max_train: int | None = None) -> dict[str, Any]:
    """Product matching per data set; `max_train` caps every set's training pairs (the quick
    profile; by default the sets with a Ditto figure train on all)."""
    sets = offer_pairs(data)
    if test is not None:  # train on every pair of the training folder, score every pair of the test folder
        tests = offer_pairs(test)
        sets = {name: {"train": [p for ps in sets.get(name, {}).values() for p in ps],
                       "valid": [p for ps in tests.get(name, {}).values() for p in ps]} for name in set(sets) | set(tests)}
        if not tests:
            return {}
    if not sets:
        return {}
    rng = random.Random(seed)
    train = []
    for name, splits in sorted(sets.items()):
        pairs = splits.get("train", [])  # a uniform sample keeps the set's match rate (threshold, priors)
        cap = max_train if max_train is not None else (None if name in DITTO_F1 else MAX_OFFER_TRAIN)
        train += pairs if cap is None else rng.sample(pairs, min(len(pairs), cap))
    start = time.perf_counter()
    model = trained or SynonymClassifier(epochs=epochs, max_length=96, seed=seed, negative_ratio=OFFER_NEGATIVE_RATIO).fit(
        train, embed, progress)
    fit_s = time.perf_counter() - start
    baselines = _baselines(train, embed)
    rows, unscored = [], []
    for name, splits in sorted(sets.items()):
        dev = splits.get("valid", [])
        if not dev or not any(p.label for p in dev):
            unscored.append(name)
            continue
        scores = model.predict(dev, embed)
        methods = {"model: features + cross-encoder": (scores, model.threshold_),
                   "model, each set's own threshold": (scores, model.threshold_for(f"{name}:"))}
        own = np.array([p.group.startswith(f"{name}:") for p in train])
        y_own = np.array([p.label for p in train])[own]
        for b, (f, thr, s_train) in baselines.items():  # each at its best F1 on this set's training pairs
            methods[b] = (f(dev), best_f1_threshold(y_own, s_train[own]) if 0 < y_own.sum() < len(y_own) else thr)
        for r in _score_table(dev, [name] * len(dev), methods):
            if r["slice"] != "all":
                rows.append({**r, "Ditto F1 (test)": DITTO_F1.get(name)})
    return {"rows": rows, "unscored": unscored, "sizes": {"train pairs": len(train), "threshold": model.threshold_,
                                    "fit s": round(fit_s, 1), **model.sizes_}}


DATA_FILES = ("openfoodfacts_categories/synonyms.tsv", "openfoodfacts_value_taxonomies/*.synonyms.tsv",
              "wordnet_consumables/synsets.tsv", "er_magellan_products/*/*.csv", "wdc_lspc_v2_products/*/*.csv")


def evaluate_synonyms(data: Path, seed: int = 0, epochs: int = 2, embed: Callable | None = None, test: Path | None = None,
                      model: Path | None = None, max_clusters: dict[str, int] = MAX_CLUSTERS,
                      max_offer_train: int | None = None) -> dict[str, Any]:
    """`autoknow evaluate synonyms --data DIR` (dev splits carved from DIR), or `--train DIR --test
    DIR` (trained on one, scored on the other); `model`: a saved synonyms stage whose classifier
    is scored instead of training one (for terms and offers alike)."""
    from ...console import progress_bar
    from ...ml.encoder import embed as default_embed

    embed = embed or default_embed
    trained = None
    if model is not None:
        from .stage import SynonymsStage

        trained = SynonymsStage.open(Path(model)).classifier_
    result: dict[str, Any] = {"tables": {}, "skipped": []}
    with progress_bar("synonyms: fine-tuning") as advance:
        terms = _evaluate_terms(Path(data), test, trained, embed, seed, epochs, advance, max_clusters)
        offers = _evaluate_offers(Path(data), test, trained, embed, seed, epochs, advance, max_offer_train)
    if terms:
        result["tables"]["value/type synonyms (dev clusters)"] = terms["rows"]
        result["tables"]["value/type synonyms by negative kind (all dev positives)"] = terms["by negative kind"]
        result["tables"]["candidate blockers, recall on dev synonym pairs"] = terms["blockers"]
        result["tables"]["cluster purity (dev names, embedding-kNN candidates)"] = terms["purity"]
        result["value/type synonyms (dev clusters)"] = terms["sizes"]
        result["curves"] = terms["curves"]
    else:
        result["skipped"].append("value/type synonyms: no Open Food Facts or WordNet synonym file" + (" in both folders" if test else ""))
    if offers:
        result["skipped"] += [f"product matching {name}: no pairs to score" for name in offers["unscored"]]
        result["tables"]["product matching (valid splits)"] = offers["rows"]
        result["product matching (valid splits)"] = offers["sizes"]
    if not offers:
        result["skipped"].append("product matching: no ER-Magellan or WDC pairs" + (" in both folders" if test else ""))
    if not result["tables"]:
        from ...errors import AutoknowError

        raise AutoknowError(f"{data}: no synonym or matching data (openfoodfacts_*, wordnet_consumables, er_magellan_products, wdc_lspc_v2_products)")
    return result




# quick: 600 training clusters and 800 offer pairs took 6.6 min on 2 cores from an empty
# embedding cache (fits 81 + 95 s); these sizes fit the 5 minutes
PROFILES = {"full": {}, "quick": {"epochs": 1, "max_clusters": {"train": 400, "dev": 150}, "max_offer_train": 500}}


def evaluate(data: Path, test: Path | None = None, model: Path | None = None, profile: str = "full") -> dict[str, Any]:
    """The stage's protocol (`autoknow evaluate synonyms`)."""
    return evaluate_synonyms(data, test=test, model=model, **PROFILES[profile])


def dev_precision(tables: dict[str, list[dict]]) -> float | None:
    row = pick(tables.get("value/type synonyms (dev clusters)", []), slice="all", method="model: features + cross-encoder")
    return row and row.get("P")
