"""Stage 5, imputation: extract the attribute values a product lacks from its title and description.

`read` gathers every product's texts, types, current values, the attributes that apply to each
type (declared, or decided by the relations stage) and the type names that condition the tagger.
`fit` trains the extractor on the store's labelled value spans and on distant labels: a value a
product carries without a span, found in its own title. The extractor is the QA extractor
(qa.py: "type: T ; attribute: A" asked against the text, the type given by its path from the
taxonomy's root), which beat the value tagger (model.py, `extractor="tagger"`, kept as the named
baseline) on the dev splits over three seeds at the quick profile's sizes: value F1 0.534 ± 0.014
against 0.473 ± 0.050 on known types, 0.446 ± 0.035 against 0.300 ± 0.033 on types held out of
training (`autoknow evaluate imputation`). The one-pass extractor (joint.py, `extractor="joint"`:
every applicable attribute in one question) scores higher on the dev splits' known types and runs
at 6x its throughput, but on the demo a person found as large a share of its values right (0.43
against 0.36) in a run that finds under a third as many (docs/stages.md), so it is not the default. Either way the product
type also masks what may be extracted (the attributes that apply to it).
`fit` holds 15% of the products out: the values it finds in their texts calibrate a gate per
attribute (rare attributes pooled). Where the store holds people's verdicts on the values earlier
versions added, a context model (context.py) re-reads each value in its text and the catalogue,
and one gate is fitted on those verdicts instead. `predict` tags each product's texts for the
applicable attributes it has no value of and keeps a value where its gate passes it; a value is
an `ak:AttributeValue` individual, reused when its normalised form names one that exists, and
the surface string, field and character offsets stay as the fact's evidence.
A text's spans are decoded together before they are gated or calibrated (decoding.py): whole,
not denied ("Dairy Free"), one attribute per span unless the labelled data lets two share a value.
(A value the product already holds for another attribute is no veto: that value may be the error,
as an ESCI shoe's color "8 US" is, and the size "8 US" read from its title right.)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyoxigraph import Literal, NamedNode

from ...ml.spans import Span
from ...provenance import Evidence, Fact
from ...splits import bucket
from ...store import KnowledgeStore
from ...vocab import AK, RDF, RDFS, SCHEMA, is_attribute_iri, slug, value_iri
from ..base import Stage, Verdict, audited_triples
from .decoding import decode_text, shared_attributes

__all__ = ["ImputationStage", "ImputationInputs", "read_inputs"]

MODEL_NAME = "autoknow-value-extractor"
MODEL_VERSION = "0.10.0"  # 0.2: one value per text for single-valued attributes; 0.3: type layers at the encoder's rate; 0.4: calibrated per-attribute gates; 0.5: the QA extractor; 0.9: values read in context, learned from people's verdicts; 0.10: the attribute's verdict rate, verdicts unweighted in the ranking, folds by product
# Joint decoding (decoding.py) came without a new version: it removes spans, and completes a bare unit
# with its number (3 of 873 demo spans), so the audit of 0.5, whose judged facts include the ones it
# removes, still gates it (on the conservative side). The version is the stage's, not the extractor's:
# a non-default extractor is gated by the default's judgements until it has its own (a known gap).
# 0.6.0, 0.7.0 and 0.8.0 are taken: audited trials (demo/audit/imputation-joint-v060, -v070 and
# imputation-qa-v080) were judged under them; the next version is 0.9.0, so they gate no other model.
EXTRACTORS = ("qa", "joint", "tagger")
READ_TYPE_WORDS = ("qa", "joint")  # extractors that read a type as words in their question; the tagger, as a vector
HELD_IN = 15  # percent of products held out of training: their values calibrate the gates
FIELDS = {SCHEMA.name.value: "title", SCHEMA.description.value: "description"}
CONTEXT_GROUP = "attribute value"  # a context model's one gate, fitted on verdicts over every attribute


@dataclass
class ImputationInputs:
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # product -> field IRI -> text
    types: dict[str, set[str]] = field(default_factory=dict)  # product -> types
    values: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # product -> attribute -> value labels
    spans: dict[str, list[tuple[str, str, int, int]]] = field(default_factory=dict)  # product -> (field, attr, start, end)
    applicable: dict[str, set[str]] = field(default_factory=dict)  # type -> attributes that apply
    not_applicable: dict[str, set[str]] = field(default_factory=dict)  # type -> attributes declared not to
    names: dict[str, str] = field(default_factory=dict)  # type -> name
    parents: dict[str, set[str]] = field(default_factory=dict)
    individuals: set[str] = field(default_factory=set)  # existing value IRIs
    # people's verdicts on values earlier model versions added: (product, attribute, value) -> verdict
    audited: dict[tuple[str, str, str], Verdict] = field(default_factory=dict)

    def type_key(self, product: str) -> str:
        """The conditioning key of a product: its types, sorted (a product may have several)."""
        return "|".join(sorted(self.types.get(product, ())))

    def allowed(self, key: str) -> set[str]:
        """Attributes that apply to any of the key's types: declared or decided applicable, or
        already used by that type's products, unless declared not to apply."""
        out: set[str] = set()
        for t in key.split("|") if key else ():
            out |= self.applicable.get(t, set()) - self.not_applicable.get(t, set())
        return out


