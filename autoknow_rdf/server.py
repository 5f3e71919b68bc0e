"""`autoknow serve`: the real SPARQL 1.1 HTTP server (`oxigraph serve` from the oxigraph package).

Plain queries see the union of the graphs (every fact sits in the named graph of its source or
run); `GRAPH` still addresses one. Quarantined facts stay out of that view, as they do in
exports: the server then answers from a snapshot of the store without them (a RocksDB
checkpoint beside the store, hard links, removed when the server stops).
"""

from __future__ import annotations

import ipaddress
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .errors import AutoknowError, StoreError
from .vocab import PREFIXES

__all__ = ["server_command", "start_server", "start_local_server", "served_store", "serve", "prefix_lines"]


def _oxigraph() -> str:
    """The oxigraph binary installed beside this Python (the `oxigraph` PyPI package)."""
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise AutoknowError("the `oxigraph` command is missing: pip install oxigraph==0.5.13")
    return found


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def prefix_lines() -> str:
    """The PREFIX lines of the project's prefixes: the endpoint predefines none (plain SPARQL).

    >>> prefix_lines().splitlines()[0].startswith("PREFIX ")
    True
    """
    return "\n".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items())


def server_command(store: Path, host: str = "127.0.0.1", port: int = 7878, writable: bool = False,
                   allow_remote: bool = False) -> list[str]:
    """The command line that serves `store`: read-only, on loopback, the union of the graphs as
    the default graph, unless asked otherwise.

    >>> server_command(Path("kg"), port=9000, writable=True)[-6:]
    ['serve', '--location', 'kg', '--bind', '127.0.0.1:9000', '--union-default-graph']
    """
    if not _is_loopback(host) and not allow_remote:
        raise AutoknowError(f"refusing to bind {host}: not a loopback address (pass --allow-remote to expose the store)")
    if not (store / "CURRENT").exists() and not writable:
        raise StoreError(f"{store}: no store here (run `autoknow init` first)")
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [_oxigraph(), "serve" if writable else "serve-read-only", "--location", str(store), "--bind", bind,
            "--union-default-graph"]


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when its parent dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(store: Path, host: str = "127.0.0.1", port: int = 7878, writable: bool = False,
                 allow_remote: bool = False) -> subprocess.Popen:
    """Start the server in a child process that dies with this one; the caller waits on or
    terminates it."""
    return subprocess.Popen(server_command(store, host, port, writable, allow_remote), preexec_fn=_die_with_parent)


def start_local_server(store: Path, writable: bool = False, wait: float = 20.0) -> tuple[subprocess.Popen, str]:
    """`start_server` on a free loopback port, once it answers SPARQL: (process, base URL). For
    tests and benchmarks that need a real server; the caller terminates it."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_server(store, port=port, writable=writable)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "query?query=ASK%7B%7D", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AutoknowError(f"oxigraph serve on {store} did not answer within {wait:.0f} s")


@contextmanager
def served_store(store: Path, include_quarantined: bool = False, writable: bool = False) -> Iterator[tuple[Path, int]]:
    """The folder to serve and how many quarantined facts it leaves out: the store itself when
    it holds none (or they are wanted), else a snapshot of it without them."""
    from pyoxigraph import Store

    from .quarantine import quarantined_triples
    from .store import KnowledgeStore

    if include_quarantined or not (store / "CURRENT").exists():
        yield store, 0
        return
    ks = KnowledgeStore(store, read_only=True)
    held = quarantined_triples(ks)
    if not held:
        del ks
        yield store, 0
        return
    if writable:
        raise AutoknowError(f"{store} holds {len(held):,} quarantined facts and --writable serves the store itself: "
                            "pass --include-quarantined to serve them too")
    folder = Path(tempfile.mkdtemp(prefix=f".{store.name}-view-", dir=store.resolve().parent))
    try:
        ks.store.backup(str(folder / "store"))  # hard links: cheap on the same file system
        del ks
        view = Store(str(folder / "store"))
        for t in held:
            for q in list(view.quads_for_pattern(t.subject, t.predicate, t.object)):
                view.remove(q)
        view.flush()
        del view
        yield folder / "store", len(held)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def serve(store: Path, host: str = "127.0.0.1", port: int = 7878, writable: bool = False, allow_remote: bool = False,
          include_quarantined: bool = False, announce: Callable[[str], None] = print) -> int:
    """Serve until the server exits or this process gets SIGINT/SIGTERM (then the server is
    stopped first); returns the server's exit status."""
    with served_store(store, include_quarantined, writable) as (path, hidden):
        proc = start_server(path, host, port, writable, allow_remote)
        stopped = []

        def stop(*_) -> None:
            stopped.append(True)
            proc.terminate()

        # SIGINT too, explicitly: started in the background it may arrive ignored (Python then
        # never raises KeyboardInterrupt), and Ctrl-C must stop the server all the same
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            view = f"{hidden:,} quarantined facts left out (--include-quarantined serves them)" if hidden else "every fact"
            announce(f"SPARQL endpoint: http://{host}:{port}/query ({'read-write' if writable else 'read-only'}; "
                     f"default graph: the union of the graphs, {view}); Ctrl-C stops.\n"
                     f"No prefixes are predefined; these are the project's:\n{prefix_lines()}")
            code = proc.wait()
            return 0 if stopped else code
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
