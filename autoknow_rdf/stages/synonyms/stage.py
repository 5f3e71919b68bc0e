"""Stage 3, synonyms: find types, values and products that mean the same, as OWL links.

`read` gathers every type's and value's names (label and skos:altLabels, any language), the
taxonomy's parent links, basket behaviour (products with titles) and labelled offer pairs.
`fit` trains the synonym classifier (models/synonym.py) on the store's own gold: the names of
one type or value are synonyms, a sibling's, a parent's or a near-but-different name is not; offer pairs
join when the store has them. `predict` generates candidates (MiniLM nearest names per
attribute and across taxonomies, products bought with the same other products, types with
the same co-basket profile), scores them, clusters the pairs whose calibrated probability passes
their kind's gate (value and product: fitted on held-in gold pairs; type: on people's verdicts, see
below) by complete linkage (no chaining) and asserts `owl:sameAs` (values, products) or `owl:equivalentClass` (types)
inside each cluster, with score and evidence, plus `ak:canonical` to the most used member.
Type links are read in context (`context.py`) where people's verdicts on earlier versions' links
taught how: the two types' paths, parents and shared products beside the classifier's score; the
type gate is then fitted on those verdicts' out-of-fold scores, weighted as their samples were
drawn, not on gold names (without enough verdicts, on held-in gold pairs as the others).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from pyoxigraph import NamedNode

from ...provenance import Evidence, Fact
from ...splits import bucket
from ...store import KnowledgeStore
from ...vocab import AK, OWL, scheme_iri
from ..base import Stage, Verdict, audited_triples

__all__ = ["SynonymsStage", "SynonymInputs", "read_inputs"]

MODEL_NAME = "autoknow-synonym-classifier"
MODEL_VERSION = "0.6.0"  # 0.2: word-subset and head-word features, parent names as negatives; 0.3: code agreement;
# 0.4: calibrated gates per kind; 0.5: type links read in context, learned from people's verdicts; 0.6: verdicts
# weighted as sampled, only pairs a run would score, curated paths
LABEL_SCHEME = scheme_iri("label").value  # types named only in titles (the taxonomy stage's new types)


@dataclass(frozen=True)
class Candidate:
    a: str  # IRI
    b: str
    kind: str  # "type", "value" or "product"
    source: str  # which blocker proposed it


@dataclass
class SynonymInputs:
    names: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # term -> [(lang, name)], preferred first
    kind: dict[str, str] = field(default_factory=dict)  # term -> "type" | "value"
    group: dict[str, str] = field(default_factory=dict)  # term -> taxonomy (types) or attribute (values)
    parents: dict[str, set[str]] = field(default_factory=dict)  # term -> parent terms
    baskets: dict[str, set[str]] = field(default_factory=dict)  # basket -> products
    titles: dict[str, str] = field(default_factory=dict)  # product -> title
    product_types: dict[str, set[str]] = field(default_factory=dict)
    offers: list[tuple[str, str, int]] = field(default_factory=list)  # (left title, right title, match)
    usage: dict[str, int] = field(default_factory=dict)  # term -> products using it
    # type -> products typed with it, in any graph: the catalogues' types and those runs added
    type_products: dict[str, set[str]] = field(default_factory=dict)
    curated_parents: dict[str, set[str]] = field(default_factory=dict)  # as the taxonomies state them
    # people's verdicts on type links earlier models added, (type, type) in sorted order
    audited: dict[tuple[str, str], Verdict] = field(default_factory=dict)

    def label(self, term: str) -> str:
        if term in self.titles:
            return self.titles[term]
        names = self.names.get(term, [])
        english = [n for l, n in names if l in ("en", "")]
        return (english or [n for _, n in names] or [term.rsplit("/", 1)[-1]])[0]


def read_inputs(store: KnowledgeStore) -> SynonymInputs:
    inputs = SynonymInputs()
    names: dict[str, dict[tuple[str, str], bool]] = defaultdict(dict)
    for r in store.select("list_term_names"):
        t = r["term"].value
        inputs.kind[t], inputs.group[t] = r["kind"].value, r["group"].value
        names[t][(r["name"].language or "", r["name"].value)] = r["preferred"].value == "true"
        if r["parent"] is not None:
            inputs.parents.setdefault(t, set()).add(r["parent"].value)
    for t, ns in names.items():
        inputs.names[t] = sorted(ns, key=lambda n: (not ns[n], n[0] not in ("en", ""), n))
    for r in store.select("list_basket_products"):
        p = r["product"].value
        inputs.baskets.setdefault(r["basket"].value, set()).add(p)
        inputs.titles[p] = r["title"].value
        if r["type"] is not None:
            inputs.product_types.setdefault(p, set()).add(r["type"].value)
    inputs.offers = sorted({(r["leftTitle"].value, r["rightTitle"].value, int(r["match"].value == "true"))
                            for r in store.select("list_match_pairs")})
    inputs.usage = {r["term"].value: int(r["products"].value) for r in store.select("count_term_products")}
    for r in store.select("list_product_titles_by_type"):
        inputs.type_products.setdefault(r["type"].value, set()).add(r["product"].value)
    for r in store.select("list_curated_subclass_edges"):
        inputs.curated_parents.setdefault(r["child"].value, set()).add(r["parent"].value)
    inputs.audited = audited_triples(store, "synonyms", "equivalentClass link", OWL.equivalentClass,
                                     exclude=(MODEL_NAME, MODEL_VERSION), symmetric=True)
    return inputs


def _english(names: list[tuple[str, str]]) -> list[str]:
    return [n for l, n in names if l in ("en", "")]


class SynonymsStage(Stage):
    name = "synonyms"
    model_name, model_version = MODEL_NAME, MODEL_VERSION
    DEMO_CONFIG = {"max_clusters": 800, "epochs": 2}  # 400 x 1 reached no held-in threshold of 0.9 precision
    requires = (AK.ofAttribute, AK.containsProduct)
    assigns = (OWL.sameAs, OWL.equivalentClass, AK.canonical)

    def kind_of(self, group: str) -> str:
        return "equivalentClass link" if group == "type" else "sameAs link"

    def gate_fitted_on(self, group: str) -> str:
        return "verdicts on earlier versions" if group == "type" and self.context_ is not None else "held-in"

    def __init__(self, epochs: int = 1, max_clusters: int = 1000, max_offers: int = 1000, k: int = 5,
                 block_min: float = 0.75, max_candidates: int = 20000, seed: int = 0):
        self.epochs, self.max_clusters, self.max_offers, self.k = epochs, max_clusters, max_offers, k
        self.block_min, self.max_candidates, self.seed = block_min, max_candidates, seed
        self.metrics_: dict[str, Any] = {}
        self.context_ = None

    def read(self, store: KnowledgeStore) -> SynonymInputs:
        return read_inputs(store)

    # ---- training --------------------------------------------------------------------------
    def gold_pairs(self, inputs: SynonymInputs, embed) -> list:
        """Synonym pairs from the store: a term's names (English and cross-language), against a
        sibling's name, the nearest other name and a random one; labelled offer pairs too."""
        from .model import SynonymPair, nearest_other_names, pairs_from_clusters

        multi = sorted((t for t, ns in inputs.names.items() if _english(ns) and len({n.lower() for _, n in ns}) > 1),
                       key=lambda t: bucket("gold" + t, 10**6))[: self.max_clusters]
        clusters = {t: [n for _, n in inputs.names[t]][:6] for t in multi}
        children: dict[str, list[str]] = defaultdict(list)
        for t in multi:  # parents in a fixed order: set order changes with each process's hash seed, and
            for p in sorted(inputs.parents.get(t, ())):  # with it the negatives drawn (two trainings on one
                children[p].append(t)  # store differed, and the audit gate's map moved: 135 links passed, then 5)
        siblings = {t: [s for p in sorted(inputs.parents.get(t, ())) for s in children[p]] for t in multi}
        broader = {t: [n for p in sorted(inputs.parents.get(t, ())) for n in _english(inputs.names.get(p, []))[:2]] for t in multi}
        pairs = pairs_from_clusters(clusters, siblings, nearest_other_names(clusters, embed), per_cluster=2, seed=self.seed,
                                    broader=broader)
        offers = sorted(inputs.offers, key=lambda o: bucket("offer" + o[0] + o[1], 10**6))[: self.max_offers]
        pairs += [SynonymPair(a, b, m, f"offer:{a}|{b}", "offer") for a, b, m in offers]
        return pairs

    def fit(self, inputs: SynonymInputs) -> "SynonymsStage":
        from ...ml.encoder import embed
        from .model import SynonymClassifier

        pairs = self.gold_pairs(inputs, embed)
        self.classifier_ = SynonymClassifier(epochs=self.epochs, max_length=48, seed=self.seed)
        try:
            self.classifier_.fit(pairs, embed)
        except ValueError:  # too little gold in the store: no model, no links
            self.classifier_ = None
        verdict_scores, context_metrics = self._fit_context(inputs, embed)
        self.gate_ = self._gate(inputs, *getattr(self.classifier_, "held_", ([], [])), verdict_scores=verdict_scores)
        self.metrics_ = {"gold pairs": len(pairs), "positives": sum(p.label for p in pairs),
                         "offer pairs": sum(p.kind == "offer" for p in pairs),
                         "best-F1 threshold": getattr(self.classifier_, "threshold_", None),
                         "thresholds by held-in precision": getattr(self.classifier_, "precision_thresholds_", None),
                         **context_metrics}
        return self

    def _fit_context(self, inputs: SynonymInputs, embed) -> tuple[tuple[list, list, list] | None, dict[str, Any]]:
        """Fit the context model on people's verdicts on the type pairs a run would score (both
        types named in English, no hypernym between them). Returns each verdict's out-of-fold
        context score, label and weight, for the type gate (None without a context model: too few
        verdicts, or a fold without enough to fit), and what was measured."""
        from ...ml.folds import out_of_fold
        from ...ml.metrics import roc_auc
        from .context import LinkContext

        self.context_ = None
        up = self._ancestors(inputs)
        pairs = [k for k in inputs.audited if inputs.kind.get(k[0]) == inputs.kind.get(k[1]) == "type"
                 and all(_english(inputs.names.get(t, [])) for t in k) and not self.cannot_link(inputs, up, *k)]
        if self.classifier_ is None or not pairs:
            return None, {}
        raw = self._classifier_scores(pairs, inputs, embed)
        features = self.type_places(inputs).features(pairs, embed)
        right = np.array([inputs.audited[k].right for k in pairs])
        weight = np.array([inputs.audited[k].weight for k in pairs])
        folds = np.array([bucket("context" + a + b, 5) for a, b in pairs])
        oof = out_of_fold(folds, 5, lambda rows: LinkContext.fit(raw[rows], features[rows], right[rows], weight[rows]),
                          lambda model, rows: model.score(raw[rows], features[rows]))
        if oof is None:
            return None, {"context verdicts": len(pairs), "context": "too few verdicts in a fold"}
        self.context_ = LinkContext.fit(raw, features, right, weight)
        y = (right > 0.5).astype(int)
        return (oof.tolist(), y.tolist(), weight.tolist()), {
            "context verdicts": len(pairs), "verdicts right": int(y.sum()),
            "verdict ROC-AUC, classifier": roc_auc(y, raw), "verdict ROC-AUC, in context (out of fold)": roc_auc(y, oof)}

    def type_places(self, inputs: SynonymInputs):
        """The types' names, curated paths and products, for the context features."""
        from .context import TypePlaces

        types = {t for t, k in inputs.kind.items() if k == "type"}
        return TypePlaces(inputs.label, inputs.curated_parents, {t: inputs.group[t] for t in types}, inputs.type_products)

    def _classifier_scores(self, pairs: list[tuple[str, str]], inputs: SynonymInputs, embed) -> np.ndarray:
        from .model import SynonymPair

        labels = [SynonymPair(inputs.label(a), inputs.label(b), kind="offer" if inputs.kind.get(a) is None else "term")
                  for a, b in pairs]
        return np.asarray(self.classifier_.predict(labels, embed), dtype=float) if pairs else np.zeros(0)

    def scores(self, pairs: list[tuple[str, str]], kind: str, inputs: SynonymInputs, embed, places=None) -> np.ndarray:
        """Uncalibrated scores of candidate pairs of one kind (the gate calibrates them): the
        classifier's, type links read in context where a context model was fitted."""
        raw = self._classifier_scores(pairs, inputs, embed)
        if kind != "type" or self.context_ is None or not pairs:
            return raw
        return self.context_.score(raw, (places or self.type_places(inputs)).features(pairs, embed))

    @staticmethod
    def _gate(inputs: SynonymInputs, held: list, scores, verdict_scores: tuple[list, list, list] | None = None):
        """Gates per kind (type, value, product) from the held-in pairs' cross-validated scores.
        Random negatives are left out: the candidates a run judges are near names, so the easy
        pairs would make the held-in precision look better than the run's. With a context model,
        the type gate is fitted on people's verdicts instead (`verdict_scores`: out-of-fold
        scores, labels and sample weights)."""
        from ...ml.gate import Gate

        keep = [i for i, p in enumerate(held) if p.negative != "random"]
        kinds = ["product" if held[i].kind == "offer" else inputs.kind.get(held[i].group, "type") for i in keep]
        rows = [(scores[i], held[i].label, k, 1.0) for i, k in zip(keep, kinds)]
        if verdict_scores is not None:
            rows = [r for r in rows if r[2] != "type"] + [(s, y, "type", w) for s, y, w in zip(*verdict_scores)]
        return Gate.fit([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], weights=[r[3] for r in rows],
                        min_group=1)

    # ---- candidates ------------------------------------------------------------------------
    def candidates(self, inputs: SynonymInputs, embed, up: dict[str, set[str]] | None = None) -> list[Candidate]:
        """Blockers: nearest names (values within an attribute; types across taxonomies or new),
        products bought with the same other products, types with the same co-basket profile."""
        out: dict[tuple[str, str], Candidate] = {}

        def add(a: str, b: str, kind: str, source: str) -> None:
            key = tuple(sorted((a, b)))
            if a != b and key not in out:
                out[key] = Candidate(key[0], key[1], kind, source)

        up = up if up is not None else self._ancestors(inputs)
        types = sorted(t for t, k in inputs.kind.items() if k == "type" and _english(inputs.names.get(t, [])))
        for a, b in self._nearest(types, inputs, embed, lambda x, y: not self.cannot_link(inputs, up, x, y)):
            add(a, b, "type", "nearest names")
        by_attribute: dict[str, list[str]] = defaultdict(list)
        for t, k in sorted(inputs.kind.items()):
            if k == "value":
                by_attribute[inputs.group[t]].append(t)
        for values in by_attribute.values():
            for a, b in self._nearest(values, inputs, embed, lambda x, y: not self.cannot_link(inputs, up, x, y)):
                add(a, b, "value", "nearest names")
        for a, b in self._co_basket_products(inputs):
            add(a, b, "product", "bought with the same products")
        for a, b in self._co_basket_types(inputs):
            if not self.cannot_link(inputs, up, a, b):
                add(a, b, "type", "same co-basket profile")
        return sorted(out.values(), key=lambda c: (c.a, c.b))[: self.max_candidates]

    @staticmethod
    def cannot_link(inputs: SynonymInputs, up: dict[str, set[str]], a: str, b: str) -> bool:
        """Pairs no score may join: a term and its ancestor (a hypernym is no synonym), two
        types of one curated taxonomy (its siblings are distinct by design; types named only in
        titles are not curated), terms of different kinds or attributes."""
        if a in up.get(b, ()) or b in up.get(a, ()) or inputs.kind.get(a) != inputs.kind.get(b):
            return True
        if inputs.kind.get(a) == "value":
            return inputs.group[a] != inputs.group[b]
        return inputs.kind.get(a) == "type" and inputs.group[a] == inputs.group[b] != LABEL_SCHEME

    @staticmethod
    def _ancestors(inputs: SynonymInputs) -> dict[str, set[str]]:
        memo: dict[str, set[str]] = {}

        def up(t: str, path: frozenset = frozenset()) -> set[str]:
            if t in memo:
                return memo[t]
            result: set[str] = set()
            for p in inputs.parents.get(t, ()):
                if p not in path:
                    result |= {p} | up(p, path | {t})
            memo[t] = result
            return result

        return {t: up(t) for t in inputs.parents}

    def _nearest(self, terms: list[str], inputs: SynonymInputs, embed, allowed) -> list[tuple[str, str]]:
        if len(terms) < 2:
            return []
        vec = embed([inputs.label(t) for t in terms])
        out = []
        for i in range(0, len(terms), 2048):
            sims = vec[i:i + 2048] @ vec.T
            for row, x in zip(sims, terms[i:i + 2048]):
                top = np.argpartition(-row, min(self.k + 1, len(row) - 1))[: self.k + 1]
                for j in top[np.argsort(-row[top])]:
                    if terms[j] != x and row[j] >= self.block_min and allowed(x, terms[j]):
                        out.append((x, terms[j]))
        return out

    @staticmethod
    def _co_basket_products(inputs: SynonymInputs, min_shared: int = 2, max_fanout: int = 200) -> list[tuple[str, str]]:
        """Products of one type that were each bought with at least `min_shared` of the same
        other products (second-order co-occurrence, as "Half & Half" and "Half and Half")."""
        neighbours: dict[str, set[str]] = defaultdict(set)
        for products in inputs.baskets.values():
            for p in products:
                neighbours[p] |= products - {p}
        with_neighbour: dict[str, list[str]] = defaultdict(list)
        for p, ns in neighbours.items():
            for n in ns:
                with_neighbour[n].append(p)
        shared: Counter = Counter()
        for n, ps in with_neighbour.items():
            if len(ps) <= max_fanout:
                for a, b in combinations(sorted(ps), 2):
                    if inputs.product_types.get(a, set()) & inputs.product_types.get(b, set()):
                        shared[(a, b)] += 1
        return [pair for pair, c in shared.items() if c >= min_shared]

    @staticmethod
    def _co_basket_types(inputs: SynonymInputs, top: int = 2, min_cosine: float = 0.9) -> list[tuple[str, str]]:
        """Types whose products are bought with the same other types (cosine of co-basket counts)."""
        counts: dict[str, Counter] = defaultdict(Counter)
        for products in inputs.baskets.values():
            types = {t for p in products for t in inputs.product_types.get(p, ())}
            for t in types:
                counts[t].update(types - {t})
        names = sorted(counts)
        if len(names) < 2:
            return []
        index = {t: i for i, t in enumerate(names)}
        m = np.zeros((len(names), len(names)), dtype=np.float32)
        for t, c in counts.items():
            for u, n in c.items():
                m[index[t], index[u]] = n
        m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
        sims = m @ m.T
        out = []
        for i, row in enumerate(sims):
            for j in np.argsort(-row)[1:top + 1]:
                if row[j] >= min_cosine:
                    out.append((names[i], names[j]))
        return out

    # ---- prediction ------------------------------------------------------------------------
    def predict(self, inputs: SynonymInputs) -> list[Fact]:
        """Links inside complete-linkage clusters of accepted candidate pairs, and canonicals."""
        from ...ml.encoder import embed
        from .model import complete_linkage

        if self.classifier_ is None:
            return []
        up = self._ancestors(inputs)
        cands = self.candidates(inputs, embed, up)
        if not self.metrics_.get("offer pairs"):  # a model that never saw a labelled offer pair does not judge products
            cands = [c for c in cands if c.kind != "product"]
        places = self.type_places(inputs) if self.context_ is not None else None

        source = {(c.a, c.b): c.source for c in cands}
        raw: dict[tuple[str, str], float] = {}
        for kind in ("type", "value", "product"):
            keys = [(c.a, c.b) for c in cands if c.kind == kind]
            raw.update(zip(keys, self.scores(keys, kind, inputs, embed, places)))
        scores: dict[tuple[str, str], float] = {}  # calibrated P(synonym) per scored pair
        clusters = []
        for kind in ("type", "value", "product"):
            keys = [(c.a, c.b) for c in cands if c.kind == kind]
            if not keys:
                continue
            probability, passed = self.gated([kind] * len(keys), [raw[k] for k in keys])
            scores.update(zip(keys, (float(p) for p in probability)))
            if not passed.any():
                continue
            gate = float(probability[passed].min())  # the run's gate (`gated`): complete linkage joins at it

            def score_more(ps: list[tuple[str, str]], kind=kind) -> list[float]:  # cross pairs a merge waits for
                more = [float(v) for v in self.gate_.probability(kind, self.scores(ps, kind, inputs, embed, places))]
                scores.update(zip(ps, more))
                return more

            items = sorted({x for k, ok in zip(keys, passed) if ok for x in k})
            clusters += complete_linkage(items, {k: scores[k] for k in keys}, score_more, gate,
                                         cannot_link=lambda a, b: self.cannot_link(inputs, up, a, b))
        facts = []
        for cluster in (c for c in clusters if len(c) > 1):
            kind = inputs.kind.get(cluster[0], "product")
            relation = OWL.equivalentClass if kind == "type" else OWL.sameAs
            canonical = max(cluster, key=lambda t: (inputs.usage.get(t, 0), len(inputs.names.get(t, [])), -len(t), t))
            for a, b in combinations(cluster, 2):
                key = (a, b) if (a, b) in scores else (b, a)
                if key not in scores:
                    continue
                text = f"'{inputs.label(a)}' ≈ '{inputs.label(b)}' (candidate: {source.get(key, 'cluster check')})"
                facts.append(Fact(NamedNode(a), relation, NamedNode(b), evidence=Evidence(text),
                                  confidence=round(float(scores[key]), 4)))
            low = min(float(scores.get((a, b), scores.get((b, a), 1.0))) for a, b in combinations(cluster, 2))
            for member in cluster:
                facts.append(Fact(NamedNode(member), AK.canonical, NamedNode(canonical), confidence=round(low, 4),
                                  evidence=Evidence(f"cluster of {len(cluster)}: " + "; ".join(inputs.label(m) for m in cluster))))
        self.metrics_["candidates"] = dict(Counter(c.source + " / " + c.kind for c in cands))
        return facts

    def score(self, inputs: SynonymInputs) -> dict[str, Any]:
        """PR-AUC of the trained classifier on the store's gold pairs (in-sample: a sanity check;
        `autoknow evaluate synonyms` gives the dev-split figures)."""
        from ...ml.encoder import embed
        from ...ml.metrics import average_precision

        pairs = self.gold_pairs(inputs, embed)
        if self.classifier_ is None or len({p.label for p in pairs}) < 2:
            return {"PR-AUC": None, "pairs": len(pairs)}
        return {"PR-AUC": average_precision([p.label for p in pairs], self.classifier_.predict(pairs, embed)),
                "pairs": len(pairs)}

    # ---- persistence -----------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "max_clusters": self.max_clusters, "max_offers": self.max_offers, "k": self.k,
                "block_min": self.block_min, "max_candidates": self.max_candidates,
                "seed": self.seed}

    def save(self, folder: Path) -> None:
        if self.classifier_ is not None:
            self.classifier_.save(folder / "classifier")
        if self.context_ is not None:
            self.context_.save(folder)
        self.save_config(folder, self._config())

    @classmethod
    def load(cls, folder: Path) -> "SynonymsStage":
        from ...errors import AutoknowError
        from .context import LinkContext
        from .model import SynonymClassifier

        stage = cls.from_config(folder)
        stage.classifier_, stage.context_ = None, None
        try:
            if (folder / "classifier").is_dir():
                stage.classifier_ = SynonymClassifier.load(folder / "classifier")
            stage.context_ = LinkContext.load(folder)
        except ValueError as e:
            raise AutoknowError(str(e)) from e
        return stage
