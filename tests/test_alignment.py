"""Alignment: catalogue types attached under the types of a taxonomy that declares attributes, so
that shapes generated from that taxonomy reach the catalogue's products (real data, real store)."""

from __future__ import annotations

import pytest

from autoknow_rdf.ingest import ingest_file
from autoknow_rdf.ontology import load_ontology
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.vocab import scheme_iri

from .conftest import DEMO

pytestmark = pytest.mark.slow

SHOPIFY, OFF, INSTACART = (scheme_iri(s).value for s in ("shopify", "off", "instacart"))


@pytest.fixture(scope="module")
def catalogue_store() -> KnowledgeStore:
    """Shopify's food, beauty and baby categories with their attribute links (the declaring
    taxonomy), Open Food Facts products typed by its categories and Instacart products typed by
    aisle: the demo's own files."""
    store = KnowledgeStore()
    load_ontology(store)
    o, r = DEMO / "open", DEMO / "restricted"
    for p in (o / "shopify_product_taxonomy/categories.tsv", o / "shopify_product_taxonomy/category_attributes.tsv",
              o / "shopify_product_taxonomy/attributes.jsonl", o / "openfoodfacts_products/off_products.jsonl.gz",
              r / "instacart_baskets/products.csv"):
        ingest_file(store, p)
    return store


@pytest.fixture(scope="module")
def trained(catalogue_store, tmp_path_factory):
    from autoknow_rdf.pipeline import train_stage

    models = tmp_path_factory.mktemp("models")
    train_stage(catalogue_store, "alignment", models)
    return models


def test_a_hidden_type_is_read_without_its_subtree(catalogue_store):
    """Training hides a type with everything below it: no candidate is the type or under it,
    and none of its members' nearest types can be (else its parent would be given away)."""
    from autoknow_rdf.ml.encoder import embed
    from autoknow_rdf.stages.alignment.model import AlignmentModel, Tree, members_of
    from autoknow_rdf.stages.alignment.stage import read_inputs

    inputs = read_inputs(catalogue_store)
    view = inputs.view
    tree = Tree(view, [t for t in view.names if view.scheme.get(t) == SHOPIFY], embed)
    inner = sorted((t for t in tree.ids if tree.parents[t] and len(tree.below[t]) >= 3), key=len)[:5]
    assert inner
    model = AlignmentModel()
    for t, cands, X, is_parent, holds in model.examples(view, tree, inner, embed):
        found = {tree.ids[c] for c in cands}
        assert not found & ({t} | tree.below[t])
        assert members_of(view, t, tree.below), t  # read by the names below it
        # the parent is a candidate, or the example was made without one on purpose (FOREIGN)
        assert is_parent.any() or not holds.any()
        assert not (is_parent & ~holds).any()  # a parent holds the type
    assert not tree.hidden.any()  # put back


def test_foreign_and_stray_examples_have_nothing_to_find(catalogue_store):
    """A type read against a taxonomy without its top branch, or with members of another branch
    mixed in, has no candidate that holds it: the model learns to score such types low (an
    Instacart aisle of trash bags against food and beauty categories)."""
    from autoknow_rdf.ml.encoder import embed
    from autoknow_rdf.splits import bucket
    from autoknow_rdf.stages.alignment.model import FOREIGN, STRAY, AlignmentModel, Tree
    from autoknow_rdf.stages.alignment.stage import read_inputs

    view = read_inputs(catalogue_store).view
    tree = Tree(view, [t for t in view.names if view.scheme.get(t) == SHOPIFY], embed)
    foreign = [t for t in tree.ids if tree.parents[t] and bucket("foreign" + t) < FOREIGN][:5]
    stray = [t for t in tree.ids if tree.parents[t] and tree.below[t] and bucket("foreign" + t) >= FOREIGN
             and bucket("stray" + t) < STRAY][:5]
    assert foreign and stray
    model = AlignmentModel()
    for t, cands, X, is_parent, holds in model.examples(view, tree, foreign + stray, embed):
        assert not holds.any() and not is_parent.any(), view.names[t]
    t = foreign[0]
    top = [r for r in tree.ids if not tree.parents[r] and r in tree.ancestors[t]]
    cands = model.examples(view, tree, [t], embed)[0][1]
    assert not {tree.ids[c] for c in cands} & ({*top} | set().union(*(tree.below[r] for r in top)))


