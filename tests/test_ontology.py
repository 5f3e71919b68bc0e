"""The core ontology: loadable by rdflib and owlready2, and in step with vocab.AK."""

from __future__ import annotations

import re

import rdflib
from rdflib.namespace import OWL, RDFS

from autoknow_rdf.vocab import AK, ONTOLOGY_FILE

AK_NS = str(AK)


def ak_terms_in_ontology(g: rdflib.Graph) -> set[str]:
    return {str(s)[len(AK_NS):] for s in g.subjects() if str(s).startswith(AK_NS)}


def test_ontology_parses_with_rdflib_and_documents_every_term():
    g = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")
    terms = ak_terms_in_ontology(g)
    assert terms, "no ak: terms defined"
    for t in terms:
        node = rdflib.URIRef(AK_NS + t)
        assert g.value(node, RDFS.label) is not None, f"ak:{t} has no rdfs:label"
        assert g.value(node, RDFS.comment) is not None, f"ak:{t} has no rdfs:comment"
    assert (rdflib.URIRef(AK_NS + "Product"), RDFS.subClassOf, rdflib.URIRef("https://schema.org/Product")) in g
    assert (rdflib.URIRef(AK_NS + "AttributeValue"), rdflib.RDF.type, OWL.Class) in g


def test_vocab_and_ontology_define_the_same_terms():
    g = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")
    assert ak_terms_in_ontology(g) == set(AK.terms())


def test_vocab_rejects_undefined_terms():
    import pytest

    with pytest.raises(AttributeError, match="not defined"):
        AK.hasFlavour  # noqa: B018 - the typo must raise


def test_ontology_loads_in_owlready2(tmp_path):
    import owlready2

    # owlready2 reads RDF/XML or N-Triples: convert with rdflib, as a user would.
    nt = tmp_path / "autoknow.nt"
    rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle").serialize(nt, format="nt")
    world = owlready2.World()
    onto = world.get_ontology(nt.as_uri()).load()
    names = {c.name for c in onto.classes()}
    assert {"Product", "AttributeValue", "Applicability", "Review", "Basket"} <= names
    props = {p.name for p in onto.object_properties()}
    assert {"hasAttributeValue", "forType", "containsProduct"} <= props
    product = onto.search_one(iri=AK_NS + "Product")
    assert any(re.search("schema.org/Product", str(getattr(p, "iri", p))) for p in product.is_a)
