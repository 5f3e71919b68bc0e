"""`--engine ray`: a stage's model work on Ray workers (ray.init(num_cpus=2) here) writes the
same facts as a local run; a worker that dies fails the run before its graph exists."""

from __future__ import annotations

import pytest
import ray

from autoknow_rdf.pipeline import run_stage
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.vocab import graph_iri

from .conftest import fill


def test_a_ray_run_writes_the_same_facts_as_a_local_run_and_a_dead_worker_writes_nothing(cut_files, cut_models, tmp_path):
    local, distributed = fill(KnowledgeStore(), cut_files), fill(KnowledgeStore(), cut_files)
    before = len(distributed)
    doomed = tmp_path / "doomed"  # while it exists, every worker dies on its first part
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"AUTOKNOW_TEST_KILL_WORKER": str(doomed)}})
    try:
        doomed.touch()
        with pytest.raises(Exception):
            run_stage(distributed, "imputation", cut_models[0], min_precision=0.5, engine="ray")
        assert len(distributed) == before and not [g for g in distributed.graphs() if "/graph/run/" in g.value]
        doomed.unlink()  # the re-run completes, with the facts of a local run
        there = run_stage(distributed, "imputation", cut_models[0], min_precision=0.5, engine="ray")
    finally:
        ray.shutdown()
    here = run_stage(local, "imputation", cut_models[0], min_precision=0.5)
    assert here.run_id == there.run_id and here.facts == there.facts > 0
    graph = graph_iri("run", "imputation", here.run_id)
    assert {str(q) for q in distributed.quads(graph)} == {str(q) for q in local.quads(graph)}  # triples, confidences, evidence
    assert here.gates == there.gates  # decided once over the whole run, wherever the candidates were found


def test_a_stage_that_does_not_split_runs_locally_under_ray(cut_files, cut_models):
    """Relations decides per type over the whole taxonomy: `--engine ray` runs it here, same facts."""
    local, other = fill(KnowledgeStore(), cut_files), fill(KnowledgeStore(), cut_files)
    a = run_stage(local, "relations", cut_models[0])
    b = run_stage(other, "relations", cut_models[0], engine="ray")
    graph = graph_iri("run", "relations", a.run_id)
    assert a.facts == b.facts > 0 and {str(q) for q in local.quads(graph)} == {str(q) for q in other.quads(graph)}
