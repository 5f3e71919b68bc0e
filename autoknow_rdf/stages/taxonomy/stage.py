"""Stage 1, taxonomy: find product types in titles and attach types under their hypernyms.

`read` turns the store into TaxonomyInputs: a TaxonomyView (names, parent links, product
titles, baskets) plus every titled product with its types, labelled title spans and people's
verdicts on earlier typings. `fit` trains the span tagger (human attribute spans, and distant
TYPE spans where a product's own type name occurs in its title), the title typer (curated types
hidden in turn, read in context as people judged; `title_typer`) and the hypernym ranker (on
existing edges). `predict` types each product, in every taxonomy it has no type in, with the
title typer's best known type; a type span of the tagger that names no known type becomes a new
owl:Class. Then every type without a parent, new ones
included, is attached under the candidates whose probability passes its gate (several parents
allowed). Four kinds of fact have their own calibrated gate, fitted on products and leaves held
out of training: a product typed with a known type, a product typed with a new type, a type's
first parent and its further parents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from dataclasses import dataclass, field

from ...splits import bucket
from .hypernym import FEATURES, HypernymModel, leaf_candidates
from .reranker import Reranker
from .title_typer import TitleTyper
from ..view import TaxonomyView, read_view, words
from ...provenance import Evidence, Fact
from ...store import KnowledgeStore
from ...vocab import AK, OWL, RDF, RDFS, SCHEMA, SKOS, scheme_iri, scheme_name, slug, type_iri
from ..base import Stage, audited_triples

__all__ = ["TaxonomyStage", "read_view"]

MODEL_NAME = "autoknow-hypernym"
MODEL_VERSION = "0.8.0"  # 0.2: calibrated gates per kind of fact; 0.3: the re-ranker, gated per taxonomy;
# 0.4: first parents gated on the re-ranker's confidence model, at a lower confidence bound; 0.5: known
# types decided over the whole title (title_typer), learned and gated on curated types; 0.6: read in
# context as people judged earlier typings (TitleTyper.fit_context); 0.7: and the type's audited rate; 0.8: after
# review: a type's popularity leaves the hidden product out, catalogue-stated types only, word-matched name spans
GATE_CONFIDENCE = 0.9  # the gates' held-in precision must pass at this one-sided lower bound (`ml.gate`)
HELD_IN = 15  # percent of titled products and of leaf types held out of training: they calibrate the gates
KNOWN_TYPE, NEW_TYPE = "product type (known type)", "product type (new type)"
FIRST_PARENT, FURTHER_PARENT = "parent (first)", "parent (second or third)"


NEW_TYPE_SCHEME = "label"  # types found in titles share the scheme of types known only by name
TAGGER_TITLES = 1500  # titles the stage's tagger trains on (demo-sized; the evaluation uses all)


@dataclass
class TaxonomyInputs:
    view: TaxonomyView
    titles: dict[str, str] = field(default_factory=dict)  # product -> title
    types: dict[str, set[str]] = field(default_factory=dict)  # product -> its types in a taxonomy
    spans: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)  # product -> (label, start, end)
    curated: dict[str, set[str]] = field(default_factory=dict)  # product -> its types as its catalogue states them
    # people's verdicts on typings earlier models added: (product, type) -> share judged right
    audited: dict[tuple[str, str], float] = field(default_factory=dict)


def read_inputs(store: KnowledgeStore) -> TaxonomyInputs:
    """The view plus titled products, their types and their labelled title spans."""
    from .tagger import label_of

    inputs = TaxonomyInputs(read_view(store))
    for r in store.select("list_product_titles"):
        p = r["product"].value
        inputs.titles[p] = r["title"].value
        if r["type"] is not None:
            inputs.types.setdefault(p, set()).add(r["type"].value)
    for r in store.select("list_title_spans"):
        span = (label_of(r["attributeLabel"].value), int(r["start"].value), int(r["end"].value))
        if span not in inputs.spans.setdefault(r["product"].value, []):
            inputs.spans[r["product"].value].append(span)
    for r in store.select("list_curated_product_types"):
        inputs.curated.setdefault(r["product"].value, set()).add(r["type"].value)
    inputs.audited = audited_typings(store, exclude_version=MODEL_VERSION)
    return inputs


def audited_typings(store: KnowledgeStore, exclude_version: str | None = None) -> dict[tuple[str, str], float]:
    """(product, type) -> the share of annotators who judged the typing right, over every audit of
    this stage's product typings except those of models of `exclude_version`."""
    exclude = (MODEL_NAME, exclude_version) if exclude_version else None
    return {pair: v.right for pair, v in audited_triples(store, "taxonomy", "product typed", RDF.type, exclude).items()}


