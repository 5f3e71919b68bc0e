"""KnowledgeStore: the Oxigraph store every stage reads and writes, one graph per activity.

Writes go through `write(activity, facts)` and are all-or-nothing by a commit marker:
1. facts and their reifiers are streamed (bulk-loaded) into the activity's own, new graph;
2. the activity's description goes into the provenance graph in one transaction: the commit.
A graph of ours that no activity claims is an interrupted write: `write` rolls it back on
failure, and opening the store for writing removes any left by a killed process (only one
process can hold an on-disk store for writing). Writing an activity that is already committed
is a no-op, which makes ingest and stage runs idempotent. Step 2 uses `bulk_extend` because a
single RocksDB transaction of a million quads is about three times slower.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

from pyoxigraph import NamedNode, Quad, QueryBoolean, QuerySolutions, Store, Variable

from . import queries
from .errors import QueryError, StoreError
from .provenance import Activity, Fact
from .vocab import AK, ID, PREFIXES, PROVENANCE_GRAPH

__all__ = ["KnowledgeStore", "DEFAULT_STORE", "open_store"]

DEFAULT_STORE = Path("autoknow-store")
OUR_GRAPHS = ID + "graph/"


class KnowledgeStore:
    """An Oxigraph store on disk (`path`) or in memory (`path=None`, for tests).

    >>> ks = KnowledgeStore()
    >>> len(ks)
    0
    """

    def __init__(self, path: Path | str | None = None, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        try:
            if self.path is None:
                self.store = Store()
            elif read_only:
                if not self.path.is_dir():
                    raise StoreError(f"{self.path}: no store here (run `autoknow init` first)")
                self.store = Store.read_only(str(self.path))
            else:
                self.store = Store(str(self.path))
                self.recover()
        except OSError as exc:
            hint = " (is `autoknow serve` running on it? then open it read-only)" if "lock" in str(exc).lower() else ""
            raise StoreError(f"{self.path}: cannot open the store: {exc}{hint}") from exc

    # ---- writing ---------------------------------------------------------------------------
    def has_graph(self, graph: NamedNode) -> bool:
        return self.store.contains_named_graph(graph)

    def is_committed(self, activity: Activity) -> bool:
        """True when the activity's commit marker (its provenance record) is in the store."""
        return any(self.store.quads_for_pattern(activity.iri, AK.graph, activity.graph, PROVENANCE_GRAPH))

    def write(self, activity: Activity, facts: Iterable[Fact]) -> int:
        """Assert `facts` into the activity's graph, all or nothing; returns quads written.

        Returns 0 without touching the store when the activity is already committed.
        """
        if self.read_only:
            raise StoreError(f"{self.path}: the store is open read-only")
        if self.is_committed(activity):
            return 0
        if self.has_graph(activity.graph):  # left by an interrupted write of this activity
            self.store.remove_graph(activity.graph)
        counter = _Counter(activity.fact_quads(facts))
        try:
            self.store.bulk_extend(counter)  # streamed: memory stays flat on large files
            marker = activity.provenance_quads()
            self.store.extend(marker)  # the commit: one transaction
            if self.path is not None:
                self.store.flush()
        except BaseException as exc:
            if not self.is_committed(activity):
                self.store.remove_graph(activity.graph)
            if isinstance(exc, OSError):
                raise StoreError(f"writing {activity.graph.value} failed, nothing was written: {exc}") from exc
            raise
        return counter.n + len(marker)

    def recover(self) -> list[NamedNode]:
        """Remove graphs of ours (`akid:graph/…`) that no committed activity claims."""
        orphans = [g for g in self.store.named_graphs()
                   if isinstance(g, NamedNode) and g.value.startswith(OUR_GRAPHS) and g != PROVENANCE_GRAPH
                   and not any(self.store.quads_for_pattern(None, AK.graph, g, PROVENANCE_GRAPH))]
        for g in orphans:
            self.store.remove_graph(g)
        return orphans

    # ---- reading ---------------------------------------------------------------------------
    def run(self, sparql: str, **bind: Any) -> QuerySolutions | QueryBoolean | Any:
        """Run SPARQL with values bound by substitution (never formatted into the text).

        The default graph is the union of all graphs; `GRAPH ?g` still reaches each one.
        """
        subs = {Variable(k): v for k, v in bind.items()}
        try:
            return self.store.query(sparql, prefixes=PREFIXES, substitutions=subs or None, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, RuntimeError) as exc:
            raise QueryError(f"query failed: {exc}") from exc

    def select(self, name: str, **bind: Any) -> list[dict[str, Any]]:
        """Rows of a named SELECT query (sparql/<name>.rq) as dicts of terms (None if unbound)."""
        return rows(self.run(queries.text(name), **bind))

    def ask(self, name: str, **bind: Any) -> bool:
        return bool(self.run(queries.text(name), **bind))

    def __len__(self) -> int:
        return len(self.store)

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        return self.store.quads_for_pattern(None, None, None, graph)

    def quads_for_pattern(self, s=None, p=None, o=None, g=None) -> Iterator[Quad]:
        """Quads matching a pattern (None: any): the one read both store kinds answer alike."""
        return self.store.quads_for_pattern(s, p, o, g)

    def graphs(self) -> list[NamedNode]:
        return sorted(self.store.named_graphs(), key=lambda g: g.value)

    def close(self) -> None:
        if self.path is not None and not self.read_only:
            self.store.flush()
        del self.store


class _Counter:
    """Counts the quads an iterator yields while the store consumes it."""

    def __init__(self, quads: Iterable[Quad]):
        self.quads, self.n = iter(quads), 0

    def __iter__(self) -> "_Counter":
        return self

    def __next__(self) -> Quad:
        q = next(self.quads)
        self.n += 1
        return q


def rows(result: QuerySolutions) -> list[dict[str, Any]]:
    """SELECT solutions as a list of {variable: term or None}."""
    if not isinstance(result, QuerySolutions):
        raise QueryError("expected a SELECT query")
    names = [v.value for v in result.variables]
    return [dict(zip(names, tuple(sol))) for sol in result]  # a tuple per solution: 12% faster than by name


def open_store(spec: Path | str, read_only: bool = False):
    """The store `spec` names: an on-disk Oxigraph directory (KnowledgeStore), or a SPARQL 1.1
    server by URL or endpoints file (remote.RemoteStore); both answer the same interface."""
    from .remote import RemoteStore, is_remote

    return RemoteStore(spec, read_only=read_only) if is_remote(spec) else KnowledgeStore(spec, read_only=read_only)