def test_a_catalogue_product_is_validated_by_a_shopify_shape_through_the_alignment(catalogue_store, trained):
    """At the production gate, a product typed only with an Open Food Facts or Instacart type
    falls under a shape generated from Shopify's attribute links, through the alignment edge."""
    from autoknow_rdf.pipeline import run_stage
    from autoknow_rdf.shapes import data_slice, validate, write_shapes
    from autoknow_rdf.stages.view import type_names

    store = catalogue_store
    result = run_stage(store, "alignment", trained)
    assert result.facts > 0, "no edge passed the 0.9 gate"
    edges = list(store.run("SELECT ?child ?parent WHERE { GRAPH ?g { ?child rdfs:subClassOf ?parent } "
                           "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/autoknow/id/graph/run/alignment/')) }"))
    scheme = type_names(store)[1]
    assert edges and all(scheme[e["parent"].value] == SHOPIFY and scheme[e["child"].value] in (OFF, INSTACART) for e in edges)
    graph, _ = write_shapes(store)
    sliced = data_slice(store)
    import rdflib

    shaped = {str(o) for o in sliced.objects(None, rdflib.RDF.type)}
    reached = set()
    for e in edges:
        for r in store.select("list_products_of_type", type=e["child"]):
            own = {t["type"].value for t in store.run("SELECT ?p ?type WHERE { ?p a ?type . ?type skos:inScheme ?s }", p=r["product"])}
            if own and all(scheme.get(t) != SHOPIFY for t in own) and (rdflib.URIRef(r["product"].value), rdflib.RDF.type,
                                                                      rdflib.URIRef(e["parent"].value)) in sliced:
                reached.add(r["product"].value)
    assert reached, "no product of an aligned type reached a Shopify shape"
    assert any(e["parent"].value in shaped for e in edges)
    report = validate(store, graph)
    assert report.focus_nodes >= len(reached)


def test_a_run_finds_the_same_candidates_whatever_ran_before(catalogue_store, trained, tmp_path):
    """Whether a type already sits under a declaring type is read from the ingested links, not
    from this stage's own earlier edges: a run at 0.5 after one at 0.9 keeps every 0.9 edge."""
    from autoknow_rdf.pipeline import run_stage
    from autoknow_rdf.vocab import graph_iri

    store = catalogue_store
    strict = run_stage(store, "alignment", trained, "at-0.9")
    loose = run_stage(store, "alignment", trained, "at-0.5", min_precision=0.5)
    assert loose.facts >= strict.facts > 0 and loose.run_id != strict.run_id

    def edges(run_id):
        rows = store.run("SELECT ?g ?c ?p WHERE { GRAPH ?g { ?c rdfs:subClassOf ?p } }",
                         g=graph_iri("run", "alignment", run_id))
        return {(r["c"].value, r["p"].value) for r in rows}

    assert edges(strict.run_id) <= edges(loose.run_id)


def _linked_store(equivalent: bool) -> tuple[KnowledgeStore, str, str]:
    """The catalogue store with the Instacart aisle "yogurt" linked to Shopify's Yogurt, as a
    synonyms run writes it (owl:equivalentClass) or as an alignment run does (rdfs:subClassOf)."""
    from pyoxigraph import NamedNode

    from autoknow_rdf import __version__
    from autoknow_rdf.provenance import Fact, run_activity
    from autoknow_rdf.stages.view import type_names
    from autoknow_rdf.vocab import OWL, RDFS

    store = KnowledgeStore()
    load_ontology(store)
    o, r = DEMO / "open", DEMO / "restricted"
    for p in (o / "shopify_product_taxonomy/categories.tsv", o / "shopify_product_taxonomy/category_attributes.tsv",
              o / "shopify_product_taxonomy/attributes.jsonl", r / "instacart_baskets/products.csv"):
        ingest_file(store, p)
    names, scheme = type_names(store)
    aisle = next(t for t, n in names.items() if n == "yogurt" and scheme[t] == INSTACART)
    shopify = next(t for t, n in names.items() if n == "Yogurt" and scheme[t] == SHOPIFY)
    stage = "synonyms" if equivalent else "alignment"
    store.write(run_activity(stage, "test", "m", "0", "sha256:00", __version__),
                [Fact(NamedNode(aisle), OWL.equivalentClass if equivalent else RDFS.subClassOf, NamedNode(shopify), confidence=0.95)])
    return store, aisle, shopify


@pytest.mark.parametrize("equivalent", [True, False])
def test_a_link_across_taxonomies_brings_the_shapes_of_the_declaring_type(equivalent):
    """Shopify declares Yogurt's attributes; an aisle linked to it (by synonyms or the alignment)
    has its products validated by Yogurt's shape, as the class target entails (equivalentClass
    read as subclass both ways)."""
    import rdflib
    from pyoxigraph import NamedNode

    from autoknow_rdf.shapes import data_slice, validate, write_shapes

    store, aisle, shopify = _linked_store(equivalent)
    graph, _ = write_shapes(store)
    sliced = data_slice(store)
    products = [r["product"].value for r in store.run("SELECT ?t ?product WHERE { ?product a ?t , ak:Product }",
                                                           t=NamedNode(aisle))]
    assert products and all((rdflib.URIRef(p), rdflib.RDF.type, rdflib.URIRef(shopify)) in sliced for p in products)
    assert validate(store, graph).focus_nodes >= len(products)


def test_relations_read_a_declaring_equivalent_as_a_parent():
    """The aisle declares nothing; its equivalent Shopify type's attributes are its parent's
    evidence (synonyms runs before relations), never the other way round."""
    from autoknow_rdf.stages.relations.stage import read_relations

    store, aisle, shopify = _linked_store(True)
    view = read_relations(store)
    assert shopify in view.taxonomy.parents[aisle] and shopify in view.labels
    assert aisle not in view.taxonomy.parents.get(shopify, set())
