"""A SIGKILLed ingest leaves a store that opens, is consistent, and completes on re-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from autoknow_rdf.ingest import ingest_file
from autoknow_rdf.ontology import load_ontology
from autoknow_rdf.store import KnowledgeStore

from .conftest import DEMO, quad_set

pytestmark = pytest.mark.slow
LARGE = DEMO / "open/openfoodfacts_categories/categories.full.jsonl.gz"  # 11k types, ~340k quads


@pytest.fixture(scope="module")
def clean_quads(tmp_path_factory) -> set[str]:
    ks = KnowledgeStore()
    load_ontology(ks)
    ingest_file(ks, LARGE)
    return without_timestamps(quad_set(ks))


def without_timestamps(quads: set[str]) -> set[str]:
    """Activity start/end times differ between runs; everything else must be identical."""
    return {q for q in quads if "#startedAtTime> \"" not in q and "#endedAtTime> \"" not in q}


@pytest.mark.parametrize("delay", [0.8, 2.4])  # early in the load, and late in it
def test_sigkill_mid_ingest_leaves_a_consistent_store_that_rerun_completes(delay, tmp_path, clean_quads):
    path = tmp_path / "kg"
    ks = KnowledgeStore(path)
    load_ontology(ks)  # the store exists and holds data before the doomed ingest
    ks.close()
    del ks
    proc = subprocess.Popen([sys.executable, "-m", "autoknow_rdf.cli", "ingest", "--store", str(path), str(LARGE)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished = proc.poll() is not None
    if not finished:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    ks = KnowledgeStore(path)  # opens after the kill, rolling back an interrupted write
    assert ks.select("find_incomplete_graphs") == []
    assert ks.ask("find_facts_without_provenance") is False
    partial = len(ks)
    result = ingest_file(ks, LARGE)
    if not result.skipped:
        assert result.quads > 0
    assert without_timestamps(quad_set(ks)) == clean_quads  # complete, no duplicates
    assert partial in (len(load_only_quads()), len(ks))  # nothing in between: all or nothing


def load_only_quads() -> set[str]:
    ks = KnowledgeStore()
    load_ontology(ks)
    return quad_set(ks)
