"""Rendering of query results and summaries for people (rich tables) and scripts (CSV, JSON)."""

from __future__ import annotations

import csv
import io
import json
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from pyoxigraph import Literal, NamedNode
from rich.console import Console
from rich.table import Table

from .vocab import PREFIXES

__all__ = ["plain", "render_rows", "plain_columns", "console", "progress_bar"]

# a terminal sets its own width; tables for a log or a pipe are plain columns (render_rows), and
# other lines are not folded at rich's default 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)


@contextmanager
def progress_bar(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A rich progress line on stderr for long work (training); yields `advance(n)`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def plain(term: Any, compact: bool = True) -> Any:
    """A term as a Python value: IRIs as (prefixed) strings, numbers as numbers.

    >>> plain(NamedNode("https://schema.org/name")), plain(Literal(3))
    ('schema:name', 3)
    """
    if term is None:
        return None
    if isinstance(term, NamedNode):
        if compact:
            for prefix, base in PREFIXES.items():
                if term.value.startswith(base):
                    return f"{prefix}:{term.value[len(base):]}"
        return term.value
    if isinstance(term, Literal):
        dt = term.datatype.value.rsplit("#", 1)[-1]
        if dt in ("integer", "int", "long"):
            return int(term.value)
        if dt in ("double", "decimal", "float"):
            return float(term.value)
        if dt == "boolean":
            return term.value == "true"
        return term.value
    return str(term)


def render_rows(rows: list[dict[str, Any]], fmt: str = "table", title: str | None = None, limit: int | None = None) -> str | None:
    """Print rows as a table (rich on a terminal, fitted to its width; plain aligned columns in
    a log or a pipe, nothing wrapped), or return them as CSV or JSON text."""
    shown = rows[:limit] if limit else rows
    names = list(rows[0]) if rows else []
    if fmt == "json":
        return json.dumps([{k: plain(v, compact=False) for k, v in r.items()} for r in shown], ensure_ascii=False, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        w.writerows([[plain(r[n], compact=False) for n in names] for r in shown])
        return buf.getvalue()
    cells = [["" if r[n] is None else " ".join(str(plain(r[n])).split()) for n in names] for r in shown]
    if len(shown) == 1 and len(names) > 3:  # one wide row (a summary) reads better as a column
        names, cells = ["field", "value"], [[n, v] for n, v in zip(names, cells[0])]
    if console.is_terminal:
        table = Table(title=title, show_lines=False)
        for n in names:
            table.add_column(n, overflow="ellipsis", no_wrap=True)
        for row in cells:
            table.add_row(*row)
        console.print(table)
    else:
        print(plain_columns(names, cells, title))
    if limit and len(rows) > limit:
        console.print(f"[dim]… {len(rows) - limit} more rows (use --limit 0 for all)[/dim]")
    return None


def plain_columns(names: list[str], cells: list[list[str]], title: str | None = None) -> str:
    """Aligned columns for logs: every header and cell on one line, none folded.

    >>> print(plain_columns(["stage", "facts added"], [["taxonomy", "4"]], "Runs"))
    # Runs
    stage     facts added
    taxonomy  4
    """
    widths = [max([len(n), *(len(row[i]) for row in cells)]) for i, n in enumerate(names)]
    lines = [f"# {title}"] if title else []
    for row in [names, *cells]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)
