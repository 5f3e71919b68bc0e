"""Ingest throughput: autoknow's ingest (parse + provenance + one transaction) against
pyoxigraph's `Store.bulk_load` of the very same quads as N-Quads, in the same run.

    python benchmarks/ingest.py [FILE ...]       # default: the demo's Open Food Facts categories

Each side runs in its own child process on a fresh on-disk store, so peak RSS is its own.
Prints quads/s, seconds and peak RSS per side and the ratio autoknow / bulk_load (goal ≥ 0.5).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "demo/data/open/openfoodfacts_categories/categories.full.jsonl.gz"]
SHARED = ROOT.parent / "shared/data"


def child_autoknow(src: str, store: str, nquads_out: str) -> dict:
    from pyoxigraph import RdfFormat

    from autoknow_rdf.ingest import ingest_file
    from autoknow_rdf.store import KnowledgeStore

    ks = KnowledgeStore(store)
    t = time.perf_counter()
    result = ingest_file(ks, Path(src))
    seconds = time.perf_counter() - t
    ks.store.dump(nquads_out, RdfFormat.N_QUADS)  # the same quads, for the baseline (not timed)
    return {"quads": result.quads, "records": result.records, "seconds": seconds}


def child_bulk(nquads: str, store: str) -> dict:
    from pyoxigraph import RdfFormat, Store

    s = Store(store)
    t = time.perf_counter()
    s.bulk_load(path=nquads, format=RdfFormat.N_QUADS)
    s.flush()
    seconds = time.perf_counter() - t
    return {"quads": len(s), "seconds": seconds}


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(src: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        nq = f"{tmp}/same.nq"
        ours = run_child("autoknow", str(src), f"{tmp}/a", nq)
        bulk = run_child("bulk", nq, f"{tmp}/b")
    assert ours["quads"] == bulk["quads"], (ours, bulk)
    ratio = (ours["quads"] / ours["seconds"]) / (bulk["quads"] / bulk["seconds"])
    return {"file": src.name, "quads": ours["quads"], "records": ours["records"],
            "autoknow_quads_per_s": round(ours["quads"] / ours["seconds"]), "autoknow_s": round(ours["seconds"], 2),
            "autoknow_peak_rss_mb": ours["rss_mb"], "bulk_quads_per_s": round(bulk["quads"] / bulk["seconds"]),
            "bulk_s": round(bulk["seconds"], 2), "bulk_peak_rss_mb": bulk["rss_mb"], "ratio": round(ratio, 3)}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--child":
        kind, *args = argv[1:]
        result = child_autoknow(*args) if kind == "autoknow" else child_bulk(*args)
        result["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result))
        return
    files = [Path(a) for a in argv] or DEFAULT
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ingest: autoknow vs Store.bulk_load of the same quads")
    rows = [measure(f) for f in files]
    for col in rows[0]:
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    Console().print(table)
    print(json.dumps(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
