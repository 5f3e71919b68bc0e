"""Every named query in sparql/ parses, documents its variables, and answers on a real store."""

from __future__ import annotations

import re

import pytest

from autoknow_rdf import queries
from autoknow_rdf.console import plain
from autoknow_rdf.errors import QueryError
from autoknow_rdf.vocab import scheme_iri, type_iri


def test_query_names_follow_verb_thing():
    for name in queries.names():
        assert re.fullmatch(r"(list|count|find)_[a-z_]+", name), name


@pytest.mark.parametrize("name", queries.names())
def test_each_query_has_a_header_naming_what_it_returns(name):
    head = queries.header(name)
    assert "Returns:" in head
    declared = re.search(r"Returns: (.*)", head).group(1)
    if declared.startswith("?"):
        variables = re.findall(r"\?(\w+)", declared)
        select = queries.text(name).split("WHERE", 1)[0]
        assert all(f"?{v}" in select for v in variables), (name, variables)


@pytest.mark.parametrize("name", queries.names())
def test_each_query_parses_and_runs_on_an_empty_store(name, empty_store):
    body = "\n".join(line for line in queries.text(name).splitlines() if not line.startswith("#")).strip()
    result = empty_store.ask(name) if body.upper().startswith("ASK") else empty_store.select(name)
    assert result is not None  # a syntax error raises QueryError


def test_unknown_query_lists_the_known_ones():
    with pytest.raises(QueryError, match="list_types"):
        queries.text("no_such_query")


def test_list_types_of_one_taxonomy(store):
    rows = store.select("list_types", scheme=scheme_iri("shopify"))
    assert rows and all(r["scheme"] == scheme_iri("shopify") for r in rows)
    child = {plain(r["type"], compact=False): plain(r["parent"], compact=False) for r in rows}
    assert child[type_iri("shopify", "fb-1").value] == type_iri("shopify", "fb").value


def test_products_of_a_type_include_its_subtypes(store):
    beverages = store.select("list_products_of_type", type=type_iri("off", "en:beverages"))
    teas = store.select("list_products_of_type", type=type_iri("off", "en:teas"))
    assert teas and len(beverages) >= len(teas)
    assert {r["product"] for r in teas} <= {r["product"] for r in beverages}


def test_counts_on_the_real_cut(store):
    summary = {k: plain(v) for k, v in store.select("count_summary")[0].items()}
    assert summary["products"] >= 150 + 199  # OA-Mine titles and OFF products of the cut
    assert summary["customerTexts"] > 0 and summary["behaviourEvents"] > 0 and summary["queries"] > 0
    per_graph = store.select("count_facts_by_graph")
    assert sum(plain(r["quads"]) for r in per_graph) == len(store)
    assert {plain(r["adapter"]) for r in per_graph} >= {"oa-mine", "esci", "subjqa", "shopify-categories"}
    by_type = store.select("count_products_by_type")
    assert plain(by_type[0]["products"]) >= plain(by_type[-1]["products"])
    assert store.select("count_types_by_scheme")


def test_one_products_attributes_answer_as_the_plain_query(store):
    """list_product_attributes looks reifiers up per triple (LATERAL) for speed; the plain join in
    tests/reference answers the same for products with values, and nothing for an unknown IRI."""
    from pathlib import Path

    from pyoxigraph import NamedNode

    from autoknow_rdf.store import rows

    reference = (Path(__file__).parent / "reference" / "list_product_attributes.rq").read_text(encoding="utf-8")
    products = [r["p"] for r in rows(store.run(
        "SELECT DISTINCT ?p WHERE { ?p a ak:Product ; ?a ?v . ?a rdfs:subPropertyOf ak:hasAttributeValue } ORDER BY ?p LIMIT 8"))]
    assert len(products) == 8
    as_set = lambda rs: sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rs)  # noqa: E731
    for p in products + [NamedNode("https://w3id.org/autoknow/id/product/not-in-the-store")]:
        fast = store.select("list_product_attributes", product=p)
        assert as_set(fast) == as_set(rows(store.run(reference, product=p)))
    assert any(store.select("list_product_attributes", product=p) for p in products)


@pytest.mark.parametrize("name, variable, pick", [
    ("list_products_of_type", "type",
     "SELECT DISTINCT ?x WHERE { ?p a ak:Product ; a ?x . ?x a owl:Class } ORDER BY ?x LIMIT 6"),
    ("list_facts_by_source", "activity",
     "SELECT ?x WHERE { GRAPH <https://w3id.org/autoknow/id/graph/provenance> { ?x ak:graph ?g } } ORDER BY ?x LIMIT 6"),
])
def test_bound_queries_answer_as_their_plain_formulations(store, name, variable, pick):
    """Queries rewritten with LATERAL for speed answer exactly as the plain joins in tests/reference."""
    from pathlib import Path

    from pyoxigraph import NamedNode

    from autoknow_rdf.store import rows

    reference = (Path(__file__).parent / "reference" / f"{name}.rq").read_text(encoding="utf-8")
    values = [r["x"] for r in rows(store.run(pick))]
    assert len(values) == 6
    as_set = lambda rs: sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rs)  # noqa: E731
    answered = 0
    for v in values + [NamedNode("https://w3id.org/autoknow/id/not-in-the-store")]:
        fast = store.select(name, **{variable: v})
        assert as_set(fast) == as_set(rows(store.run(reference, **{variable: v})))
        answered += bool(fast)
    assert answered >= 3
