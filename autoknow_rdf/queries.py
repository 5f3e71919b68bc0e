"""Named SPARQL queries: the files in sparql/, loaded by name. The only reader of SPARQL text."""

from __future__ import annotations

from functools import lru_cache

from .errors import QueryError
from .resources import SPARQL_DIR

__all__ = ["SPARQL_DIR", "names", "text", "header", "resolve"]


def names() -> list[str]:
    """Every named query, sorted.

    >>> "list_types" in names()
    True
    """
    return sorted(p.stem for p in SPARQL_DIR.glob("*.rq"))


@lru_cache(maxsize=None)
def text(name: str) -> str:
    """The SPARQL text of a named query; unknown names raise QueryError listing the known ones."""
    path = SPARQL_DIR / f"{name}.rq"
    if not path.is_file():
        raise QueryError(f"no named query {name!r}; known: {', '.join(names())}")
    return path.read_text(encoding="utf-8")


def header(name: str) -> str:
    """The leading comment block of a query: what it returns and which variables it binds."""
    lines = []
    for line in text(name).splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return "\n".join(lines)


def resolve(query: str, binds: tuple[str, ...] = ()) -> tuple[str, dict]:
    """SPARQL text and bindings from a CLI argument: a named query, a .rq file, or SPARQL text.

    Bindings are `var=IRI` (or `var="text"` for a plain literal), always passed by substitution.
    """
    from pathlib import Path as _Path

    from pyoxigraph import Literal, NamedNode

    if query in names():
        sparql = text(query)
    elif query.endswith(".rq") and _Path(query).is_file():
        sparql = _Path(query).read_text(encoding="utf-8")
    else:
        sparql = query
    bound = {}
    for b in binds:
        var, sep, value = b.partition("=")
        if not sep or not var:
            raise QueryError(f"--bind {b!r}: expected VAR=IRI")
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            bound[var.lstrip("?")] = Literal(value[1:-1])
        else:
            try:
                bound[var.lstrip("?")] = NamedNode(value)
            except ValueError as exc:
                raise QueryError(f"--bind {b!r}: {exc}") from None
    return sparql, bound
