"""Export speed: the streamed JSON-LD writer against the Turtle export of the same store, in the
same run (and, with --rdflib, against rdflib's JSON-LD serializer, the writer it replaced).

    python benchmarks/export.py [--store DIR] [--files FILE ...] [--rdflib]

Without --store, a store is built from the demo cut's files (ingest, with every fact's reifier).
Each export runs in its own child process, so peak RSS is its own. Prints seconds, size and peak
RSS per format and the ratio JSON-LD / Turtle (aim: at most 2).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "autoknow_rdf/resources/demo_data/open"


def child(store: str, fmt: str, out: str) -> dict:
    from autoknow_rdf.store import KnowledgeStore

    ks = KnowledgeStore(store, read_only=True)
    t = time.perf_counter()
    if fmt == "rdflib-jsonld":
        n = _rdflib_jsonld(ks, Path(out))
    else:
        from autoknow_rdf.export import export

        n = export(ks, Path(out), fmt)
    return {"statements": n, "seconds": time.perf_counter() - t, "mb": Path(out).stat().st_size / 1e6}


def _rdflib_jsonld(ks, out: Path) -> int:
    """The writer before the streamed one: N-Quads into an rdflib Dataset, compacted by rdflib."""
    import rdflib
    from pyoxigraph import RdfFormat, serialize

    from autoknow_rdf.export import to_rdf11
    from autoknow_rdf.jsonld import CONTEXT_FILE

    quads = list(to_rdf11(ks.quads()))
    ds = rdflib.Dataset()
    ds.parse(data=serialize(quads, format=RdfFormat.N_QUADS).decode("utf-8"), format="nquads")
    context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
    out.write_text(ds.serialize(format="json-ld", context=context, auto_compact=True), encoding="utf-8")
    return len(quads)


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def build(store: Path, files: list[Path]) -> None:
    from autoknow_rdf.ingest import ingest_many, plan
    from autoknow_rdf.ontology import load_ontology
    from autoknow_rdf.store import KnowledgeStore

    ks = KnowledgeStore(store)
    load_ontology(ks)
    ingest_many(ks, plan(files, None)[0], None)
    ks.close()


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--child":
        result = child(*argv[1:])
        result["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=None)
    ap.add_argument("--files", type=Path, nargs="*", default=[DEMO])
    ap.add_argument("--rdflib", action="store_true", help="also time rdflib's JSON-LD serializer (slow)")
    args = ap.parse_args(argv)
    from rich.console import Console
    from rich.table import Table

    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "kg"
        if args.store is None:
            build(store, args.files)
        formats = ["turtle", "nquads", "jsonld"] + (["rdflib-jsonld"] if args.rdflib else [])
        results = {fmt: run_child(str(store), fmt, f"{tmp}/out.{fmt}") for fmt in formats}
    table = Table(title=f"export of {store if args.store else 'a store of ' + ', '.join(p.name for p in args.files)}")
    for col in ("format", "statements", "seconds", "MB", "peak RSS MB", "× Turtle's time"):
        table.add_column(col, justify="right")
    turtle = results["turtle"]["seconds"]
    for fmt, r in results.items():
        table.add_row(fmt, f"{r['statements']:,}", f"{r['seconds']:.1f}", f"{r['mb']:.0f}", f"{r['rss_mb']:.0f}",
                      f"{r['seconds'] / turtle:.2f}")
    Console().print(table)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