def read_inputs(store: KnowledgeStore) -> ImputationInputs:
    """Texts, types, values, labelled spans, applicability and type names, via named queries."""
    from ..view import read_view

    inputs = ImputationInputs()
    for r in store.select("list_product_texts"):
        p = r["product"].value
        inputs.texts.setdefault(p, {})[r["field"].value] = r["text"].value
        if r["type"] is not None:
            inputs.types.setdefault(p, set()).add(r["type"].value)
    used: dict[str, set[str]] = {}
    for r in store.select("list_value_facts"):
        p, a = r["product"].value, r["attribute"].value
        label = r["valueLabel"].value if r["valueLabel"] is not None else r["value"].value.rsplit("/", 1)[-1]
        inputs.values.setdefault(p, {}).setdefault(a, set()).add(label)
        for t in inputs.types.get(p, ()):
            used.setdefault(t, set()).add(a)
        if r["field"] is not None and r["field"].value in FIELDS:
            span = (r["field"].value, a, int(r["start"].value), int(r["end"].value))
            if span not in inputs.spans.setdefault(p, []):
                inputs.spans[p].append(span)
    for r in store.select("list_applicable_attributes"):
        target = inputs.applicable if r["applicable"].value == "true" else inputs.not_applicable
        target.setdefault(r["type"].value, set()).add(r["attribute"].value)
    for t, attrs in used.items():
        inputs.applicable.setdefault(t, set()).update(attrs)
    view = read_view(store)
    inputs.names, inputs.parents = view.names, view.parents
    inputs.individuals = {r["value"].value for r in store.select("list_value_individuals")}
    inputs.audited = audited_triples(store, "imputation", "attribute value", None, exclude=(MODEL_NAME, MODEL_VERSION))
    return inputs


def type_vectors(inputs: ImputationInputs, keys: set[str], embed) -> dict[str, np.ndarray]:
    """A key's vector: the mean over its types of the type name's embedding plus half its
    parents' (an unseen or new type borrows from where it sits in the hierarchy)."""
    names = sorted({n for k in keys for t in k.split("|") if k for n in [inputs.names.get(t)] + [inputs.names.get(q) for q in inputs.parents.get(t, ())] if n})
    vec = dict(zip(names, embed(names))) if names else {}
    out = {}
    for k in keys:
        parts = []
        for t in k.split("|") if k else ():
            if inputs.names.get(t) not in vec:
                continue
            v = vec[inputs.names[t]].copy()
            ps = [vec[inputs.names[q]] for q in inputs.parents.get(t, ()) if inputs.names.get(q) in vec]
            if ps:
                v += 0.5 * np.mean(ps, axis=0)
            parts.append(v)
        if parts:
            m = np.mean(parts, axis=0)
            out[k] = (m / (np.linalg.norm(m) or 1.0)).astype(np.float32)
    return out


