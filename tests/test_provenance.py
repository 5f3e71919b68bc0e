"""Every fact is traceable by SPARQL to its activity, line, evidence span and confidence."""

from __future__ import annotations

import json

from pyoxigraph import Literal, NamedNode, Quad

from autoknow_rdf.console import plain
from autoknow_rdf.loaders.catalogue import text_id
from autoknow_rdf.vocab import product_iri

from .conftest import DEMO


def test_every_fact_of_a_real_store_has_provenance(store):
    assert store.ask("find_facts_without_provenance") is False
    assert store.select("find_incomplete_graphs") == []


def test_a_fact_without_provenance_is_detected(store):
    graph = next(g for g in store.graphs() if "/graph/source/" in g.value)
    store.store.add(Quad(NamedNode("http://example.org/x"), NamedNode("http://example.org/p"), Literal("y"), graph))
    assert store.ask("find_facts_without_provenance") is True


def test_the_fast_provenance_check_answers_as_the_plain_one(store):
    """find_facts_without_provenance checks one graph at a time and each reifier's activity once
    (for speed); the plain join in tests/reference answers the same on the real cut and after
    each kind of damage. The fast one is stricter in one case, and says so: a reifier that names
    no writer of its graph is reported even when the fact has another, good reifier."""
    from pathlib import Path

    from pyoxigraph import Triple

    from autoknow_rdf.provenance import reifier_iri
    from autoknow_rdf.vocab import AK, PROV, RDF

    reference = (Path(__file__).parent / "reference" / "find_facts_without_provenance.rq").read_text(encoding="utf-8")
    plain_check = lambda: bool(store.run(reference))  # noqa: E731
    assert store.ask("find_facts_without_provenance") is False and plain_check() is False
    graphs = [g for g in store.graphs() if "/graph/source/" in g.value]
    graph, other = graphs[0], graphs[1]
    quad = next(q for q in store.quads(graph) if q.predicate == RDF.reifies)
    t = quad.object
    reifier = quad.subject
    # 1. a fact whose reifier says another graph's activity wrote it
    (activity,) = [q.object for q in store.store.quads_for_pattern(reifier, PROV.wasGeneratedBy, None, graph)]
    (foreign,) = [q.subject for q in store.store.quads_for_pattern(None, AK.graph, other, None)]
    store.store.remove(Quad(reifier, PROV.wasGeneratedBy, activity, graph))
    store.store.add(Quad(reifier, PROV.wasGeneratedBy, foreign, graph))
    assert store.ask("find_facts_without_provenance") is True and plain_check() is True
    store.store.remove(Quad(reifier, PROV.wasGeneratedBy, foreign, graph))
    store.store.add(Quad(reifier, PROV.wasGeneratedBy, activity, graph))
    assert store.ask("find_facts_without_provenance") is False and plain_check() is False
    # 2. a fact whose reifier is gone
    removed = list(store.store.quads_for_pattern(reifier, None, None, graph))
    for q in removed:
        store.store.remove(q)
    assert store.ask("find_facts_without_provenance") is True and plain_check() is True
    store.store.extend(removed)
    # 3. the stricter case: a second reifier of a traced fact, naming no activity
    stray = reifier_iri(other, Triple(t.subject, t.predicate, t.object))
    store.store.add(Quad(stray, RDF.reifies, t, graph))
    assert store.ask("find_facts_without_provenance") is True and plain_check() is False


def test_a_graph_without_activity_is_detected(store):
    store.store.add(Quad(NamedNode("http://example.org/x"), NamedNode("http://example.org/p"), Literal("y"), NamedNode("http://example.org/g")))
    assert [plain(r["graph"], compact=False) for r in store.select("find_incomplete_graphs")] == ["http://example.org/g"]


def test_attribute_facts_carry_line_span_and_activity(store):
    path = DEMO / "open/oa_mine_attributes/oa_mine_train.jsonl"
    line5 = json.loads(path.read_text(encoding="utf-8").splitlines()[4])
    rows = store.select("list_product_attributes", product=product_iri("oa-mine", text_id(line5["input"])))
    assert len(rows) == len(line5["spans"])
    for row in rows:
        assert plain(row["line"]) == 5
        start, end = plain(row["start"]), plain(row["end"])
        assert line5["input"][start:end] == plain(row["evidence"])
        assert plain(row["confidence"]) == 1.0
        assert "ingest/oa-mine-" in row["activity"].value
    activities = {plain(r["activity"], compact=False): r for r in store.select("list_activities")}
    act = activities[rows[0]["activity"].value]
    assert plain(act["checksum"]).startswith("sha256:")
    assert plain(act["location"]).endswith("oa_mine_train.jsonl")
    assert plain(act["adapter"]) == "oa-mine"


def test_facts_by_source_lists_what_one_ingest_asserted(store):
    act = next(r for r in store.select("list_activities") if plain(r["adapter"]) == "esci")
    facts = store.select("list_facts_by_source", activity=act["activity"])
    assert len(facts) == plain(act["facts"])
    assert all(plain(f["line"]) >= 2 for f in facts)  # line 1 is the header
