"""Exports for other KG systems: Turtle, TriG, N-Quads (RDF 1.2) and JSON-LD (RDF 1.1).

RDF 1.2 reifiers (`?r rdf:reifies <<( s p o )>>`) are kept as they are in Turtle, TriG and
N-Quads unless `rdf11=True`, which rewrites each into classic RDF reification
(`?r a rdf:Statement ; rdf:subject s ; rdf:predicate p ; rdf:object o`) that any RDF 1.1 tool
reads. JSON-LD has no triple terms, so it always uses that form and the published context
(ontology/context.jsonld).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, serialize

from .errors import AutoknowError
from .store import KnowledgeStore
from .vocab import ONTOLOGY_DIR, PREFIXES, RDF

__all__ = ["FORMATS", "export", "to_rdf11", "CONTEXT_FILE"]

FORMATS = {"turtle": RdfFormat.TURTLE, "trig": RdfFormat.TRIG, "nquads": RdfFormat.N_QUADS, "jsonld": RdfFormat.JSON_LD}
CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"


def to_rdf11(quads: Iterable[Quad]) -> Iterator[Quad]:
    """Rewrite RDF 1.2 triple terms into rdf:Statement reification, quad by quad."""
    for q in quads:
        if q.predicate == RDF.reifies and isinstance(q.object, Triple):
            t, r, g = q.object, q.subject, q.graph_name
            yield Quad(r, RDF.type, RDF.Statement, g)
            yield Quad(r, RDF.subject, t.subject, g)
            yield Quad(r, RDF.predicate, t.predicate, g)
            yield Quad(r, RDF.object, t.object, g)
        else:
            yield q


def export(store: KnowledgeStore, out: Path, fmt: str, graph: NamedNode | None = None, rdf11: bool = False) -> int:
    """Write the store (or one graph) to `out`; returns the number of statements written."""
    if fmt not in FORMATS:
        raise AutoknowError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if graph is not None and not store.has_graph(graph):
        raise AutoknowError(f"no graph {graph.value} in the store")
    quads: Iterable[Quad] = store.quads(graph)
    if rdf11 or fmt == "jsonld":
        quads = to_rdf11(quads)
    quads = list(quads)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonld":
        out.write_text(_jsonld(quads), encoding="utf-8")
    elif fmt == "turtle":  # a graph format: the union of the graphs
        triples = list(dict.fromkeys(Triple(q.subject, q.predicate, q.object) for q in quads))
        serialize(triples, str(out), RdfFormat.TURTLE, prefixes=PREFIXES)
        return len(triples)
    else:
        serialize(quads, str(out), FORMATS[fmt], prefixes=PREFIXES if fmt == "trig" else None)
    return len(quads)


def _jsonld(quads: list[Quad]) -> str:
    """Compact JSON-LD with the published context, one @graph entry per named graph."""
    import rdflib

    nquads = serialize(quads, format=RdfFormat.N_QUADS).decode("utf-8")
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False  # keep lexical forms as stored
    try:
        ds = rdflib.Dataset()
        ds.parse(data=nquads, format="nquads")
    finally:
        rdflib.NORMALIZE_LITERALS = normalize
    context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
    return ds.serialize(format="json-ld", context=context, auto_compact=True)
