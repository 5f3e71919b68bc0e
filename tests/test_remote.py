"""A store on a real SPARQL 1.1 server (`oxigraph serve`, started and stopped here) answers and
grows as the embedded store does: same quads from ingest, same named-query answers, same facts
from a stage run; writes are all or nothing; bad URLs, read-only servers and a server without
RDF 1.2 triple terms (Virtuoso 7, where `.ci/run` could install it) fail before work."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest
from pyoxigraph import Literal, NamedNode

from autoknow_rdf import queries
from autoknow_rdf.errors import StoreError
from autoknow_rdf.ingest import ingest_file
from autoknow_rdf.ontology import load_ontology
from autoknow_rdf.provenance import Fact, run_activity
from autoknow_rdf.remote import RemoteStore
from autoknow_rdf.server import start_local_server
from autoknow_rdf.store import KnowledgeStore, open_store, rows

from .conftest import fill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    proc, url = start_local_server(tmp_path / "served", writable=True)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def twins(tmp_path_factory, cut_files):
    """The cut ingested into the embedded store and into a store on a real server, shared by the
    read tests (tests/test_engine.py runs `enrich` on a server against the embedded store)."""
    proc, url = start_local_server(tmp_path_factory.mktemp("served") / "store", writable=True)
    yield fill(KnowledgeStore(), cut_files), fill(open_store(url), cut_files), url
    proc.terminate()
    proc.wait(10)


def test_ingest_writes_the_same_quads_as_the_embedded_store(twins, cut_files):
    local, remote, _ = twins
    assert isinstance(remote, RemoteStore)
    assert len(remote) == len(local) > 10_000
    assert {g.value for g in remote.graphs()} == {g.value for g in local.graphs()}
    graph = next(g for g in local.graphs() if "/graph/source/" in g.value)
    assert {str(q) for q in remote.quads(graph)} == {str(q) for q in local.quads(graph)}
    assert remote.ask("find_facts_without_provenance") is False
    # a second ingest of the same file is a no-op there too
    assert ingest_file(remote, cut_files[0]).quads == 0 and len(remote) == len(local)


def test_named_queries_answer_as_on_the_embedded_store(twins):
    """Every named query, unchanged; bound ones with a real IRI (sent as a VALUES block)."""
    local, remote, _ = twins
    product = rows(local.run("SELECT ?x WHERE { ?x a ak:Product ; schema:name ?t } ORDER BY ?x LIMIT 1"))[0]["x"]
    typed = rows(local.run("SELECT ?x WHERE { ?p a ak:Product ; a ?x . ?x a owl:Class } ORDER BY ?x LIMIT 1"))[0]["x"]
    activity = local.select("list_activities")[0]["activity"]
    values = {"product": product, "type": typed, "activity": activity}
    def term(v):  # the two stores ingested at different times: activity times differ, nothing else
        return "a time" if isinstance(v, Literal) and v.datatype.value.endswith("#dateTime") else str(v)

    as_set = lambda rs: sorted(tuple(sorted((k, term(v)) for k, v in r.items())) for r in rs)  # noqa: E731
    compared = 0
    for name in queries.names():
        need = re.findall(r"Binds \(required\): \?(\w+)", queries.header(name))
        if not set(need) <= set(values):
            continue  # a binding this test has no value for
        bind = {v: values[v] for v in need}
        text = queries.text(name)
        if text.lstrip().upper().startswith("ASK") or "\nASK" in text:
            assert remote.ask(name, **bind) == local.ask(name, **bind), name
        else:
            assert as_set(remote.select(name, **bind)) == as_set(local.select(name, **bind)), name
        compared += 1
    assert compared >= 35


def test_select_answers_are_read_in_stable_pages(twins, monkeypatch):
    """A small page: the same rows as the embedded store and as one read, none repeated or lost,
    in as many requests as pages."""
    local, remote, _ = twins
    whole = remote.select("list_types")
    monkeypatch.setattr(remote, "page_size", 7)
    sent = []
    send = remote._send
    monkeypatch.setattr(remote, "_send", lambda text: sent.append(text) or send(text))
    paged = remote.select("list_types")
    key = lambda rs: sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in rs)  # noqa: E731
    assert key(paged) == key(whole) == key(local.select("list_types"))
    assert len(paged) > 20 and len(sent) == len(paged) // 7 + 1
    assert all("LIMIT 7 OFFSET" in text for text in sent)


def test_an_interrupted_write_leaves_nothing_and_the_rerun_completes(server):
    store = open_store(server)
    load_ontology(store)
    before = len(store)
    activity = run_activity("relations", "interrupted", "test", "0", "0", "0")
    facts = [Fact(NamedNode(f"http://example.org/s{i}"), NamedNode("http://example.org/p"), Literal(i)) for i in range(50)]

    def dying():
        yield from facts[:20]
        raise KeyboardInterrupt  # killed mid-stream

    with pytest.raises(KeyboardInterrupt):
        store.write(activity, dying())
    assert len(store) == before and not store.is_committed(activity)
    assert activity.graph not in store.graphs()
    assert store.write(activity, facts) > 100 and store.is_committed(activity)
    assert store.write(activity, facts) == 0


def test_a_graph_left_by_a_killed_process_is_dropped_when_the_store_opens(server):
    """Killed between its PUT and its commit marker: a graph no activity claims."""
    from autoknow_rdf.vocab import graph_iri

    store = open_store(server)
    load_ontology(store)
    orphan = graph_iri("run", "relations", "killed")
    store._update(f"INSERT DATA {{ GRAPH {orphan} {{ <http://example.org/s> <http://example.org/p> 1 }} }}")
    assert orphan in store.graphs() and store.select("find_incomplete_graphs")
    assert orphan not in open_store(server).graphs()
    assert open_store(server, read_only=True).select("find_incomplete_graphs") == []


def test_bad_urls_and_read_only_servers_fail_before_any_work(tmp_path):
    with pytest.raises(StoreError, match="cannot reach"):
        open_store(f"http://127.0.0.1:{_free_port()}/")
    html = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HTMLPage)
    threading.Thread(target=html.serve_forever, daemon=True).start()
    try:
        with pytest.raises(StoreError, match="not a SPARQL endpoint"):
            open_store(f"http://127.0.0.1:{html.server_address[1]}/")
    finally:
        html.shutdown()
    KnowledgeStore(tmp_path / "ro").close()
    proc, url = start_local_server(tmp_path / "ro", writable=False)
    try:
        with pytest.raises(StoreError, match="refuses updates"):
            open_store(url)
        assert open_store(url, read_only=True).ask("find_facts_without_provenance") is False
    finally:
        proc.terminate()
        proc.wait(10)
    (tmp_path / "endpoints.json").write_text('{"query": "x"}', encoding="utf-8")
    with pytest.raises(StoreError, match="not an endpoints file"):
        open_store(tmp_path / "endpoints.json")


class _HTMLPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self._page()

    def do_POST(self):  # noqa: N802
        self._page()

    def _page(self):
        body = b"<html><body>not SPARQL</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_cli_takes_a_server_url_as_its_store(server, cut_files):
    from click.testing import CliRunner

    from autoknow_rdf.cli import cli

    taxonomy = next(p for p in cut_files if p.name == "categories.tsv")
    out = CliRunner().invoke(cli, ["ingest", "--store", server, str(taxonomy)])
    assert out.exit_code == 0, (out.output, out.exception)
    out = CliRunner().invoke(cli, ["query", "--store", server, "list_types", "--output", "csv"])
    assert out.exit_code == 0 and out.output.count("\n") > 100, out.output[-500:]
    out = CliRunner().invoke(cli, ["stats", "--store", server])
    assert out.exit_code == 0 and "types" in out.output
    out = CliRunner().invoke(cli, ["serve", "--store", server])
    assert out.exit_code != 0 and "SPARQL server already" in out.output


VIRTUOSO_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = {sql}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = {http}
ServerThreads = 4
[SPARQL]
ResultSetMaxRows = 100000
"""


