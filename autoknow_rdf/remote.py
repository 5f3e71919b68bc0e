"""RemoteStore: the knowledge store on a SPARQL 1.1 server, behind the KnowledgeStore interface.

`--store http://HOST:PORT/` names an Oxigraph server (`oxigraph serve`: /query, /update, /store);
a JSON file `{"query": URL, "update": URL, "store": URL}` names the three endpoints of any other
(Virtuoso, Fuseki, GraphDB). It speaks SPARQL 1.1 Query (results as JSON, streamed), Update,
and the Graph Store Protocol:
- named queries run unchanged: the project's prefixes are declared before them, and bound values
  go into a trailing `VALUES` block written as N-Triples terms (never formatted from strings);
  the default graph is the union of the graphs (`union-default-graph`, Virtuoso's default);
- an activity's graph is written as one Graph Store PUT, then its commit marker goes into the
  provenance graph (one INSERT DATA), as the embedded store writes: a graph no activity claims is
  an interrupted write, which `recover` drops when a store is opened for writing. (Building it
  under a temporary name and moving it with the marker in one update hides it from readers
  meanwhile, but the MOVE copied every quad again in one transaction: 2.8 times slower.);
- an unreachable URL, an answer that is not SPARQL, a server that refuses updates and one that
  cannot read RDF 1.2 triple terms (every fact's reifier is `rdf:reifies <<( s p o )>>`) are clear
  errors when the store is opened, before any work. Virtuoso 7 is refused this way (measured:
  7.2.5.1 answers a triple term with a syntax error, SP030);
- requests are the protocol's form-encoded POSTs, and an ASK answer is read as a boolean or as
  the one-cell table some servers send (Virtuoso's `__ASK_RETVAL`);
- SELECT answers are read in pages of `page_size` rows in a stable order: the query becomes a
  subquery, ordered by every variable it projects (found by running it on an empty in-memory
  store), with LIMIT and OFFSET. One request when the answer is smaller than a page.
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

from pyoxigraph import (DefaultGraph, NamedNode, Quad, QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store,
                        parse, parse_query_results, serialize)

from . import queries
from .errors import QueryError, StoreError
from .provenance import Activity, Fact
from .vocab import ID, PREFIXES, PROVENANCE_GRAPH

__all__ = ["RemoteStore", "is_remote"]

OUR_GRAPHS = ID + "graph/"
_PROLOGUE = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def is_remote(spec: str | Path) -> bool:
    """True for an http(s) URL or a JSON endpoints file: a store on a SPARQL server."""
    text = str(spec)
    return text.startswith(("http://", "https://")) or text.endswith(".json")


class RemoteStore:
    """A store on a SPARQL 1.1 server (see the module); `read_only` skips the update check."""

    path = None  # not on this machine: nothing local to flush, snapshot or measure

    def __init__(self, spec: str | Path, read_only: bool = False, timeout: float = 300.0, page_size: int = 100_000):
        self.spec, self.read_only, self.timeout, self.page_size = str(spec), read_only, timeout, page_size
        if self.spec.endswith(".json"):
            try:
                urls = json.loads(Path(self.spec).read_text(encoding="utf-8"))
                self.query_url, self.update_url, self.store_url = urls["query"], urls["update"], urls["store"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"{self.spec}: not an endpoints file ({{\"query\": URL, \"update\": URL, \"store\": URL}}): {exc}") from None
        else:
            base = self.spec.rstrip("/")
            self.query_url, self.update_url, self.store_url = base + "/query", base + "/update", base + "/store"
        self._check()
        if not read_only:
            self.recover()

    # ---- HTTP --------------------------------------------------------------------------------
    def _request(self, url: str, data: bytes | Any | None = None, method: str = "GET",
                 headers: dict[str, str] | None = None):
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace").strip()
            raise _HTTPFailure(exc.code, detail) from None
        except (urllib.error.URLError, OSError) as exc:
            raise StoreError(f"{self.spec}: cannot reach the SPARQL server: {getattr(exc, 'reason', exc)}") from None

    def _check(self) -> None:
        """Before any work: the query endpoint answers SPARQL and reads triple terms; the update
        endpoint accepts updates."""
        try:
            answer = self._query_response("ASK {}")
            kind = answer.headers.get("Content-Type", "")
            body = answer.read(10_000)
            if "sparql-results+json" not in kind or not isinstance(
                    _boolean(parse_query_results(body, QueryResultsFormat.JSON)), bool):
                raise StoreError(f"{self.query_url}: not a SPARQL endpoint (it answered {kind or 'no content type'})")
        except _HTTPFailure as exc:
            raise StoreError(f"{self.query_url}: not a SPARQL endpoint (HTTP {exc.code}: {exc.detail[:200]})") from None
        except SyntaxError as exc:
            raise StoreError(f"{self.query_url}: not a SPARQL endpoint (unreadable results: {exc})") from None
        try:
            self._query_response(_PROLOGUE + "ASK { ?fact rdf:reifies <<( ak:s ak:p ak:o )>> }").read()
        except _HTTPFailure as exc:
            raise StoreError(f"{self.query_url}: the server cannot read RDF 1.2 triple terms, which every fact's "
                             f"provenance uses (rdf:reifies <<( s p o )>>): HTTP {exc.code}: {exc.detail.splitlines()[0][:200]}; "
                             "nothing was written") from None
        if self.read_only:
            return
        try:
            self._update("")  # an empty update request: changes nothing, refused where updates are
        except _HTTPFailure as exc:
            raise StoreError(f"{self.update_url}: the server refuses updates (read-only?): HTTP {exc.code}: "
                             f"{exc.detail[:200]}; nothing was written") from None

    def _query_response(self, sparql: str):
        url = self.query_url + ("&" if "?" in self.query_url else "?") + "union-default-graph"
        return self._request(url, urllib.parse.urlencode({"query": sparql}).encode("ascii"), "POST",
                             {"Content-Type": "application/x-www-form-urlencoded",
                              "Accept": "application/sparql-results+json"})

    def _update(self, sparql: str) -> None:
        self._request(self.update_url, urllib.parse.urlencode({"update": sparql}).encode("ascii"), "POST",
                      {"Content-Type": "application/x-www-form-urlencoded"}).read()

    # ---- reading -------------------------------------------------------------------------------
    def run(self, sparql: str, **bind: Any) -> QuerySolutions | QueryBoolean:
        """Run SPARQL on the server with values bound (a trailing VALUES block of N-Triples terms),
        in one request."""
        return self._send(_PROLOGUE + _bound(sparql, bind))

    def _send(self, text: str) -> QuerySolutions | QueryBoolean:
        try:
            return _boolean(parse_query_results(self._query_response(text), QueryResultsFormat.JSON))
        except _HTTPFailure as exc:
            raise QueryError(f"query failed on {self.query_url}: HTTP {exc.code}: {exc.detail[:500]}") from None
        except SyntaxError as exc:
            raise QueryError(f"query failed on {self.query_url}: unreadable results: {exc}") from None

    def select(self, name: str, **bind: Any) -> list[dict[str, Any]]:
        return self._rows(queries.text(name), **bind)

    def ask(self, name: str, **bind: Any) -> bool:
        return bool(self.run(queries.text(name), **bind))

    def __len__(self) -> int:
        (row,) = self._rows("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(row["n"].value)

    def graphs(self) -> list[NamedNode]:
        # an empty GRAPH pattern lists the named graphs without reading their quads (every open
        # for writing asks, in recover)
        return sorted((r["g"] for r in self._rows("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")), key=lambda g: g.value)

    def has_graph(self, graph: NamedNode) -> bool:
        return bool(self.run("ASK { GRAPH ?g { ?s ?p ?o } }", g=graph))

    def is_committed(self, activity: Activity) -> bool:
        return bool(self.run(f"ASK {{ GRAPH {PROVENANCE_GRAPH} {{ ?a ak:graph ?g }} }}", a=activity.iri, g=activity.graph))

    def quads_for_pattern(self, s=None, p=None, o=None, g=None) -> Iterator[Quad]:
        """Quads matching a pattern (None: any), from the named graphs."""
        bind = {k: v for k, v in (("s", s), ("p", p), ("o", o), ("g", g)) if v is not None}
        for r in self._rows("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", **bind):
            yield Quad(r["s"], r["p"], r["o"], r["g"])

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        """A graph's quads, streamed from a Graph Store GET in the server's order (every graph's
        in turn when `graph` is None)."""
        for g in [graph] if graph is not None else self.graphs():
            url = self.store_url + "?" + ("default" if isinstance(g, DefaultGraph) else urllib.parse.urlencode({"graph": g.value}))
            try:
                answer = self._request(url, headers={"Accept": "application/n-triples"})
            except _HTTPFailure as exc:
                if exc.code == 404:
                    continue
                raise StoreError(f"{url}: HTTP {exc.code}: {exc.detail[:200]}") from None
            for t in parse(answer, format=RdfFormat.N_TRIPLES):
                yield Quad(t.subject, t.predicate, t.object, g)

    def _rows(self, sparql: str, **bind: Any) -> list[dict[str, Any]]:
        """A SELECT's rows, read in pages of `page_size` in a stable order (see the module)."""
        from .store import rows

        query = _bound(sparql, bind)
        variables = _projected(_PROLOGUE + query)
        if not variables:  # nothing to order by (SELECT of no variable): one request
            return rows(self._send(_PROLOGUE + query))
        order = " ".join(f"?{v}" for v in variables)
        out: list[dict[str, Any]] = []
        while True:
            page = rows(self._send(f"{_PROLOGUE}SELECT * WHERE {{\n{{ {query}\n}}\n}} ORDER BY {order} "
                                   f"LIMIT {self.page_size} OFFSET {len(out)}"))
            out.extend(page)
            if len(page) < self.page_size:
                return out

    # ---- writing -------------------------------------------------------------------------------
    def write(self, activity: Activity, facts: Iterable[Fact]) -> int:
        """Assert `facts` into the activity's graph, all or nothing (see the module); quads written.
        Returns 0 without touching the server when the activity is already committed."""
        if self.read_only:
            raise StoreError(f"{self.spec}: the store is open read-only")
        if self.is_committed(activity):
            return 0
        n = 0
        with tempfile.TemporaryFile() as body:
            def triples():
                nonlocal n
                for q in activity.fact_quads(facts):
                    n += 1
                    yield q.triple
            serialize(triples(), body, RdfFormat.N_TRIPLES)
            size = body.tell()
            body.seek(0)
            url = self.store_url + "?" + urllib.parse.urlencode({"graph": activity.graph.value})
            try:  # PUT replaces what an interrupted write of this activity left
                if n:
                    self._request(url, body, "PUT", {"Content-Type": "application/n-triples",
                                                     "Content-Length": str(size)}).read()
                else:  # an empty PUT would leave an empty graph; the embedded store holds none
                    self._update(f"DROP SILENT GRAPH {activity.graph}")
                marker = activity.provenance_quads()
                lines = serialize([q.triple for q in marker], format=RdfFormat.N_TRIPLES).decode("utf-8")
                self._update(f"INSERT DATA {{ GRAPH {PROVENANCE_GRAPH} {{\n{lines}}} }}")  # the commit
            except _HTTPFailure as exc:
                self._drop(activity.graph)
                raise StoreError(f"writing {activity.graph.value} to {self.spec} failed, nothing was written: "
                                 f"HTTP {exc.code}: {exc.detail[:300]}") from None
            except BaseException:
                if not self.is_committed(activity):
                    self._drop(activity.graph)
                raise
        return n + len(marker)

    def _drop(self, graph: NamedNode) -> None:
        try:
            self._update(f"DROP SILENT GRAPH {graph}")
        except (StoreError, _HTTPFailure):
            pass  # the next open's recover() drops it

    def recover(self) -> list[NamedNode]:
        """Drop graphs of ours (`akid:graph/…`) that no committed activity claims: what a killed
        write left."""
        claimed = {r["g"] for r in self._rows(f"SELECT ?g WHERE {{ GRAPH {PROVENANCE_GRAPH} {{ ?a ak:graph ?g }} }}")}
        orphans = [g for g in self.graphs() if g.value.startswith(OUR_GRAPHS) and g != PROVENANCE_GRAPH and g not in claimed]
        for g in orphans:
            self._update(f"DROP SILENT GRAPH {g}")
        return orphans

    def close(self) -> None:
        """Nothing to flush: every write is committed on the server when it returns."""