def candidates_in(view: TaxonomyView, schemes: set[str]) -> list[str]:
    """Candidate parents: types that already have children, in the given taxonomies."""
    kids = view.children()
    return sorted(t for t in kids if view.scheme.get(t) in schemes)


class TaxonomyStage(Stage):
    name = "taxonomy"
    model_name, model_version = MODEL_NAME, MODEL_VERSION
    DEMO_CONFIG = {"tagger_epochs": 2, "rerank_train": 600}
    requires = (RDFS.subClassOf, RDFS.label, SKOS.altLabel, SKOS.inScheme, SCHEMA.name, AK.containsProduct, RDF.type)
    assigns = (RDFS.subClassOf, RDF.type, RDFS.label, SKOS.inScheme)

    def kind_of(self, group: str) -> str:
        return "product typed" if group in (KNOWN_TYPE, NEW_TYPE) else "subClassOf edge"

    def __init__(self, use_behaviour: bool = True, max_parents: int = 3, seed: int = 0, tag_types: bool = True, tagger_epochs: int = 4,
                 type_threshold: float = 0.5, rerank: bool = True, rerank_train: int = 1500, consistent_types: bool = True,
                 title_typing: bool = True):
        self.use_behaviour = use_behaviour
        # a product gets a type only where it fits the product's own types (TaxonomyView.fits):
        # on the demo's audit the candidates this removes were right 0.31 of the time, those it
        # keeps 0.78 (56 and 194 of 250 judged)
        self.consistent_types = consistent_types
        self.rerank, self.rerank_train = rerank, rerank_train
        self.reranker_: Reranker | None = None
        self.max_parents, self.seed = max_parents, seed
        self.tag_types, self.tagger_epochs, self.type_threshold = tag_types, tagger_epochs, type_threshold
        self.metrics_: dict[str, Any] = {}
        self.tagger_ = None
        # known types decided over the whole title by a classifier of curated types (title_typer);
        # without it, a known type's name that the tagger finds types the product (the span rule)
        self.title_typing = title_typing
        self.typer_: TitleTyper | None = None

    # ---- the stage interface -----------------------------------------------------------------
    def read(self, store: KnowledgeStore) -> TaxonomyInputs:
        return read_inputs(store)

    def fit(self, inputs: TaxonomyInputs | TaxonomyView, embed=None) -> "TaxonomyStage":
        """Train the tagger on labelled titles, the title typer on curated types (and its context
        on people's verdicts), and the hypernym ranker on leaves that have a parent, calibrating
        its threshold on a held-in 15% of them."""
        from ...ml.encoder import embed as default_embed

        view = inputs.view if isinstance(inputs, TaxonomyInputs) else inputs
        if isinstance(inputs, TaxonomyInputs) and self.tag_types:
            self.tagger_ = self._fit_tagger(inputs)

        self.model_ = HypernymModel(self.use_behaviour, seed=self.seed)
        self.model_.prepare(view, embed or default_embed)
        by_scheme = {s: candidates_in(view, {s}) for s in {view.scheme[c] for c in view.parents}}
        self.schemes_ = sorted(by_scheme)
        kids = view.children()
        children = sorted(c for c in view.parents if view.parents[c] and c not in kids)  # leaves, like new types
        calib = [c for c in children if bucket(c) < 15]
        train = [c for c in children if bucket(c) >= 15]
        candidates_of = leaf_candidates(view, by_scheme)
        self.model_.fit(train, candidates_of)
        self.model_.calibrate(calib, candidates_of, self.min_precision)
        held = self.model_.held_in(calib, candidates_of, self.max_parents)
        scores = [p for _, p, _ in held]
        right = [ok for _, _, ok in held]
        groups = [FIRST_PARENT if i == 0 else FURTHER_PARENT for i, _, _ in held]
        if self.rerank:  # the taxonomies' own leaves are ranked and gated by the re-ranker, per taxonomy
            self.reranker_ = Reranker(max_train=self.rerank_train, seed=self.seed).fit(self.model_, view, train, calib,
                                                                                        candidates_of)
            for scheme, i, p, ok in self.reranker_.held_in(self.max_parents):
                scores.append(p)
                right.append(ok)
                groups.append(parent_group(i, scheme))
        if isinstance(inputs, TaxonomyInputs) and self.title_typing and self.tag_types and inputs.curated:
            # curated types teach the classifier; people's verdicts on earlier models' typings the
            # context (read_inputs left this version's out: they are its audit gate's)
            self.typer_ = TitleTyper(seed=self.seed).prepare(view, inputs.titles, inputs.curated, embed or default_embed)
            self.typer_.fit().fit_context(inputs.audited)
            for _, score, ok in self.typer_.held_in():
                scores.append(score)
                right.append(ok)
                groups.append(KNOWN_TYPE)
        if isinstance(inputs, TaxonomyInputs) and self.tagger_ is not None:
            typed = self._held_in_typing(inputs)
            scores += [s for s, _, _ in typed]
            right += [ok for _, ok, _ in typed]
            groups += [g for _, _, g in typed]
        from ...ml.gate import Gate

        self.gate_ = Gate.fit(scores, right, groups, min_group=1, confidence=GATE_CONFIDENCE)
        return self

    def _held_in_typing(self, inputs: TaxonomyInputs) -> list[tuple[float, bool, str]]:
        """(score, right, kind) of the type the tagger finds in held-in titles of typed products:
        a known type is right when it is one of the product's types; a new type (a name no type
        has) when its head word is the head word of one of the product's types ("Italian Pasta
        Salad" for Salads, not "Tooth" for Toothbrushes)."""
        held = [p for p in sorted(inputs.titles) if bucket("type-held" + p) < HELD_IN and inputs.types.get(p)]
        held = sorted(held, key=lambda p: bucket("held" + p))[:TAGGER_TITLES]
        out = []
        for p, (t, text, score, _, _) in zip(held, self._best_types([inputs.titles[p] for p in held], self._by_name(inputs))):
            if t is None:
                continue
            if t in inputs.view.names:
                if self.typer_ is None:  # else the title typer decides known types
                    out.append((score, t in inputs.types[p], KNOWN_TYPE))
            else:
                heads = {_head(inputs.view.names[g]) for g in inputs.types[p] if g in inputs.view.names}
                out.append((score, _head(text) in heads, NEW_TYPE))
        return out

    @staticmethod
    def _by_name(inputs: TaxonomyInputs) -> dict[tuple[str, ...], str]:
        by_name: dict[tuple[str, ...], str] = {}
        for t, n in sorted(inputs.view.names.items()):
            by_name.setdefault(tuple(words(n)), t)
        return by_name

    def _best_types(self, titles: list[str], by_name: dict) -> list[tuple[str | None, str, float, int, int]]:
        """Per title: the type its most confident TYPE span names (a known type's IRI, or a new
        type's, added to `by_name`), the span's text, score and offsets; None where no span."""
        out = []
        for title, spans in zip(titles, self.tagger_.predict(titles)):
            types = [s for s in spans if s.label == "TYPE" and s.score >= self.type_threshold]
            best = max(types, key=lambda s: s.score) if types else None
            text = title[best.start:best.end].strip() if best else ""
            key = tuple(words(text))
            if not key:
                out.append((None, "", 0.0, 0, 0))
                continue
            # a new type's IRI is minted from its words, not from the first spelling met: the same
            # name gets the same IRI in whatever order the titles come (Ray's parts, a re-run)
            t = by_name.get(key) or by_name.setdefault(key, type_iri(NEW_TYPE_SCHEME, slug(" ".join(key))).value)
            out.append((t, text, best.score, best.start, best.end))
        return out

    def _fit_tagger(self, inputs: TaxonomyInputs):
        from collections import Counter

        from .tagger import type_spans
        from ...ml.spans import Span
        from .tagger import SpanTagger, TitleExample

        examples = []
        for p in sorted(inputs.titles, key=lambda k: bucket("tagger" + k)):
            if bucket("type-held" + p) < HELD_IN:  # held out: they calibrate the typing gates
                continue
            title = inputs.titles[p]
            names = [inputs.view.names[t] for t in inputs.types.get(p, ()) if t in inputs.view.names]
            distant = type_spans(title, names)
            spans = [Span(l, a, b) for l, a, b in inputs.spans.get(p, ()) if not any(a < d.end and b > d.start for d in distant)]
            if distant or spans:
                examples.append(TitleExample(title, tuple(sorted(distant + spans, key=lambda s: s.start))))
            if len(examples) >= TAGGER_TITLES:
                break
        if not examples:
            return None
        counts = Counter(s.label for e in examples for s in e.spans if s.label != "TYPE")
        labels = ["TYPE"] + [l for l, _ in counts.most_common(8)]
        keep = set(labels)
        examples = [TitleExample(e.text, tuple(s for s in e.spans if s.label in keep)) for e in examples]
        return SpanTagger(labels, epochs=self.tagger_epochs, lr=1e-4, seed=self.seed).fit(examples)

    def gate_table(self) -> list[dict[str, Any]]:
        """The gates, and (after a run) the candidates each rule removed: parents, then typings."""
        rows = super().gate_table()
        for group, count, decision in (
                ("parent written as the type itself", len(getattr(self, "variants_", ())),
                 "removed: the same name written otherwise (an equivalence, for synonyms)"),
                ("parent outside the branch of the type's products", len(getattr(self, "strays_", ())),
                 f"removed: most of the type's products (at least {MIN_MEMBERS}) sit elsewhere in its taxonomy"),
                ("product type outside the product's own branch", getattr(self, "inconsistent_", 0),
                 "removed: another branch of its own taxonomy")):
            if count:
                rows.append({"group": group, "fitted on": "rule", "held-in facts": None, "best held-in precision": None,
                             "gate": None, "held-in precision": None, "held-in recall": None, "ECE": None,
                             "decision": decision, "run gate": None, "facts emitted": 0, "facts withheld": count,
                             "expected precision": None})
        return rows

    def parts(self, inputs: TaxonomyInputs | TaxonomyView, n: int) -> list[list[str]] | None:
        """The products in up to `n` parts whose type spans are found apart (`--engine ray`);
        None without titles to tag (the parents are ranked whole, in this process)."""
        if not isinstance(inputs, TaxonomyInputs) or self.tagger_ is None or not inputs.titles:
            return None
        # a part is a run of the tagger's own batches, in order: padded as in a local run, its
        # spans score the same to the bit (products dealt round-robin moved confidences in the
        # 3rd decimal, measured on the cut)
        products = sorted(inputs.titles)
        batches = self.tagger_.batches([inputs.titles[p] for p in products])
        per = -(-len(batches) // n)
        return [[products[i] for b in batches[k:k + per] for i in b] for k in range(0, len(batches), per)]

    def candidates(self, inputs: TaxonomyInputs, products: list[str] | None = None) -> list[tuple]:
        """(product, type, evidence, score, start, end) for products of `products` (default: all):
        the title typer's best known type per taxonomy the product has no type in, and the
        tagger's most confident type span naming no known type (a new type's IRI, minted from its
        words); the model's work, per product (the typer's index is built once per run's inputs)."""
        products = sorted(inputs.titles) if products is None else products  # a part keeps its batches' order
        best = self._best_types([inputs.titles[p] for p in products], self._by_name(inputs))
        found = [(p, *b) for p, b in zip(products, best) if b[0] is not None and b[0] not in inputs.types.get(p, ())
                 and (self.typer_ is None or b[0] not in inputs.view.names)]
        if self.typer_ is not None:
            found += self._typed_by_title(inputs, products)
        return found

    def _typed_by_title(self, inputs: TaxonomyInputs, products: list[str]) -> list[tuple]:
        """The title typer's best known type per product and taxonomy the product has no type in:
        (product, type, evidence, score, start, end), the name's offsets in the title where it is
        named there (-1 where the type came from near products of another catalogue)."""
        if getattr(self.typer_, "titles_", None) is not inputs.titles:  # prepared once per run's inputs
            self.typer_.prepare(inputs.view, inputs.titles, inputs.curated, _embed_default())
        typed = {p: {inputs.view.scheme.get(t) for t in ts} for p, ts in inputs.types.items()}
        schemes = sorted(self.typer_.members_)
        out = []
        for c, score in self.typer_.best(self.typer_.candidates(products, lambda p: [s for s in schemes if s not in typed.get(p, ())])):
            out.append((c.product, c.type, c.evidence, score, *(c.span or (-1, -1))))
        return out

    def decide(self, inputs: TaxonomyInputs, found: list[tuple]) -> list[Fact]:
        """The run's facts from every product's type spans: typings gated over the whole run (new
        types included), then parents for the parentless types."""
        return self._attach(inputs, *self._typings(inputs, sorted(found)))

    def _typings(self, inputs: TaxonomyInputs, found: list[tuple]) -> tuple[list[Fact], dict[str, str]]:
        """Type spans in titles → product typing facts where the type fits the product's own types
        and its kind's gate passes it; unknown names → new types (IRI → name)."""
        if self.consistent_types:
            kept = [f for f in found if inputs.view.fits(f[1], inputs.types.get(f[0], ()))]
            self.inconsistent_ = len(found) - len(kept)
            found = kept
        probability, passed = self.gated([KNOWN_TYPE if f[1] in inputs.view.names else NEW_TYPE for f in found],
                                         [f[3] for f in found])
        facts, new = [], {}
        for (p, t, text, _, start, end), prob, ok in zip(found, probability, passed):
            if not ok:
                continue
            if t not in inputs.view.names:
                new.setdefault(t, text)
            evidence = Evidence(text, SCHEMA.name, start, end) if start >= 0 else Evidence(text)
            facts.append(Fact(NamedNode(p), RDF.type, NamedNode(t), evidence=evidence, confidence=round(float(prob), 4)))
        for t, text in new.items():
            first = next(f for f in facts if f.object.value == t)
            for pred, obj in ((RDF.type, OWL.Class), (RDFS.label, Literal(text)), (SKOS.inScheme, scheme_iri(NEW_TYPE_SCHEME))):
                facts.append(Fact(NamedNode(t), pred, obj, evidence=first.evidence, confidence=first.confidence))
        return facts, new

    def predict(self, inputs: TaxonomyInputs | TaxonomyView) -> list[Fact]:
        """Type products (the title typer's known types, the tagger's new ones), then attach
        parentless types under their best parents."""
        if isinstance(inputs, TaxonomyInputs) and self.tagger_ is not None:
            return self.decide(inputs, self.candidates(inputs))
        return self._attach(inputs, [], {})

    def _attach(self, inputs: TaxonomyInputs | TaxonomyView, facts: list[Fact], new: dict[str, str]) -> list[Fact]:
        """`facts` (the run's typings) and parent edges for the parentless types, new ones among them."""
        facts = list(facts)
        view = inputs.view if isinstance(inputs, TaxonomyInputs) else inputs
        if new:  # new types join the view with the titles of the products found to be of them
            titles = dict(view.titles)
            for f in facts:
                if f.predicate == RDF.type and f.object.value in new:
                    titles.setdefault(f.object.value, []).append(inputs.titles[f.subject.value])
            scheme = {**view.scheme, **{t: scheme_iri(NEW_TYPE_SCHEME).value for t in new}}
            view = TaxonomyView({**view.names, **new}, view.parents, scheme, titles, view.baskets)
        if getattr(self.model_, "_index", None) is None or self.model_._index.types != sorted(view.names):
            self.model_.prepare(view, _embed_default())
        else:
            self.model_.restructure(view)
        cands = candidates_in(view, set(self.schemes_) or set(view.scheme.values()))
        # a type of a taxonomy the ranker trained on is ranked among that taxonomy's types, as its
        # held-in leaves were (across every taxonomy, masked leaves of Open Food Facts went under
        # look-alike Shopify types: 2 of 21 right); a type of another scheme (a new one) among all
        own = {s: candidates_in(view, {s}) for s in self.schemes_}
        orphans = sorted(t for t in view.names if not view.parents.get(t) and t not in view.children())
        reranked = {}
        if self.reranker_ is not None:
            self.reranker_.attach(view)
            mine = [t for t in orphans if view.scheme.get(t) in self.reranker_.choice_]
            reranked = self.reranker_.rank_many(mine, lambda t: own[view.scheme[t]], limit=self.max_parents)
        ranked = [(t, i, parent, prob, feats) for t in orphans
                  for i, (parent, prob, feats) in enumerate(
                      reranked.get(t) or self.model_.rank(t, own.get(view.scheme.get(t)) or cands, limit=self.max_parents))]
        groups = [parent_group(r[1], view.scheme[r[0]]) if r[0] in reranked else FIRST_PARENT if r[1] == 0 else FURTHER_PARENT
                  for r in ranked]
        probability, passed = self.gated(groups, [r[3] for r in ranked])
        refused: set[str] = set()  # a type whose first parent is refused gets no further one
        members = _members(inputs, facts) if isinstance(inputs, TaxonomyInputs) else {}
        self.variants_, self.strays_ = [], []  # (type, parent) edges the rules removed
        for (t, i, parent, _, feats), prob, ok in zip(ranked, probability, passed):
            if not ok or t in refused:
                refused.add(t)
                continue
            if variant(view.names[t], view.names[parent]):  # the same type written otherwise: synonyms' to link
                self.variants_.append((t, parent))
                refused.add(t)
                continue
            if not _products_fit(parent, members.get(t, ()), view):
                self.strays_.append((t, parent))
                refused.add(t)
                continue
            top = sorted(zip(FEATURES, feats), key=lambda kv: -abs(kv[1]))[:3]
            text = f"{view.names[t]} ⊑ {view.names[parent]}: " + ", ".join(f"{k}={v:.2f}" for k, v in top)
            facts.append(Fact(NamedNode(t), RDFS.subClassOf, NamedNode(parent), evidence=Evidence(text),
                              confidence=round(float(prob), 4)))
        return facts

    def score(self, view: TaxonomyView, children: list[str] | None = None) -> dict[str, Any]:
        """Accuracy@1 of the trained ranker, and precision and coverage at its calibrated
        threshold, over `children` that have a parent in `view` (default: every leaf with one,
        in-sample: a sanity check; `autoknow evaluate taxonomy` hides leaves from training and
        scores them beside baselines)."""
        kids = view.children()
        children = children if children is not None else sorted(c for c, ps in view.parents.items() if ps and c not in kids)
        by_scheme = {s: candidates_in(view, {s}) for s in self.schemes_}
        top = []
        for c in children:
            pool = [p for p in by_scheme.get(view.scheme.get(c), []) if p != c]
            gold = view.parents.get(c, set())
            if pool and gold & set(pool):
                best, p, _ = self.model_.rank(c, pool, limit=1)[0]
                top.append((p >= self.model_.threshold_, best in gold))
        kept = [ok for passed, ok in top if passed]
        return {"acc@1": sum(ok for _, ok in top) / len(top) if top else None,
                "precision@thr": sum(kept) / len(kept) if kept else None,
                "coverage@thr": len(kept) / len(top) if top else None, "children": len(top)}

    # ---- persistence -----------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """The hypernym ranker and (when trained) the tagger and the title typer."""
        self.model_.save(folder, {"schemes": self.schemes_, "max_parents": self.max_parents, "metrics": self.metrics_,
                                  "type_threshold": self.type_threshold, "tag_types": self.tag_types,
                                  "consistent_types": self.consistent_types, "title_typing": self.title_typing,
                                  "rerank": self.rerank, "rerank_train": self.rerank_train})
        if self.reranker_ is not None:
            self.reranker_.save(folder / "reranker")
        if self.tagger_ is not None:
            self.tagger_.save(folder / "tagger")
        if self.typer_ is not None:
            self.typer_.save(folder / "typer")

    @classmethod
    def load(cls, folder: Path) -> "TaxonomyStage":
        config = json.loads((folder / "hypernym.json").read_text(encoding="utf-8"))
        stage = cls(config["use_behaviour"], config["max_parents"], config["seed"],
                    config.get("tag_types", False), type_threshold=config.get("type_threshold", 0.5),
                    rerank=config.get("rerank", False), rerank_train=config.get("rerank_train", 1500),
                    consistent_types=config.get("consistent_types", True), title_typing=config.get("title_typing", False))
        stage.model_ = HypernymModel.load(folder)
        stage.model_._index = None
        if (folder / "reranker").is_dir():
            stage.reranker_ = Reranker.load(folder / "reranker", stage.model_)
        stage.schemes_ = config["schemes"]
        stage.metrics_ = config.get("metrics", {})
        if (folder / "tagger").is_dir():
            from .tagger import SpanTagger

            stage.tagger_ = SpanTagger.load(folder / "tagger")
        if (folder / "typer").is_dir():
            stage.typer_ = TitleTyper.load(folder / "typer")
        return stage


def variant(a: str, b: str) -> bool:
    """Whether two type names are one name written otherwise (case, number, punctuation, "and"
    for "&"): such a type is its look-alike's equivalent, never its subclass.

    >>> variant("Breakfast Cereal", "Breakfast cereals"), variant("Tea", "Teas"), variant("Spelt flour", "Flours")
    (True, True, False)
    """
    norm = lambda name: [w for w in words(name.replace("&", " and ")) if w != "and"]  # noqa: E731
    return bool(norm(a)) and norm(a) == norm(b)


MIN_MEMBERS = 3  # a type's products with a type of the parent's taxonomy before they vote on its parent


def _members(inputs: TaxonomyInputs, facts: list[Fact]) -> dict[str, list[set[str]]]:
    """Per type, its products' other types (the store's, and the run's new typings)."""
    types = {p: set(ts) for p, ts in inputs.types.items()}
    for f in facts:
        if f.predicate == RDF.type and f.subject.value in inputs.titles:
            types.setdefault(f.subject.value, set()).add(f.object.value)
    out: dict[str, list[set[str]]] = {}
    for ts in types.values():
        for t in ts:
            out.setdefault(t, []).append(ts - {t})
    return out


def _products_fit(parent: str, members: list[set[str]], view: TaxonomyView) -> bool:
    """Whether most of a type's products that have a type of the parent's taxonomy already sit
    under the parent (True where fewer than MIN_MEMBERS have one: nothing to go by)."""
    scheme = view.scheme.get(parent)
    voters = [[o for o in others if view.scheme.get(o) == scheme] for others in members]
    voters = [v for v in voters if v]
    if len(voters) < MIN_MEMBERS:
        return True
    return sum(any(parent == o or parent in view.ancestors(o) for o in v) for v in voters) * 2 >= len(voters)


def parent_group(rank: int, scheme: str) -> str:
    """The gate of a re-ranked parent: its kind (first, or second or third) and its taxonomy."""
    return f"{FIRST_PARENT if rank == 0 else FURTHER_PARENT}, {scheme_name(scheme)}"


def _head(name: str) -> str:
    """A type name's head word, singular ("Italian Pasta Salads" -> "salad").

    >>> _head("Italian Pasta Salads"), _head("Tooth")
    ('salad', 'tooth')
    """
    w = words(name)
    return w[-1] if w else ""


def _embed_default():
    from ...ml.encoder import embed

    return embed