def type_words(inputs: ImputationInputs, key: str, depth: int = 4, paths: bool = True) -> str:
    """A type key's words for a question: its most specific type's path from the root (at most
    `depth` names, through the first parent by name), then the names of its other most specific
    types. A product is often typed at several levels; its ancestors add nothing to the path.
    `paths=False` gives the names alone (measured against paths in the README).

    >>> i = ImputationInputs(names={"a": "Food", "b": "Coffee", "c": "Ground coffee", "d": "Organic", "e": "Drinks"},
    ...                      parents={"c": {"b", "e"}, "b": {"a"}})
    >>> type_words(i, "a|b|c|d|e"), type_words(i, "a|b|c", paths=False), type_words(i, "")
    ('Food > Coffee > Ground coffee ; Organic', 'Ground coffee', '')
    """
    types = [t for t in key.split("|") if t] if key else []

    def chain(t: str) -> list[str]:
        out, seen = [], set()
        while t and t not in seen:
            seen.add(t)
            out.append(t)
            t = min(inputs.parents.get(t, ()), key=lambda q: inputs.names.get(q, q), default=None)
        return out

    def ancestors(t: str) -> set[str]:
        out, todo = set(), list(inputs.parents.get(t, ()))
        while todo:
            q = todo.pop()
            if q not in out:
                out.add(q)
                todo.extend(inputs.parents.get(q, ()))
        return out

    chains = {t: chain(t) for t in types}
    above = {a for t in types for a in ancestors(t)}
    leaves = sorted((t for t in types if t not in above and inputs.names.get(t)),
                    key=lambda t: (-len(chains[t]), inputs.names[t]))
    if not leaves:
        return ""
    first = [inputs.names[a] for a in reversed(chains[leaves[0]][:depth]) if inputs.names.get(a)] if paths else [inputs.names[leaves[0]]]
    return " ; ".join([" > ".join(first)] + [inputs.names[t] for t in leaves[1:3]])


def _distant(title: str, attribute: str, labels: set[str]) -> list[Span]:
    """A value carried without a span, found as whole words in the title: a distant label.

    >>> _distant("Nutella Ferrero 400 g", "brand", {"Ferrero"})
    [Span(label='brand', start=8, end=15, score=1.0)]
    """
    out = []
    for v in sorted(labels, key=len, reverse=True):
        if len(v) < 2:
            continue
        m = re.search(r"(?<![A-Za-z0-9])" + re.escape(v) + r"(?![A-Za-z0-9])", title, re.I)
        if m and not any(m.start() < s.end and m.end() > s.start for s in out):
            out.append(Span(attribute, m.start(), m.end()))
    return out