@pytest.fixture
def virtuoso(tmp_path):
    """Virtuoso Open Source 7 (Debian's `virtuoso-opensource-7`, which `.ci/run` installs where apt
    can), started in a temporary folder on free ports and stopped after the test."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        if os.environ.get("AUTOKNOW_REQUIRE_VIRTUOSO"):
            pytest.fail("AUTOKNOW_REQUIRE_VIRTUOSO is set but virtuoso-t is not installed")
        pytest.skip("virtuoso-opensource-7 is not installed here (.ci/run installs it where apt can)")
    port = _free_port()
    (tmp_path / "virtuoso.ini").write_text(VIRTUOSO_INI.format(d=tmp_path, sql=_free_port(), http=port), encoding="utf-8")
    log = open(tmp_path / "out.log", "wb")
    proc = subprocess.Popen([binary, "+foreground", "+configfile", str(tmp_path / "virtuoso.ini")], cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "out.log").read_text(errors="replace")[-2000:]
                time.sleep(0.5)
        else:
            pytest.fail("Virtuoso did not answer within 60 s")
        endpoints = tmp_path / "endpoints.json"
        endpoints.write_text(json.dumps({"query": url, "update": url, "store": url + "-graph-crud"}), encoding="utf-8")
        yield endpoints, url
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_virtuoso_is_refused_before_any_work_for_it_cannot_read_triple_terms(virtuoso):
    endpoints, url = virtuoso
    with pytest.raises(StoreError, match="cannot read RDF 1.2 triple terms") as refused:
        open_store(endpoints)
    assert "SP030" in str(refused.value) and "nothing was written" in str(refused.value)
    ours = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), 'https://w3id.org/autoknow/')) } LIMIT 1"
    answer = json.loads(urllib.request.urlopen(url + "?" + urllib.parse.urlencode(
        {"query": ours, "format": "application/sparql-results+json"}), timeout=30).read())
    assert answer["results"]["bindings"] == []  # the server answers, and holds no graph of ours
