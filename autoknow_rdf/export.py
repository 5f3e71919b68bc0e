"""Exports for other KG systems: Turtle, TriG, N-Quads (RDF 1.2) and JSON-LD (RDF 1.1).

RDF 1.2 reifiers (`?r rdf:reifies <<( s p o )>>`) are kept as they are in Turtle, TriG and
N-Quads unless `rdf11=True`, which rewrites each into classic RDF reification
(`?r a rdf:Statement ; rdf:subject s ; rdf:predicate p ; rdf:object o`) that any RDF 1.1 tool
reads. JSON-LD has no triple terms, so it always uses that form and the published context
(ontology/context.jsonld).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Triple, serialize

from .errors import AutoknowError
from .jsonld import CONTEXT_FILE, write_jsonld
from .store import KnowledgeStore
from .vocab import PREFIXES, RDF, statement_iri

__all__ = ["FORMATS", "export", "to_rdf11", "CONTEXT_FILE"]

FORMATS = {"turtle": RdfFormat.TURTLE, "trig": RdfFormat.TRIG, "nquads": RdfFormat.N_QUADS, "jsonld": RdfFormat.JSON_LD}


def to_rdf11(quads: Iterable[Quad]) -> Iterator[Quad]:
    """Rewrite RDF 1.2 triple terms into rdf:Statement reification, quad by quad: a reifier
    becomes the statement; any other triple term (a quarantined fact, or one nested in a
    reified triple) becomes a statement node of its own."""
    for q in quads:
        if not isinstance(q.object, Triple):
            yield q
        elif q.predicate == RDF.reifies:
            yield from _statement(q.subject, q.object, q.graph_name)
        else:
            node = statement_iri(q.object)
            yield Quad(q.subject, q.predicate, node, q.graph_name)
            yield from _statement(node, q.object, q.graph_name)


def _statement(node, t: Triple, g) -> Iterator[Quad]:
    yield Quad(node, RDF.type, RDF.Statement, g)
    yield Quad(node, RDF.subject, t.subject, g)
    yield Quad(node, RDF.predicate, t.predicate, g)
    if isinstance(t.object, Triple):
        inner = statement_iri(t.object)
        yield Quad(node, RDF.object, inner, g)
        yield from _statement(inner, t.object, g)
    else:
        yield Quad(node, RDF.object, t.object, g)


def export(store: KnowledgeStore, out: Path, fmt: str, graph: NamedNode | None = None, rdf11: bool = False,
           include_quarantined: bool = False) -> int:
    """Write the store (or one graph) to `out`; returns the number of statements written.

    Quarantined facts (not released by a review) are left out unless `include_quarantined`;
    their quarantine nodes and reifiers stay, so a consumer sees what was held back and why.
    The file appears whole or not at all (written beside `out`, then renamed)."""
    if fmt not in FORMATS:
        raise AutoknowError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if graph is not None and not store.has_graph(graph):
        raise AutoknowError(f"no graph {graph.value} in the store")
    held: set[Triple] = set()
    if not include_quarantined:
        from .quarantine import quarantined_triples

        held = quarantined_triples(store)

    def view(g: NamedNode | DefaultGraph | None) -> Iterator[Quad]:
        """The quads of graph `g` (None: of every graph) as exported."""
        quads: Iterable[Quad] = store.quads(g)
        if held:
            quads = (q for q in quads if Triple(q.subject, q.predicate, q.object) not in held)
        return to_rdf11(quads) if rdf11 or fmt == "jsonld" else iter(quads)

    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    try:
        if fmt == "jsonld":  # streamed, one named graph at a time
            graphs = [graph] if graph is not None else [DefaultGraph(), *store.graphs()]
            n = write_jsonld(((g, view(g)) for g in graphs), part)
        elif fmt == "turtle":  # a graph format: the union of the graphs
            triples = list(dict.fromkeys(Triple(q.subject, q.predicate, q.object) for q in view(graph)))
            serialize(triples, str(part), RdfFormat.TURTLE, prefixes=PREFIXES)
            n = len(triples)
        else:
            quads = list(view(graph))
            serialize(quads, str(part), FORMATS[fmt], prefixes=PREFIXES if fmt == "trig" else None)
            n = len(quads)
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return n
