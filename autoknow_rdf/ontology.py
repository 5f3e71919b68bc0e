"""The core ontology (ontology/autoknow.ttl) in the store, with provenance like any source."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import RdfFormat, parse

from . import __version__
from .errors import InputError
from .provenance import Fact, file_checksum, ingest_activity
from .store import KnowledgeStore
from .vocab import ONTOLOGY_FILE

__all__ = ["load_ontology"]


def load_ontology(store: KnowledgeStore, path: Path = ONTOLOGY_FILE) -> int:
    """Write the ontology into its own graph (a no-op if this version is already there)."""
    activity = ingest_activity(path, file_checksum(path), "ontology", __version__)
    if store.is_committed(activity):
        return 0
    try:
        with open(path, "rb") as fh:
            triples = list(parse(fh, format=RdfFormat.TURTLE))
    except SyntaxError as exc:
        raise InputError(path, None, f"invalid Turtle: {exc}") from None
    return store.write(activity, (Fact(t.subject, t.predicate, t.object) for t in triples))
