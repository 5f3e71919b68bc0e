"""`autoknow serve` answers SPARQL over HTTP from another process; read-only refuses updates."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from autoknow_rdf.ingest import ingest_file
from autoknow_rdf.ontology import load_ontology
from autoknow_rdf.server import server_command
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


@pytest.fixture
def served(tmp_path, cut_files):
    path = tmp_path / "kg"
    ks = KnowledgeStore(path)
    load_ontology(ks)
    ingest_file(ks, cut_files[0])
    expected = len(ks)
    ks.close()
    del ks
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "autoknow_rdf.cli", "serve", "--store", str(path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", proc)
        yield base, expected, path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_serve_answers_sparql_over_http_from_another_process(served):
    base, expected, _ = served
    q = urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"})
    req = urllib.request.Request(f"{base}/query?{q}", headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = json.load(resp)
    assert int(body["results"]["bindings"][0]["n"]["value"]) == expected


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
    assert server_command(tmp_path / "kg")[-1].startswith("127.0.0.1:")
    assert "serve-read-only" in server_command(tmp_path / "kg")
    from autoknow_rdf.errors import AutoknowError

    with pytest.raises(AutoknowError, match="loopback"):
        server_command(tmp_path / "kg", host="0.0.0.0")
    assert server_command(tmp_path / "kg", host="0.0.0.0", allow_remote=True)[-1] == "0.0.0.0:7878"