def _bound(sparql: str, bind: dict[str, Any]) -> str:
    """`sparql` with `bind` as a trailing VALUES block of N-Triples terms (never formatted from
    strings: each value is a pyoxigraph term)."""
    if not bind:
        return sparql
    names = " ".join(f"?{k}" for k in bind)
    return sparql + f"\nVALUES ({names}) {{ ({' '.join(str(v) for v in bind.values())}) }}\n"


@lru_cache(maxsize=256)
def _projected(text: str) -> tuple[str, ...]:
    """The variables a SELECT projects, from running it on an empty in-memory store (no answer
    to wait for); raises QueryError for a query that is not a SELECT or does not parse."""
    try:
        result = Store().query(text)
    except SyntaxError as exc:
        raise QueryError(f"not a SPARQL query: {exc}") from None
    if not isinstance(result, QuerySolutions):
        raise QueryError("expected a SELECT query")
    return tuple(v.value for v in result.variables)


def _boolean(result: QuerySolutions | QueryBoolean) -> QuerySolutions | QueryBoolean | bool:
    """An ASK answer as a bool, whether it came as a boolean or as a one-cell table
    (`__ASK_RETVAL`: Virtuoso); any other result as it came."""
    if isinstance(result, QueryBoolean):
        return bool(result)
    if [v.value for v in result.variables] == ["__ASK_RETVAL"]:
        return any(str(row[0].value) not in ("0", "false") for row in result)
    return result


class _HTTPFailure(Exception):
    def __init__(self, code: int, detail: str):
        super().__init__(f"HTTP {code}: {detail}")
        self.code, self.detail = code, detail
