"""`autoknow serve` answers SPARQL over HTTP from another process: plain queries over the union of
the graphs; read-only refuses updates; the server process dies with `autoknow serve`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from autoknow_rdf.ingest import ingest_file
from autoknow_rdf.ontology import load_ontology
from autoknow_rdf.server import prefix_lines, server_command
from autoknow_rdf.store import KnowledgeStore

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not come up")


@contextmanager
def serving(path: Path, *options: str):
    """`autoknow serve` on `path` in a child process: yields (base URL, the process)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "autoknow_rdf.cli", "serve", "--store", str(path), "--port", str(port),
                             *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", proc)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def sparql(base: str, query: str) -> dict:
    q = urllib.parse.urlencode({"query": query})
    req = urllib.request.Request(f"{base}/query?{q}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


@pytest.fixture
def kg(tmp_path, cut_files) -> tuple[Path, int]:
    """An on-disk store with the ontology and one real file; its quad count."""
    path = tmp_path / "kg"
    ks = KnowledgeStore(path)
    load_ontology(ks)
    ingest_file(ks, cut_files[0])
    expected = len(ks)
    ks.close()
    del ks
    return path, expected


@pytest.fixture
def served(kg):
    path, expected = kg
    with serving(path) as (base, _):
        yield base, expected, path


def test_serve_answers_sparql_over_http_from_another_process(served):
    base, expected, _ = served
    q = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"})
    req = urllib.request.Request(f"{base}/query?{q}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = json.load(resp)
    assert int(body["results"]["bindings"][0]["n"]["value"]) == expected


def test_a_plain_query_without_graph_sees_the_union_of_the_graphs(served):
    """What a new user types first (with the PREFIX lines `autoknow serve` prints) returns rows."""
    base, _, _ = served
    body = sparql(base, prefix_lines() + "\nSELECT ?t ?l WHERE { ?t a owl:Class ; rdfs:label ?l } LIMIT 5")
    assert len(body["results"]["bindings"]) == 5
    one = sparql(base, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/autoknow/id/graph/provenance> { ?s ?p ?o } }")
    assert 0 < int(one["results"]["bindings"][0]["n"]["value"])


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def gone(pid: int, seconds: float = 10) -> bool:
    """True once `pid` has exited (reaped, or a zombie)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z"):
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_serve_stops_its_server_process(kg, sig):
    """SIGTERM and SIGINT stop the server first; a SIGKILLed parent takes it along (PDEATHSIG)."""
    path, _ = kg
    with serving(path) as (_, proc):
        (server,) = children(proc.pid)
        os.kill(proc.pid, sig)
        proc.wait(timeout=15)
        assert gone(server), f"the oxigraph server {server} outlived `autoknow serve` ({sig.name})"


def test_read_only_server_refuses_updates(served):
    base, expected, _ = served
    data = urllib.parse.urlencode({"update": "INSERT DATA { <http://ex.org/a> <http://ex.org/b> <http://ex.org/c> }"}).encode()
    req = urllib.request.Request(f"{base}/update", data=data, headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert 400 <= err.value.code < 500
    q = urllib.parse.urlencode({"query": "ASK { <http://ex.org/a> ?p ?o }"})
    req = urllib.request.Request(f"{base}/query?{q}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert json.load(resp)["boolean"] is False


def test_python_may_read_the_served_store(served):
    _, expected, path = served
    assert len(KnowledgeStore(path, read_only=True)) == expected


def test_server_binds_loopback_by_default_and_refuses_public_addresses(tmp_path):
    (tmp_path / "kg").mkdir()
    (tmp_path / "kg" / "CURRENT").write_text("", encoding="utf-8")
    def bind(cmd: list[str]) -> str:
        return cmd[cmd.index("--bind") + 1]

    assert bind(server_command(tmp_path / "kg")).startswith("127.0.0.1:")
    assert "--union-default-graph" in server_command(tmp_path / "kg")
    assert "serve-read-only" in server_command(tmp_path / "kg")
    from autoknow_rdf.errors import AutoknowError

    with pytest.raises(AutoknowError, match="loopback"):
        server_command(tmp_path / "kg", host="0.0.0.0")
    assert bind(server_command(tmp_path / "kg", host="0.0.0.0", allow_remote=True)) == "0.0.0.0:7878"
