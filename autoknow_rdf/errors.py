"""Exceptions of autoknow-rdf.

    AutoknowError            anything this package raises on purpose
    ├── InputError           a bad input file: names the file, the line and the problem
    ├── StoreError           the store cannot be opened or written (locked, read-only)
    ├── QueryError           an unknown named query or a failing SPARQL query
    └── ModelError           a saved model folder that is missing, incomplete or changed
"""

from __future__ import annotations

__all__ = ["AutoknowError", "InputError", "StoreError", "QueryError", "ModelError"]


class AutoknowError(Exception):
    """Base class: the CLI prints these as one clean line and exits non-zero."""


class InputError(AutoknowError):
    """A problem in an input file, located so a person can fix it.

    >>> str(InputError("taxonomy.csv", 7, "unknown parent id 'x'"))
    "taxonomy.csv:7: unknown parent id 'x'"
    """

    def __init__(self, path: object, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {problem}")


class StoreError(AutoknowError):
    """The store is missing, locked by a server, or opened read-only for a write."""


class QueryError(AutoknowError):
    """A named query does not exist, or SPARQL text failed to parse or run."""


class ModelError(AutoknowError):
    """A model folder is missing, was left incomplete, or a file it loads is absent or changed."""