class ImputationStage(Stage):
    name = "imputation"
    model_name, model_version = MODEL_NAME, MODEL_VERSION
    # about 8,200 questions an epoch (the QA extractor asks each applicable attribute): 4 minutes on
    # 2 cores; at 600 texts it withheld every attribute but the pooled rare ones at 0.9
    DEMO_CONFIG = {"max_texts": 1500, "epochs": 2}
    requires = (SCHEMA.name, SCHEMA.description, AK.hasAttributeValue, AK.applicable, AK.ofAttribute)
    assigns = (AK.hasAttributeValue, RDF.type, AK.ofAttribute, RDFS.label)  # + attribute sub-properties

    def kind_of(self, group: str) -> str:
        return "attribute value"  # its held-in gates are per attribute

    def gate_fitted_on(self, group: str) -> str:
        return "verdicts on earlier versions" if self._verdict_gate() else "held-in"

    def _verdict_gate(self) -> bool:
        """Whether the gate was fitted on a context model's verdict scores (one group for all)."""
        return CONTEXT_GROUP in getattr(getattr(self, "gate_", None), "groups", {})

    def __init__(self, extractor: str = "qa", conditioned: bool = False, epochs: int = 3, max_texts: int = 3000,
                 min_examples: int = 5, threshold: float = 0.5, seed: int = 0, type_paths: bool = True):
        if extractor not in EXTRACTORS:
            raise ValueError(f"extractor must be one of {', '.join(EXTRACTORS)}, not {extractor!r}")
        self.extractor, self.conditioned, self.epochs, self.max_texts = extractor, conditioned, epochs, max_texts
        self.type_paths = type_paths  # the QA extractor's type words: the path from the root, or the name
        self.min_examples, self.threshold, self.seed = min_examples, threshold, seed
        self.metrics_: dict[str, Any] = {}
        self.shared_: frozenset[frozenset[str]] = frozenset()  # attribute pairs that may share a value
        self.context_ = None

    @classmethod
    def allows(cls, predicate: NamedNode) -> bool:
        return predicate in cls.assigns or is_attribute_iri(predicate)

    def read(self, store: KnowledgeStore) -> ImputationInputs:
        return read_inputs(store)

    def examples(self, inputs: ImputationInputs, products: list[str] | None = None):
        """Labelled texts: human spans of titles and descriptions (every allowed attribute is
        labelled), and distant title spans, where only the attributes the product has a value of
        are labelled: a title that lacks the product's brand is a negative for brand. Without
        those negatives the tagger learned "the first words are the brand" (12.5% precision on
        the demo's Instacart titles)."""
        from .model import ValueExample

        out = []
        for p in products if products is not None else sorted(inputs.texts):
            key = inputs.type_key(p)
            spans: dict[str, list[Span]] = {}
            for f, a, s, e in inputs.spans.get(p, ()):
                spans.setdefault(f, []).append(Span(a, s, e))
            title = inputs.texts[p].get(SCHEMA.name.value)
            values = inputs.values.get(p, {})
            if title and not spans and values:  # distant only: labelled for the attributes it has
                found = [s for a, labels in sorted(values.items()) for s in _distant(title, a, labels)]
                out.append(ValueExample(title, key, tuple(sorted(found, key=lambda s: s.start)), frozenset(values)))
                continue
            if title:
                spanned = {s.label for s in spans.get(SCHEMA.name.value, [])}
                for a, labels in values.items():
                    if a not in spanned and not any(x[1] == a for x in inputs.spans.get(p, ())):
                        spans.setdefault(SCHEMA.name.value, []).extend(_distant(title, a, labels))
            for f, ss in spans.items():
                if f in inputs.texts[p] and ss:
                    out.append(ValueExample(inputs.texts[p][f], key, tuple(sorted(ss, key=lambda s: s.start))))
        return out

    def fit(self, inputs: ImputationInputs, embed=None) -> "ImputationStage":
        """Train on up to `max_texts` labelled texts (a deterministic sample) of 85% of the
        products; attributes with fewer than `min_examples` labelled values are not learned.
        The other 15% calibrate the per-attribute gates (`calibrate`), unless people's verdicts
        fit a context model and its one gate (`_fit_context`)."""
        from ...ml.encoder import embed as default_embed
        from .model import ValueExample

        products = sorted(inputs.texts)
        held = [p for p in products if bucket("impute-held" + p) < HELD_IN]
        train = [p for p in products if bucket("impute-held" + p) >= HELD_IN]
        examples = sorted(self.examples(inputs, train), key=lambda e: bucket("imputation" + e.text))[: self.max_texts]
        counts = Counter(s.label for e in examples for s in e.spans)
        attributes = sorted(a for a, n in counts.items() if n >= self.min_examples)
        keep = set(attributes)
        examples = [ValueExample(e.text, e.type_key, tuple(s for s in e.spans if s.label in keep), e.known) for e in examples]
        keys = {e.type_key for e in examples}
        allowed = {k: (inputs.allowed(k) | {s.label for e in examples if e.type_key == k for s in e.spans}) & keep for k in keys}
        self.extractor_ = self._new_extractor(attributes)
        self.shared_ = shared_attributes(examples)
        if attributes:
            self.extractor_.fit(examples, self._vectors(inputs, keys, embed or default_embed), allowed,
                                **self._words(inputs, keys))
        self.metrics_ = {"texts": len(examples), "attributes": len(attributes), "labelled_values": sum(counts[a] for a in keep),
                         "texts without a value (distant negatives)": sum(not e.spans for e in examples)}
        self.calibrate(inputs, held, embed or default_embed)
        self._fit_context(inputs, embed or default_embed)
        return self

    def _fit_context(self, inputs: ImputationInputs, embed) -> None:
        """Fit the context model on people's verdicts on the values earlier versions added, each
        found again in its product's text (title first) and scored by this extractor asked its
        attribute; the gate is then fitted on the verdicts' out-of-fold context scores (five
        folds by product, weighted as sampled), not on held-in values. Too few verdicts, or a fold that
        cannot be fitted: no context model, and the held-in gates stay."""
        from ...ml.folds import out_of_fold
        from ...ml.metrics import roc_auc
        from .context import MIN_AUDITED, ValueContext, find_value

        self.context_ = None
        known = set(self.extractor_.attributes)
        rows = []  # (product, attribute, value, text, start, end, verdict)
        for (p, a, v), verdict in inputs.audited.items():
            if a not in known or p not in inputs.texts:
                continue
            for f, text in sorted(inputs.texts[p].items(), key=lambda kv: (kv[0] != SCHEMA.name.value, kv[0])):
                where = find_value(text, a.rsplit("/", 1)[-1], v)
                if where is not None:
                    rows.append((p, a, v, text, *where, verdict))
                    break
        self.metrics_["verdicts found in their texts"] = f"{len(rows)} of {len(inputs.audited)}"
        if len(rows) < MIN_AUDITED:
            return
        raw = self._scores_of(inputs, [(p, a, v, text) for p, a, v, text, *_ in rows], embed)
        features = self.context_features(inputs, [(p, text, Span(a, s, e)) for p, a, v, text, s, e, _ in rows])
        right = np.array([r[-1].right for r in rows])
        weight = np.array([r[-1].weight for r in rows])
        attributes = [a for _, a, *_ in rows]
        folds = np.array([bucket("context" + p, 5) for p, *_ in rows])  # by product: a title's values share a fold

        def among(rows_: np.ndarray) -> list[str]:
            return [a for a, r in zip(attributes, rows_) if r]

        oof = out_of_fold(folds, 5, lambda rows_: ValueContext.fit(raw[rows_], features[rows_], among(rows_), right[rows_]),
                          lambda model, rows_: model.score(raw[rows_], features[rows_], among(rows_)))
        if oof is None:
            self.metrics_["context"] = "too few verdicts in a fold"
            return
        self.context_ = ValueContext.fit(raw, features, attributes, right)
        from ...ml.gate import Gate

        y = (right > 0.5).astype(int)
        self.gate_ = Gate.fit(oof.tolist(), y.tolist(), [CONTEXT_GROUP] * len(y), weights=weight.tolist(), min_group=1)
        self.metrics_.update({"context verdicts": len(rows), "verdicts right": int(y.sum()),
                              "verdict ROC-AUC, extractor": roc_auc(y, raw),
                              "verdict ROC-AUC, in context (out of fold)": roc_auc(y, oof)})

    def _scores_of(self, inputs: ImputationInputs, facts: list[tuple[str, str, str, str]], embed) -> np.ndarray:
        """The extractor's score of each (product, attribute, value, text): its best span of that
        value when asked the attribute in that text, else 0."""
        asked: dict[tuple[str, str], set[str]] = {}
        for p, a, _, text in facts:
            asked.setdefault((p, text), set()).add(a)
        jobs = sorted(asked)
        keys = [f"{inputs.type_key(p)}\t{p}\t{i}" for i, (p, _) in enumerate(jobs)]
        found = self.extract(inputs, [t for _, t in jobs], keys, dict(zip(keys, (asked[j] for j in jobs))), embed)
        best: dict[tuple[str, str, str, str], float] = {}
        for (p, text), spans in zip(jobs, found):
            for s in spans:
                k = (p, s.label, value_iri(s.label.rsplit("/", 1)[-1], text[s.start:s.end]).value, text)
                best[k] = max(best.get(k, 0.0), float(s.score))
        return np.array([best.get(f, 0.0) for f in facts])

    def context_features(self, inputs: ImputationInputs, spans: list[tuple[str, str, Span]]) -> np.ndarray:
        """The context features of (product, text, span) values, against the store's catalogue."""
        from .context import CONTEXT, CatalogueValues, folded_names, value_features

        if not spans:
            return np.zeros((0, len(CONTEXT)))
        catalogue, type_names = CatalogueValues(inputs.values), folded_names(inputs.names.values())
        words: dict[str, str] = {}
        out = []
        for p, text, span in spans:
            key = inputs.type_key(p)
            if key not in words:
                words[key] = type_words(inputs, key)
            out.append(value_features(text, span, p, words[key], catalogue, type_names))
        return np.array(out)

    def _new_extractor(self, attributes: list[str]):
        from .joint import JointExtractor
        from .model import ValueTagger
        from .qa import QAExtractor

        if self.extractor == "qa":
            return QAExtractor(attributes, epochs=self.epochs, seed=self.seed)
        if self.extractor == "joint":
            return JointExtractor(attributes, epochs=self.epochs, seed=self.seed)
        return ValueTagger(attributes, conditioned=self.conditioned, epochs=self.epochs, seed=self.seed)

    def extract(self, inputs: ImputationInputs, texts: list[str], keys: list[str], allowed: dict[str, set[str]],
                embed) -> list[list[Span]]:
        """The extractor's spans per text, decoded together (`decoding.decode_text`)."""
        found = self.extractor_.predict(texts, keys, self._vectors(inputs, allowed, embed), allowed, best_only=False,
                                        **self._words(inputs, allowed))
        single = self.extractor_.single_valued_
        return [decode_text(t, spans, self.shared_, single) for t, spans in zip(texts, found)]

    def _vectors(self, inputs: ImputationInputs, keys, embed) -> dict[str, np.ndarray] | None:
        """Type vectors by key for the tagger (`type key` or `type key<TAB>suffix`); the QA
        extractor reads the type's words instead."""
        if self.extractor in READ_TYPE_WORDS:
            return None
        base = type_vectors(inputs, {k.split("\t", 1)[0] for k in keys}, embed)
        return {k: base[k.split("\t", 1)[0]] for k in keys if k.split("\t", 1)[0] in base}

    def _words(self, inputs: ImputationInputs, keys) -> dict[str, dict[str, str]]:
        """`type_words` for the QA and one-pass extractors: each key's types as paths from the root."""
        if self.extractor not in READ_TYPE_WORDS:
            return {}
        per_type = {t: type_words(inputs, t, paths=self.type_paths) for t in {k.split("\t", 1)[0] for k in keys}}
        return {"type_words": {k: per_type[k.split("\t", 1)[0]] for k in keys}}

    def calibrate(self, inputs: ImputationInputs, products: list[str], embed) -> None:
        """Per-attribute gates from held-in products: each value the tagger finds in their texts
        is right when it names one of the product's values of that attribute (the normalised
        form that makes value individuals one IRI). A text labelled by hand is judged for every
        attribute its type allows; a title with distant labels only for the attributes its
        product has values of (it says nothing of the others)."""
        from ...ml.gate import Gate

        attributes = set(self.extractor_.attributes)
        judged = []  # (text, type key, attributes judged, right values per attribute)
        for p in sorted(products, key=lambda p: bucket("held" + p)):
            if len(judged) >= max(200, self.max_texts // 2) or not attributes:
                break
            for e in self.examples(inputs, [p]):
                allowed = (inputs.allowed(e.type_key) | {sp.label for sp in e.spans}) & attributes
                if e.known is not None:
                    allowed &= e.known
                gold = {a: {slug(v) for v in labels} for a, labels in inputs.values.get(p, {}).items()}
                for sp in e.spans:
                    gold.setdefault(sp.label, set()).add(slug(e.text[sp.start:sp.end]))
                if allowed:
                    judged.append((e, allowed, gold))
        scores, right, groups = [], [], []
        if judged:
            keys = {f"{e.type_key}\t{i}": allowed for i, (e, allowed, _) in enumerate(judged)}
            found = self.extract(inputs, [e.text for e, _, _ in judged], list(keys), keys, embed)
            for (e, _, gold), spans in zip(judged, found):
                for sp in spans:
                    surface = e.text[sp.start:sp.end]
                    if surface and sp.score >= self.threshold:
                        scores.append(sp.score)
                        right.append(slug(surface) in gold.get(sp.label, set()))
                        groups.append(sp.label)
        self.gate_ = Gate.fit(scores, right, groups)
        self.metrics_["held-in texts"], self.metrics_["held-in values found"] = len(judged), len(scores)

    def predict(self, inputs: ImputationInputs) -> list[Fact]:
        """Values for applicable attributes each product lacks, where their attribute's gate passes them."""
        return self.decide(inputs, self.candidates(inputs))

    def parts(self, inputs: ImputationInputs, n: int) -> list[list[str]]:
        """The products in `n` parts whose candidates can be found apart (`--engine ray`)."""
        products = sorted(inputs.texts)
        return [products[i::n] for i in range(n) if products[i::n]]

    def candidates(self, inputs: ImputationInputs, products: list[str] | None = None) -> list[tuple]:
        """(product, field, text, spans found) for every text of `products` (default: all) that
        lacks an applicable attribute the extractor knows: the model's work, pure and per product."""
        from ...ml.encoder import embed

        known = set(self.extractor_.attributes)
        if not known:
            return []
        jobs = []  # (product, field, text, key)
        allowed: dict[str, set[str]] = {}
        lacking: dict[str, set[str]] = {}
        together = getattr(self.extractor_, "reads_attributes_together", False)
        for p in sorted(inputs.texts if products is None else products):
            applicable = inputs.allowed(inputs.type_key(p)) & known
            missing = applicable - set(inputs.values.get(p, {}))
            if not missing:
                continue
            key = f"{inputs.type_key(p)}\t{p}"  # the mask is per product (what it lacks)
            # an extractor that reads the attributes together is asked the ones the product has too,
            # so its own values hold their words ("Women's" stays the gender it has, not an age it
            # lacks); the QA extractor, asked so, found fewer right values (docs/stages.md)
            allowed[key], lacking[key] = (applicable if together else missing), missing
            for f, text in sorted(inputs.texts[p].items()):
                jobs.append((p, f, text, key))
        if not jobs:
            return []
        found = self.extract(inputs, [j[2] for j in jobs], [j[3] for j in jobs], allowed, embed)
        return [(p, f, text, [s for s in spans if s.label in lacking[key]]) for (p, f, text, key), spans in zip(jobs, found)]

    def decide(self, inputs: ImputationInputs, found: list[tuple]) -> list[Fact]:
        """The facts of a run from every product's candidates: the best span per value, gated per
        attribute (or, read in context, by the verdict gate) over the whole run (so it is decided
        once, wherever the candidates were found)."""
        facts: list[Fact] = []
        declared = set(inputs.individuals)
        best: dict[tuple[str, str, str], tuple[Span, str, str]] = {}
        for p, f, text, spans in found:
            for s in spans:
                surface = text[s.start:s.end]
                if s.score < self.threshold or not surface:
                    continue
                v = value_iri(s.label.rsplit("/", 1)[-1], surface).value
                k = (p, s.label, v)
                if k not in best or s.score > best[k][0].score:
                    best[k] = (s, f, surface)
        candidates = sorted(best.items())
        groups, scores = [a for (_, a, _), _ in candidates], [s.score for _, (s, _, _) in candidates]
        if self.context_ is not None:  # read in context, gated on people's verdicts
            if not self._verdict_gate():
                raise ValueError("imputation: a context model without its verdict gate; train the stage again")
            texts = {(p, f): t for p, f, t, _ in found}
            spans = [(p, texts[(p, f)], s) for (p, _, _), (s, f, _) in candidates]
            scores = self.context_.score(scores, self.context_features(inputs, spans), groups).tolist()
            groups = [CONTEXT_GROUP] * len(candidates)
        probability, passed = self.gated(groups, scores)
        for ((p, a, v), (s, f, surface)), prob, ok in zip(candidates, probability, passed):
            if not ok:
                continue
            confidence = round(float(prob), 4)
            evidence = Evidence(surface, NamedNode(f), s.start, s.end)
            facts.append(Fact(NamedNode(p), NamedNode(a), NamedNode(v), evidence=evidence, confidence=confidence))
            if v not in declared:
                declared.add(v)
                for pred, obj in ((RDF.type, AK.AttributeValue), (AK.ofAttribute, NamedNode(a)), (RDFS.label, Literal(surface))):
                    facts.append(Fact(NamedNode(v), pred, obj, evidence=evidence, confidence=confidence))
        return facts

    def score(self, inputs: ImputationInputs, products: list[str] | None = None) -> dict[str, Any]:
        """Exact-span and value-match scores of the trained tagger on the labelled spans of
        `products` (a split the caller held out of training)."""
        from ...ml.labelled import LabelledProduct, value_scores
        from ...ml.encoder import embed

        chosen = [p for p in (products or sorted(inputs.spans)) if p in inputs.spans]
        labelled = []
        for p in chosen:
            spans: dict[str, list[Span]] = {}
            for f, a, s, e in inputs.spans[p]:
                spans.setdefault(f, []).append(Span(a, s, e))
            gold = {a: {inputs.texts[p][f][s:e].lower() for f, b, s, e in inputs.spans[p] if b == a} for _, a, _, _ in inputs.spans[p]}
            labelled.append(LabelledProduct("store", p, inputs.type_key(p), dict(inputs.texts[p]), spans, gold))
        keys = {lp.category for lp in labelled}
        allowed = {k: inputs.allowed(k) & set(self.extractor_.attributes) for k in keys}
        texts = [(t, lp.category, f) for lp in labelled for f, t in lp.texts.items()]
        flat = self.extract(inputs, [t for t, _, _ in texts], [k for _, k, _ in texts], allowed, embed)
        pred, i = [], 0
        for lp in labelled:
            pred.append({f: flat[i + j] for j, f in enumerate(lp.texts)})
            i += len(lp.texts)
        return value_scores(labelled, pred)

    # ---- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        if self.extractor_.attributes:
            self.extractor_.save(folder / "extractor")
        self.save_config(folder, {"extractor": self.extractor, "type_paths": self.type_paths, "conditioned": self.conditioned, "epochs": self.epochs,
                                  "max_texts": self.max_texts, "min_examples": self.min_examples,
                                  "threshold": self.threshold, "seed": self.seed})
        (folder / "decoding.json").write_text(json.dumps({"shared": sorted(sorted(p) for p in self.shared_)}), encoding="utf-8")
        if self.context_ is not None:
            self.context_.save(folder)

    @classmethod
    def load(cls, folder: Path) -> "ImputationStage":
        stage = cls.from_config(folder)
        model = type(stage._new_extractor([]))
        stage.extractor_ = model.load(folder / "extractor") if (folder / "extractor").is_dir() else model([])
        saved = folder / "decoding.json"  # absent from a model trained before joint decoding: no shared pairs
        shared = json.loads(saved.read_text(encoding="utf-8"))["shared"] if saved.is_file() else []
        stage.shared_ = frozenset(frozenset(p) for p in shared)
        from .context import ValueContext

        stage.context_ = ValueContext.load(folder)
        return stage
