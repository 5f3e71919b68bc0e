"""SHACL shapes generated from relation discovery, and validation of the store against them.

One `sh:NodeShape` per type with decisions (`sh:targetClass` the type). Each applicable attribute
gets a property shape: values are `ak:AttributeValue` individuals, at most one when no product in
the store carries two (single-valued), the importance as `ak:importance`, and `sh:Violation`
severity when buyers care (importance ≥ 0.5), `sh:Warning` otherwise. An attribute decided not
to apply gets `sh:maxCount 0` at `sh:Warning`, when some product in the store uses it at all.

Shapes are written like any stage output (their own graph, with provenance) and as Turtle.
Validation runs pyshacl on a slice of the store (shaped types' products and their values), not
on a copy of the whole store, and stores the report as RDF in its own graph.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode

from . import __version__
from .provenance import Fact, run_activity
from .store import KnowledgeStore
from .vocab import AK, RDF, SH, XSD, node_iri

__all__ = ["generate_shapes", "write_shapes", "validate", "Validation", "IMPORTANT"]

IMPORTANT = 0.5  # importance from which a broken constraint is a violation, not a warning
SHAPES_MODEL = "autoknow-shapes"


def generate_shapes(store: KnowledgeStore) -> list[Fact]:
    """Shape facts from every applicability decision in the store (declared ones win)."""
    per_product = store.select("count_attribute_values_per_product")
    used = {r["attribute"].value for r in per_product}
    multi = {r["attribute"].value for r in per_product if int(r["maxValues"].value) > 1}
    decisions = store.select("list_applicability_decisions")
    # a declared list (e.g. Shopify's) is complete: an attribute it leaves out does not apply
    declared: dict[NamedNode, set[str]] = {}
    for r in decisions:
        if r["declared"].value == "true" and r["applicable"].value == "true":
            declared.setdefault(r["type"], set()).add(r["attribute"].value)
    decisions += [{"type": t, "attribute": NamedNode(a), "attributeLabel": None, "applicable": Literal(False),
                   "importance": None} for t, attrs in declared.items() for a in sorted(used - attrs)]
    # sh:targetClass reaches the instances of subclasses too: an attribute that applies somewhere
    # below a type must not be forbidden on it
    below = _applicable_below(store, decisions)
    facts: list[Fact] = []
    shaped: set[str] = set()
    for r in decisions:
        t, a = r["type"], r["attribute"]
        applicable = r["applicable"].value == "true"
        if not applicable and (a.value not in used or a.value in below.get(t.value, ())):
            continue
        shape, prop = node_iri("shape", t.value), node_iri("shape", t.value, a.value.rsplit("/", 1)[-1])
        if t.value not in shaped:
            shaped.add(t.value)
            facts += [Fact(shape, RDF.type, SH.NodeShape), Fact(shape, SH.targetClass, t)]
        facts += [Fact(shape, SH.property, prop), Fact(prop, SH.path, a)]
        name = r["attributeLabel"].value if r["attributeLabel"] is not None else a.value.rsplit("/", 1)[-1]
        if applicable:
            importance = float(r["importance"].value) if r["importance"] is not None else 0.0
            facts += [Fact(prop, SH["class"], AK.AttributeValue), Fact(prop, SH.name, Literal(name)),
                      Fact(prop, AK.importance, Literal(importance)),
                      Fact(prop, SH.severity, SH.Violation if importance >= IMPORTANT else SH.Warning)]
            if a.value not in multi:
                facts.append(Fact(prop, SH.maxCount, Literal(1)))
        else:
            facts += [Fact(prop, SH.maxCount, Literal(0)), Fact(prop, SH.severity, SH.Warning),
                      Fact(prop, SH.message, Literal(f"{name} does not apply to this product type"))]
    return facts


def _applicable_below(store: KnowledgeStore, decisions: list[dict]) -> dict[str, set[str]]:
    """Per type: the attributes that apply to it or to any of its (transitive) subclasses."""
    import sys

    own: dict[str, set[str]] = {}
    for r in decisions:
        if r["applicable"].value == "true":
            own.setdefault(r["type"].value, set()).add(r["attribute"].value)
    kids: dict[str, set[str]] = {}
    for r in store.select("list_subclass_edges"):
        kids.setdefault(r["parent"].value, set()).add(r["child"].value)
    memo: dict[str, set[str]] = {}

    def walk(t: str) -> set[str]:
        if t not in memo:
            memo[t] = set()  # a cycle contributes nothing more
            memo[t] = set(own.get(t, ())).union(*(walk(k) for k in kids.get(t, ())))
        return memo[t]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    return {t: walk(t) for t in {r["type"].value for r in decisions}}


def _turtle(facts: list[Fact]) -> bytes:
    from pyoxigraph import RdfFormat, serialize

    from .vocab import PREFIXES

    return serialize([f.triple for f in facts], format=RdfFormat.TURTLE, prefixes=PREFIXES)


def write_shapes(store: KnowledgeStore, out: Path | None = None) -> tuple[NamedNode, int]:
    """Generate shapes, store them in their own graph (a no-op when the same shapes are there)
    and write them as Turtle to `out`; returns the shapes graph and its number of facts."""
    facts = generate_shapes(store)
    data = _turtle(facts)
    checksum = "sha256:" + hashlib.sha256(data).hexdigest()
    activity = run_activity("shapes", checksum[7:23], SHAPES_MODEL, __version__, checksum, __version__)
    store.write(activity, facts)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return activity.graph, len(facts)


@dataclass(frozen=True)
class Validation:
    conforms: bool
    graph: NamedNode  # where the report lies
    focus_nodes: int
    results: list[dict[str, Any]]

    def summary(self) -> str:
        """The results by severity: warnings (an applicable attribute a product lacks) do not
        break conformance, violations do.

        >>> from pyoxigraph import Literal
        >>> Validation(True, NamedNode("http://g"), 3, [{"severity": Literal("sh:Warning")}]).summary()
        '1 warning, 0 violations, 0 other results on 3 products (conforms; autoknow query list_validation_results)'
        """
        from collections import Counter

        kinds = Counter(str(getattr(r.get("severity"), "value", r.get("severity"))).rsplit("#", 1)[-1].rsplit(":", 1)[-1]
                        for r in self.results)
        warnings, violations = kinds.pop("Warning", 0), kinds.pop("Violation", 0)
        return (f"{warnings:,} warning{'s' * (warnings != 1)}, {violations:,} violation{'s' * (violations != 1)}, "
                f"{sum(kinds.values()):,} other results on {self.focus_nodes:,} products "
                f"({'conforms' if self.conforms else 'does not conform'}; autoknow query list_validation_results)")


def _rdflib(term):
    import rdflib

    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), lang=term.language) \
        if term.language is None else rdflib.Literal(term.value, lang=term.language)


def _oxigraph(term, skolem):
    import rdflib

    if isinstance(term, rdflib.BNode):
        return skolem(str(term))
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if term.language:
        return Literal(str(term), language=term.language)
    return Literal(str(term), datatype=NamedNode(str(term.datatype or XSD.string.value)))


def shapes_graph(store: KnowledgeStore, graph: NamedNode):
    """The shape triples of a shapes graph (its facts, not their reifiers), as rdflib."""
    import rdflib

    g = rdflib.Graph()
    reifiers = {q.subject for q in store.quads_for_pattern(None, RDF.reifies, None, graph)}
    for q in store.quads(graph):
        if q.subject not in reifiers:
            g.add((_rdflib(q.subject), _rdflib(q.predicate), _rdflib(q.object)))
    return g


def data_slice(store: KnowledgeStore):
    """Products of shaped types (and of their subclasses, typed with the shaped class as SHACL's
    class targets entail) with their values, as rdflib."""
    import rdflib

    g = rdflib.Graph()
    value_class = (rdflib.RDF.type, rdflib.URIRef(AK.AttributeValue.value))
    for r in store.select("list_validation_slice"):
        p = _rdflib(r["product"])
        g.add((p, rdflib.RDF.type, _rdflib(r["type"])))
        if r["attribute"] is not None:
            g.add((p, _rdflib(r["attribute"]), _rdflib(r["value"])))
            g.add((_rdflib(r["value"]), *value_class))
    return g


def focus_nodes(data) -> int:
    """Products in a data slice (the typed subjects that are not attribute values)."""
    import rdflib

    value_class = rdflib.URIRef(AK.AttributeValue.value)
    return len({s for s, o in data.subject_objects(rdflib.RDF.type) if o != value_class})


def validate(store: KnowledgeStore, shapes: NamedNode) -> Validation:
    """Run pyshacl over the data slice; store the report in its own graph (one per shapes graph
    and input state) and return the results."""
    import pyshacl

    from .pipeline import inputs_fingerprint

    data = data_slice(store)
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph(store, shapes), inference="none",
                                           allow_warnings=True)
    run_id = hashlib.sha256(f"{shapes.value}\n{inputs_fingerprint(store, 'validate')}".encode()).hexdigest()[:16]
    activity = run_activity("validate", run_id, "pyshacl", pyshacl.__version__, "sha256:" + run_id, __version__)
    skolem = lambda b: node_iri("validation", run_id, b)  # noqa: E731 — report nodes get stable IRIs
    facts = [Fact(_oxigraph(s, skolem), _oxigraph(p, skolem), _oxigraph(o, skolem)) for s, p, o in report]
    store.write(activity, facts)
    results = [r for r in store.select("list_validation_results") if r["graph"] == activity.graph]
    return Validation(bool(conforms), activity.graph, focus_nodes(data), results)
