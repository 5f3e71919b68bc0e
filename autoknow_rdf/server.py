"""`autoknow serve`: the real SPARQL 1.1 HTTP server (`oxigraph serve` from the oxigraph package)."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import AutoknowError, StoreError

__all__ = ["server_command", "start_server"]


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


def server_command(store: Path, host: str = "127.0.0.1", port: int = 7878, writable: bool = False,
                   allow_remote: bool = False) -> list[str]:
    """The command line that serves `store`: read-only and on loopback unless asked otherwise.

    >>> server_command(Path("kg"), port=9000, writable=True)[-5:]
    ['serve', '--location', 'kg', '--bind', '127.0.0.1:9000']
    """
    if not _is_loopback(host) and not allow_remote:
        raise AutoknowError(f"refusing to bind {host}: not a loopback address (pass --allow-remote to expose the store)")
    if not (store / "CURRENT").exists() and not writable:
        raise StoreError(f"{store}: no store here (run `autoknow init` first)")
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [_oxigraph(), "serve" if writable else "serve-read-only", "--location", str(store), "--bind", bind]


def start_server(store: Path, host: str = "127.0.0.1", port: int = 7878, writable: bool = False,
                 allow_remote: bool = False) -> subprocess.Popen:
    """Start the server in a child process; the caller waits on or terminates it."""
    return subprocess.Popen(server_command(store, host, port, writable, allow_remote))
