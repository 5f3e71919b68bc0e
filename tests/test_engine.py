"""`--engine ray`: a stage's model work on Ray workers (ray.init(num_cpus=2) here) writes the
same facts as a local run, on a store on a SPARQL server as on the embedded one; a worker that
dies fails the run before its graph exists."""

from __future__ import annotations

import pytest
import ray
from click.testing import CliRunner
from pyoxigraph import Literal

from autoknow_rdf.cli import cli
from autoknow_rdf.enrich import enrich_store
from autoknow_rdf.server import start_local_server
from autoknow_rdf.store import KnowledgeStore, open_store
from autoknow_rdf.vocab import RDF

from .conftest import fill

GATE = 0.5  # the cut's imputation gates pass at 0.5, not at 0.9: a comparison of zero facts proves nothing


@pytest.fixture(scope="module")
def doomed(tmp_path_factory):
    """Ray, started once for the module (2 CPUs); while the yielded file exists, every worker dies
    on its first part."""
    path = tmp_path_factory.mktemp("ray") / "doomed"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"AUTOKNOW_TEST_KILL_WORKER": str(path)}})
    yield path
    ray.shutdown()


def test_enrich_on_a_sparql_server_with_ray_adds_the_facts_of_an_embedded_local_run(cut_files, cut_models, doomed, tmp_path):
    """The issue's "done when": `autoknow enrich --store http://… --engine ray` on the cut against
    `enrich` on the embedded store in this process: every stage's run graph, the shapes and the
    validation report hold the same quads (activity times and the report's node names aside). Before
    that, the same command with every Ray worker dying fails and leaves no imputation graph on the
    server (taxonomy's typing is the first to split); its re-run is the run compared, and the
    accounting agrees."""
    models = cut_models[0]
    local = fill(KnowledgeStore(), cut_files)
    here = enrich_store(local, tmp_path / "local.html", models, shapes_out=tmp_path / "local.ttl", min_precision=GATE)
    proc, url = start_local_server(tmp_path / "served", writable=True)
    try:
        fill(open_store(url), cut_files)
        command = ["enrich", "--store", url, "--engine", "ray", "--models", str(models), "--min-precision", str(GATE),
                   "--report", str(tmp_path / "remote.html"), "--shapes-out", str(tmp_path / "remote.ttl")]
        doomed.touch()  # every Ray worker dies: the first run that splits (taxonomy's typing) fails before its graph exists
        try:
            failed = CliRunner().invoke(cli, command)
        finally:
            doomed.unlink()
        assert failed.exit_code != 0 and "run taxonomy" in failed.output + str(failed.exception)
        assert not [g for g in open_store(url, read_only=True).graphs() if "/graph/run/" in g.value]
        out = CliRunner().invoke(cli, command)  # the re-run completes
        assert out.exit_code == 0, (out.output, out.exception)
        remote = open_store(url, read_only=True)
        assert {g.value for g in remote.graphs()} == {g.value for g in local.graphs()}
        assert _quads(remote) == _quads(local)
        validation = next(g for g in local.graphs() if "/graph/run/validate/" in g.value)
        assert sum(1 for _ in remote.quads(validation)) == sum(1 for _ in local.quads(validation)) > 0
    finally:
        proc.terminate()
        proc.wait(10)
    assert "trained: none (models reused)" in out.output and "stage taxonomy" in out.output
    added = sum(r.facts for r in here.runs)
    assert added > 100 and sum(r.facts for r in here.runs if r.stage == "imputation") > 0
    typed = sum(1 for q in local.quads_for_pattern(None, RDF.type, None)
                if "/graph/run/taxonomy/" in q.graph_name.value and "/product/" in q.subject.value)
    assert typed > 0  # products typed by spans found on the workers: the split is exercised
    for r in here.runs:  # the CLI's per-stage lines give the embedded run's figures
        assert f"stage {r.stage}" in out.output


def _quads(store) -> set[str]:
    """Every quad outside the validation report (its result nodes are pyshacl's blank nodes, named
    afresh by each validation), a time literal (when an activity ran) as a placeholder."""
    def term(t):
        return "TIME" if isinstance(t, Literal) and t.datatype.value.endswith("#dateTime") else str(t)

    return {" ".join(term(t) for t in (q.subject, q.predicate, q.object, q.graph_name)) for q in store.quads()
            if "/graph/run/validate/" not in q.graph_name.value}
