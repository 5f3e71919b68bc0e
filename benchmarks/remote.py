"""A store on a SPARQL 1.1 server against the embedded one, in the same run: write and read rates.

    python benchmarks/remote.py [FILE ...] [--json remote.json]   # default: the demo's OFF categories

A writable `oxigraph serve` is started on a fresh on-disk store on this machine (loopback HTTP)
and stopped at the end; the embedded side is a fresh on-disk KnowledgeStore. Each side ingests
the same files (autoknow's ingest: parse, provenance, one commit), then reads them back three
ways: every quad of the ingested graphs (the Graph Store GET against the embedded index scan),
a named list query (list_types) and a bound one (list_facts_by_source on the first ingest).
Prints quads/s and rows/s per side and the ratio remote / embedded.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "demo/data/open/openfoodfacts_categories/categories.full.jsonl.gz"]


def measure(store, files: list[Path]) -> dict:
    """Ingest `files`, then read them back; seconds and counts of each step."""
    from autoknow_rdf.ingest import ingest_file
    from autoknow_rdf.ontology import load_ontology

    load_ontology(store)
    t = time.perf_counter()
    written = sum(ingest_file(store, f).quads for f in files)
    out = {"written quads": written, "write seconds": time.perf_counter() - t}
    graphs = [g for g in store.graphs() if "/graph/source/" in g.value]
    t = time.perf_counter()
    out["read quads"] = sum(1 for g in graphs for _ in store.quads(g))
    out["read seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    out["list_types rows"] = len(store.select("list_types"))
    out["list_types seconds"] = time.perf_counter() - t
    activity = store.select("list_activities")[0]["activity"]
    t = time.perf_counter()
    out["list_facts_by_source rows"] = len(store.select("list_facts_by_source", activity=activity))
    out["list_facts_by_source seconds"] = time.perf_counter() - t
    return out


def main() -> None:
    from autoknow_rdf.server import start_local_server
    from autoknow_rdf.store import KnowledgeStore, open_store

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        embedded = KnowledgeStore(Path(tmp) / "embedded")
        local = measure(embedded, args.files)
        embedded.close()
        proc, url = start_local_server(Path(tmp) / "served", writable=True)
        try:
            remote = measure(open_store(url), args.files)
        finally:
            proc.terminate()
            proc.wait(10)
    assert local["written quads"] == remote["written quads"] and local["read quads"] == remote["read quads"]
    rows = []
    for what, count, seconds in [("write (ingest)", "written quads", "write seconds"), ("read every quad", "read quads", "read seconds"),
                                 ("list_types", "list_types rows", "list_types seconds"),
                                 ("list_facts_by_source (bound)", "list_facts_by_source rows", "list_facts_by_source seconds")]:
        e, r = local[count] / local[seconds], remote[count] / remote[seconds]
        rows.append({"step": what, "items": local[count], "embedded per s": round(e), "remote per s": round(r),
                     "remote / embedded": round(r / e, 3)})
        print(f"{what:30s} {local[count]:>9,} items  embedded {e:>10,.0f}/s  remote {r:>10,.0f}/s  ratio {r / e:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"files": [str(f) for f in args.files], "rows": rows}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
