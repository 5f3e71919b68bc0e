"""SHACL validation throughput: autoknow's slice validation against pyshacl on the same store
copied whole into rdflib, with the same generated shapes, in the same run.

    autoknow demo                      # once: builds demo-store (relations stage included)
    python benchmarks/validation.py [--store demo-store]

Prints focus nodes (products of shaped types) per second for each side, seconds (the whole
copy included for the baseline: that is what validating "the store" with pyshacl costs), the
number of results each found (they must agree) and the ratio autoknow / whole-copy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=Path("demo-store"))
    args = ap.parse_args()
    if not args.store.is_dir():
        raise SystemExit(f"{args.store}: no store; run `autoknow demo` first")

    import pyshacl
    import rdflib
    from pyoxigraph import Triple
    from rich.console import Console
    from rich.table import Table

    from autoknow_rdf.shapes import _rdflib, data_slice, focus_nodes, generate_shapes, shapes_graph
    from autoknow_rdf.store import KnowledgeStore

    store = KnowledgeStore(args.store, read_only=True)
    graphs = [r["graph"] for r in store.select("list_activities") if "/run/shapes/" in r["graph"].value]
    if graphs:
        shapes = shapes_graph(store, graphs[-1])
    else:  # shapes not stored yet: generate them (not timed)
        shapes = rdflib.Graph()
        for f in generate_shapes(store):
            shapes.add((_rdflib(f.subject), _rdflib(f.predicate), _rdflib(f.object)))

    t = time.perf_counter()
    data = data_slice(store)
    _, ours, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    ours_s = time.perf_counter() - t
    focus = focus_nodes(data)

    t = time.perf_counter()
    whole = rdflib.Graph()
    for q in store.quads():
        if not isinstance(q.object, Triple):  # rdflib has no RDF 1.2 triple terms: reifiers stay out
            whole.add((_rdflib(q.subject), _rdflib(q.predicate), _rdflib(q.object)))
    copy_s = time.perf_counter() - t
    _, theirs, _ = pyshacl.validate(whole, shacl_graph=shapes, inference="none", allow_warnings=True)
    whole_s = time.perf_counter() - t

    count = lambda g: len(set(g.subjects(rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/shacl#ValidationResult"))))  # noqa: E731
    table = Table(title=f"SHACL validation of {args.store} ({len(store):,} quads, {focus:,} focus nodes)")
    for col in ("side", "seconds", "focus nodes/s", "results"):
        table.add_column(col)
    table.add_row("autoknow: slice + pyshacl", f"{ours_s:.1f}", f"{focus / ours_s:,.0f}", str(count(ours)))
    table.add_row(f"pyshacl on the whole store in rdflib (copy {copy_s:.1f}s)", f"{whole_s:.1f}",
                  f"{focus / whole_s:,.0f}", str(count(theirs)))
    Console().print(table)
    print(f"ratio (autoknow / whole copy, focus nodes/s): {whole_s / ours_s:.1f}")


if __name__ == "__main__":
    main()
