"""A self-contained HTML summary of a store: headline counts, sources, taxonomies, sample facts."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from .console import plain
from .store import KnowledgeStore

__all__ = ["summary", "write_report"]


def summary(store: KnowledgeStore) -> dict[str, int]:
    """Headline counts (named query count_summary) as plain ints."""
    row = store.select("count_summary")[0]
    return {k: plain(v) for k, v in row.items()}


def _table(rows: list[dict[str, Any]], limit: int = 50) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    names = list(rows[0])
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if r[n] is None else str(plain(r[n])))}</td>" for n in names) + "</tr>"
        for r in rows[:limit]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(store: KnowledgeStore, out: Path) -> Path:
    """Write report.html; every table names the sparql/ query that produced it."""
    counts = summary(store)
    sections = [
        ("Headline counts", "count_summary", _table([{k: v for k, v in counts.items()}])),
        ("What the stage runs added", "count_run_facts", _table(store.select("count_run_facts"))),
        ("Quarantined by cleaning, by source", "count_quarantined_by_source", _table(store.select("count_quarantined_by_source"))),
        ("Most suspect quarantined facts", "list_quarantine", _table(store.select("list_quarantine"), 15)),
        ("Types per taxonomy", "count_types_by_scheme", _table(store.select("count_types_by_scheme"))),
        ("Graphs and their sources", "count_facts_by_graph", _table(store.select("count_facts_by_graph"))),
        ("Most populated types", "count_products_by_type", _table(store.select("count_products_by_type"), 20)),
    ]
    ok = not store.ask("find_facts_without_provenance")
    body = "".join(
        f"<section><h2>{html.escape(t)}</h2><p class=q>query: <code>sparql/{q}.rq</code></p>{tbl}</section>"
        for t, q, tbl in sections
    )
    page = f"""<!doctype html><html lang=en><head><meta charset=utf-8><title>autoknow-rdf report</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}}th{{background:#f3f3f3}}.q{{color:#666}}
.ok{{color:#070}}.bad{{color:#a00}}</style></head><body>
<h1>autoknow-rdf report</h1>
<p>Store: <code>{html.escape(str(store.path or 'in memory'))}</code>, {len(store):,} quads.
Provenance check (<code>sparql/find_facts_without_provenance.rq</code>):
<span class={'ok' if ok else 'bad'}>{'every fact is traced to its activity' if ok else 'some facts lack provenance'}</span>.</p>
{body}</body></html>"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
