"""Exports round-trip: Turtle, TriG, N-Quads and JSON-LD re-import to the same statements."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, parse

from autoknow_rdf.export import export, to_rdf11
from autoknow_rdf.provenance import Activity, Evidence, Fact
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.vocab import AK, RDF, RDFS, SCHEMA, graph_iri, node_iri

PARSE = {"turtle": RdfFormat.TURTLE, "trig": RdfFormat.TRIG, "nquads": RdfFormat.N_QUADS, "jsonld": RdfFormat.JSON_LD}

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
tricky = st.one_of(texts, st.sampled_from(['say "hi"', "two\nlines", "tab\there", "back\\slash", "crème brûlée", "日本茶", "🍵", "'", '"""', ""]))
langs = st.one_of(st.none(), st.sampled_from(["en", "fr", "de-ch", "zh-hans"]))
local = st.text(alphabet=string.ascii_letters + string.digits + "-_.~:é", min_size=1, max_size=12)


@st.composite
def facts(draw):
    out = []
    for i, (ident, text, lang) in enumerate(draw(st.lists(st.tuples(local, tricky, langs), min_size=1, max_size=6))):
        s = node_iri("product", "t", ident)
        obj = Literal(text, language=lang) if lang else Literal(text)
        ev = Evidence(text, SCHEMA.name, 0, len(text)) if text and i % 2 else None
        out.append(Fact(s, SCHEMA.name if i % 3 else RDFS.label, obj, line=i + 1, evidence=ev, confidence=0.5 if i % 2 else None))
    return out


def build(fs) -> KnowledgeStore:
    ks = KnowledgeStore()
    ks.write(Activity(node_iri("activity", "test", "x"), AK.Ingest, graph_iri("test", "x")), fs)
    return ks


def as_triples(quads):
    return {Triple(q.subject, q.predicate, q.object) for q in quads}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fs=facts())
def test_every_format_round_trips(fs, tmp_path_factory):
    ks = build(fs)
    original = set(ks.quads())
    out_dir = tmp_path_factory.mktemp("export")
    for fmt, rdf_format in PARSE.items():
        out = out_dir / f"kg.{fmt}"
        export(ks, out, fmt)
        back = list(parse(path=str(out), format=rdf_format))
        if fmt == "turtle":
            assert as_triples(back) == as_triples(original)
        elif fmt == "jsonld":
            assert set(back) == set(to_rdf11(original))
        else:
            assert set(back) == original


def test_rdf11_export_has_no_triple_terms_and_keeps_every_fact(tmp_path):
    fs = [Fact(NamedNode("http://ex.org/a"), RDFS.label, Literal("A"), line=1)]
    ks = build(fs)
    out = tmp_path / "kg.nq"
    export(ks, out, "nquads", rdf11=True)
    back = list(parse(path=str(out), format=RdfFormat.N_QUADS))
    assert not any(isinstance(q.object, Triple) for q in back)
    statements = [q.subject for q in back if q.predicate == RDF.type and q.object == RDF.Statement]
    assert len(statements) == 1
    assert Quad(statements[0], RDF.subject, NamedNode("http://ex.org/a"), graph_iri("test", "x")) in back


def test_export_of_one_graph_only(tmp_path):
    ks = build([Fact(NamedNode("http://ex.org/a"), RDFS.label, Literal("A"))])
    out = tmp_path / "g.nq"
    export(ks, out, "nquads", graph=graph_iri("test", "x"))
    back = list(parse(path=str(out), format=RdfFormat.N_QUADS))
    assert back and all(q.graph_name == graph_iri("test", "x") for q in back)


def test_jsonld_uses_the_published_context(tmp_path):
    import json

    ks = build([Fact(NamedNode("http://ex.org/a"), RDFS.label, Literal("A"), line=3)])
    out = tmp_path / "kg.jsonld"
    export(ks, out, "jsonld")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["@context"]["ak"] == str(AK)
    assert "sourceLine" in out.read_text(encoding="utf-8")


def test_jsonld_keeps_an_empty_string_beside_another_value_and_reads_in_rdflib(tmp_path):
    """The case rdflib's own serializer drops (an empty string where the property has another
    value); an independent parser (rdflib) reads back every statement."""
    import rdflib

    s = NamedNode("http://ex.org/a")
    ks = build([Fact(s, SCHEMA.name, Literal("")), Fact(s, SCHEMA.name, Literal("x")),
                Fact(s, AK.confidence, Literal("0.50", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#double")))])
    out = tmp_path / "kg.jsonld"
    n = export(ks, out, "jsonld")
    back = set(parse(path=str(out), format=RdfFormat.JSON_LD))
    assert back == set(to_rdf11(ks.quads())) and len(back) == n
    ds = rdflib.Dataset()
    ds.parse(str(out), format="json-ld")
    assert len(ds) == n
    assert any(ds.quads((rdflib.URIRef(s.value), rdflib.URIRef(SCHEMA.name.value), rdflib.Literal(""), None)))
