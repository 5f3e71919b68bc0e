"""KnowledgeStore: the Oxigraph store every stage reads and writes, one graph per activity.

Writes go through `write(activity, facts)`: the facts, their reifiers and the activity's
provenance land in one transaction (pyoxigraph `extend` is all-or-nothing), so a failed or
killed write leaves nothing behind, and a graph that exists is complete. Writing an activity
whose graph exists is a no-op, which makes ingest and stage runs idempotent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

from pyoxigraph import NamedNode, Quad, QueryBoolean, QuerySolutions, Store, Variable

from . import queries
from .errors import QueryError, StoreError
from .provenance import Activity, Fact
from .vocab import PREFIXES

__all__ = ["KnowledgeStore", "DEFAULT_STORE"]

DEFAULT_STORE = Path("autoknow-store")


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
        except OSError as exc:
            hint = " (is `autoknow serve` running on it? then open it read-only)" if "lock" in str(exc).lower() else ""
            raise StoreError(f"{self.path}: cannot open the store: {exc}{hint}") from exc

    # ---- writing ---------------------------------------------------------------------------
    def has_graph(self, graph: NamedNode) -> bool:
        return self.store.contains_named_graph(graph)

    def write(self, activity: Activity, facts: Iterable[Fact]) -> int:
        """Assert `facts` into the activity's graph in one transaction; returns quads written.

        Returns 0 without touching the store when that graph already exists.
        """
        if self.read_only:
            raise StoreError(f"{self.path}: the store is open read-only")
        if self.has_graph(activity.graph):
            return 0
        quads = list(activity.fact_quads(facts))
        quads += activity.provenance_quads()
        try:
            self.store.extend(quads)
        except OSError as exc:
            raise StoreError(f"writing {activity.graph.value} failed, nothing was written: {exc}") from exc
        self.store.flush() if self.path is not None else None
        return len(quads)

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

    def graphs(self) -> list[NamedNode]:
        return sorted(self.store.named_graphs(), key=lambda g: g.value)

    def close(self) -> None:
        if self.path is not None and not self.read_only:
            self.store.flush()
        del self.store


def rows(result: QuerySolutions) -> list[dict[str, Any]]:
    """SELECT solutions as a list of {variable: term or None}."""
    if not isinstance(result, QuerySolutions):
        raise QueryError("expected a SELECT query")
    names = [v.value for v in result.variables]
    return [{n: sol[n] for n in names} for sol in result]

