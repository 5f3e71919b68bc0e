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
