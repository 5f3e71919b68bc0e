"""KnowledgeStore writes: one transaction per activity, idempotent, read-only respected."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from autoknow_rdf.errors import StoreError
from autoknow_rdf.provenance import Activity, Fact
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.vocab import AK, RDFS, graph_iri, node_iri

from .conftest import quad_set


def activity(key: str) -> Activity:
    return Activity(node_iri("activity", "test", key), AK.Ingest, graph_iri("test", key))


def facts(n: int):
    for i in range(n):
        yield Fact(NamedNode(f"http://example.org/t{i}"), RDFS.label, Literal(f"type {i}"), line=i + 1)


def test_write_asserts_facts_with_reifiers_and_activity(empty_store):
    before = len(empty_store)
    written = empty_store.write(activity("a"), facts(10))
    assert written == len(empty_store) - before > 10 * 3
    assert not empty_store.ask("find_facts_without_provenance")
    assert empty_store.select("find_incomplete_graphs") == []


def test_rewriting_the_same_activity_is_a_no_op(empty_store):
    empty_store.write(activity("a"), facts(10))
    snapshot = quad_set(empty_store)
    assert empty_store.write(activity("a"), facts(10)) == 0
    assert quad_set(empty_store) == snapshot


def test_failure_while_producing_facts_writes_nothing(empty_store):
    snapshot = quad_set(empty_store)

    def broken():
        yield from facts(5)
        raise ValueError("bad record")

    with pytest.raises(ValueError):
        empty_store.write(activity("b"), broken())
    assert quad_set(empty_store) == snapshot
    assert not empty_store.has_graph(graph_iri("test", "b"))


def test_an_interrupted_write_is_removed_when_the_store_is_next_opened(tmp_path):
    from autoknow_rdf.vocab import RDFS as _RDFS

    path = tmp_path / "kg"
    ks = KnowledgeStore(path)
    ks.write(activity("kept"), facts(3))
    # what a killed process leaves: facts bulk-loaded into our graph, no commit marker
    act = activity("killed")
    ks.store.bulk_extend(list(act.fact_quads(facts(4))))
    ks.close()
    assert [g.value for g in KnowledgeStore(path, read_only=True).select("find_incomplete_graphs") for g in [g["graph"]]] == [act.graph.value]
    reopened = KnowledgeStore(path)
    assert reopened.select("find_incomplete_graphs") == []
    assert reopened.has_graph(activity("kept").graph) and not reopened.has_graph(act.graph)
    assert reopened.write(act, facts(4)) > 0  # and the re-run completes it
    assert len(list(reopened.store.quads_for_pattern(None, _RDFS.label, None, act.graph))) == 4


def test_graphs_that_are_not_ours_survive_recovery(tmp_path):
    path = tmp_path / "kg"
    ks = KnowledgeStore(path)
    ks.store.add(Quad(NamedNode("http://ex.org/s"), NamedNode("http://ex.org/p"), Literal("o"), NamedNode("http://ex.org/users-graph")))
    ks.close()
    assert KnowledgeStore(path).has_graph(NamedNode("http://ex.org/users-graph"))


def test_duplicate_facts_are_written_once(empty_store):
    twice = list(facts(3)) * 2
    empty_store.write(activity("c"), twice)
    labels = list(empty_store.store.quads_for_pattern(None, RDFS.label, None, graph_iri("test", "c")))
    assert len(labels) == 3


def test_read_only_store_refuses_writes(tmp_path):
    path = tmp_path / "kg"
    rw = KnowledgeStore(path)
    rw.write(activity("a"), facts(2))
    rw.close()
    ro = KnowledgeStore(path, read_only=True)
    assert len(ro) > 0
    with pytest.raises(StoreError, match="read-only"):
        ro.write(activity("z"), facts(1))


def test_opening_a_missing_store_read_only_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no store here"):
        KnowledgeStore(tmp_path / "nothing", read_only=True)
