"""Review of quarantined facts: list, release, confirm. Nothing is ever deleted.

The cleaning stage marks a suspect fact with an `ak:Quarantine` node (`ak:quarantines` the
triple term); the fact stays in the graph that asserted it, with its provenance. The default
view (named queries, exports) leaves out quarantined facts that no review released. A review
is a person's activity in its own graph: `released` brings the fact back into the view exactly
as it was asserted, `confirmed` keeps it out. One decision per quarantine.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Triple

from . import __version__
from .errors import AutoknowError
from .provenance import Fact, review_activity
from .store import KnowledgeStore
from .vocab import AK, ID

__all__ = ["DECISIONS", "list_quarantine", "review_rows", "review", "quarantined_triples"]

DECISIONS = ("released", "confirmed")


def list_quarantine(store: KnowledgeStore, pending_only: bool = False) -> list[dict]:
    """Quarantined facts, most suspect first (named query list_quarantine)."""
    rows = store.select("list_quarantine")
    return [r for r in rows if not pending_only or r["decision"] is None]


def review_rows(rows: list[dict], iris: bool = False) -> list[dict]:
    """What a person reviews by: the short id `release`/`confirm` take, the product's title, the
    attribute and value by their labels, score, reason, where the fact came from and the
    decision; the IRIs only when asked.

    >>> from pyoxigraph import Literal, NamedNode
    >>> row = {"quarantine": NamedNode(ID + "quarantine/ab12"), "product": NamedNode("http://p"), "title": Literal("Oat milk"),
    ...        "attribute": NamedNode("http://a"), "attributeLabel": Literal("flavor"), "value": Literal("vanilla"),
    ...        "valueLabel": None, "score": Literal(0.9), "reason": Literal("r"), "source": Literal("ingest"), "decision": None}
    >>> [str(v) for v in review_rows([row])[0].values()][:4]
    ['"ab12"', '"Oat milk"', '"flavor"', '"vanilla"']
    """
    out = []
    for r in rows:
        row = {"id": Literal(r["quarantine"].value.rsplit("/", 1)[-1]), "title": r["title"],
               "attribute": r["attributeLabel"] or r["attribute"], "value": r["valueLabel"] or r["value"],
               "score": r["score"], "reason": r["reason"], "source": r["source"], "decision": r["decision"]}
        if iris:
            row |= {"quarantine IRI": r["quarantine"], "product IRI": r["product"], "attribute IRI": r["attribute"],
                    "value IRI": r["value"]}
        out.append(row)
    return out


def _resolve(store: KnowledgeStore, ident: str) -> NamedNode:
    """A quarantine node from its IRI or the hash at its end."""
    iri = ident if ident.startswith(ID) else ID + "quarantine/" + ident
    node = NamedNode(iri)
    if not any(store.quads_for_pattern(node, AK.quarantines, None)):
        raise AutoknowError(f"no quarantined fact {ident!r}; see `autoknow quarantine list`")
    return node


def review(store: KnowledgeStore, ident: str, decision: str, reviewer: str = "reviewer") -> NamedNode:
    """Record a decision on one quarantined fact in a new review graph; returns the node."""
    if decision not in DECISIONS:
        raise AutoknowError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    node = _resolve(store, ident)
    earlier = [q.object.value for q in store.quads_for_pattern(node, AK.decision, None)]
    if earlier:
        raise AutoknowError(f"{node.value} was already reviewed: {earlier[0]}")
    store.write(review_activity(node, decision, reviewer, __version__), [Fact(node, AK.decision, Literal(decision))])
    return node


def quarantined_triples(store: KnowledgeStore) -> set[Triple]:
    """The facts out of the default view (quarantined, not released)."""
    return {Triple(r["subject"], r["predicate"], r["object"]) for r in store.select("list_quarantined_facts")}
