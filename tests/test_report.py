"""Facts-added accounting and the HTML report: counts that match the run graphs, and a page that
renders with its plots in headless Chromium (no network)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from autoknow_rdf.accounting import accounting
from autoknow_rdf.pipeline import run_stage
from autoknow_rdf.report import write_report
from autoknow_rdf.vocab import OWL, graph_iri

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI installs Chromium (.ci/run) and sets this, so the browser check cannot silently vanish there
REQUIRE_CHROMIUM = os.environ.get("AUTOKNOW_REQUIRE_CHROMIUM") == "1"


@pytest.fixture(scope="module")
def grown(cut_files, cut_models):
    """The real cut after the synonyms and cleaning stages ran on it."""
    from autoknow_rdf.store import KnowledgeStore

    from .conftest import fill

    store = fill(KnowledgeStore(), cut_files)
    runs = {name: run_stage(store, name, cut_models[0]) for name in ("cleaning", "synonyms")}
    return store, runs


def test_accounting_counts_what_the_runs_wrote_against_what_was_ingested(grown):
    store, runs = grown
    rows = {(r["stage"], r["kind"]): r for r in accounting(store)}
    graph = graph_iri("run", "synonyms", runs["synonyms"].run_id)
    same = sum(1 for q in store.quads(graph) if q.predicate in (OWL.sameAs, OWL.equivalentClass))
    links = rows.get(("synonyms", "sameAs link"), {"added": 0})["added"] + rows.get(("synonyms", "equivalentClass link"), {"added": 0})["added"]
    assert links == same > 0
    quarantined = rows[("cleaning", "quarantined")]
    assert quarantined["added"] == runs["cleaning"].facts // 4  # a quarantine is four facts: type, fact, score, reason
    ingested_values = rows[("all stages", "all kinds")]["ingested"]
    assert ingested_values > 0
    conf = rows[("synonyms", "canonical representative")]["mean confidence"]
    assert 0.0 < conf <= 1.0
    assert rows[("all stages", "sameAs link")]["growth"] is None  # nothing of the kind was ingested: "new"


@pytest.mark.skipif(CHROMIUM is None and not REQUIRE_CHROMIUM, reason="Debian chromium is not installed")
def test_report_renders_with_its_plots_in_headless_chromium(grown, tmp_path):
    store, _ = grown
    page = write_report(store, tmp_path / "report.html")
    text = page.read_text(encoding="utf-8")
    plots = text.count('<img class=plot')
    assert plots >= 2 and not re.search(r'(src|href)="(https?:)?//', text)  # nothing to fetch at view time
    assert CHROMIUM is not None, "AUTOKNOW_REQUIRE_CHROMIUM is set but chromium is missing"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-plots-rendered="{plots}"' in dom.stdout  # every plot decoded with a real size
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.std() > 0.05  # not a blank page


def test_the_fast_accounting_query_answers_as_the_plain_one(grown):
    """count_facts_by_kind groups before it classifies (for speed); the plain formulation in
    tests/reference classifies every reifier. Same rows, same counts, same mean confidences."""
    from pathlib import Path

    from autoknow_rdf.console import plain
    from autoknow_rdf.store import rows

    store, _ = grown
    reference = (Path(__file__).parent / "reference" / "count_facts_by_kind.rq").read_text(encoding="utf-8")
    key = lambda r: (plain(r["stage"]), plain(r["run"]), plain(r["kind"]))  # noqa: E731
    fast = {key(r): (plain(r["facts"]), plain(r["meanConfidence"])) for r in store.select("count_facts_by_kind")}
    plain_ = {key(r): (plain(r["facts"]), plain(r["meanConfidence"])) for r in rows(store.run(reference))}
    assert fast.keys() == plain_.keys() and len(fast) >= 5
    assert {k: v[0] for k, v in fast.items()} == {k: v[0] for k, v in plain_.items()}
    for k, (_, mean) in fast.items():
        assert (mean is None) == (plain_[k][1] is None) and (mean is None or abs(mean - plain_[k][1]) < 1e-9), k


def test_stage_samples_answer_as_the_plain_query(grown):
    """list_stage_samples looks each fact's details up with LATERAL; same six facts, in the same
    order, as the plain formulation in tests/reference."""
    from pathlib import Path

    from pyoxigraph import Literal

    from autoknow_rdf.store import rows

    store, _ = grown
    reference = (Path(__file__).parent / "reference" / "list_stage_samples.rq").read_text(encoding="utf-8")
    as_list = lambda rs: [tuple(sorted((k, str(v)) for k, v in r.items())) for r in rs]  # noqa: E731
    for stage in ("cleaning", "synonyms", "no such stage"):
        fast = store.select("list_stage_samples", stage=Literal(stage))
        assert as_list(fast) == as_list(rows(store.run(reference, stage=Literal(stage))))
        assert bool(fast) == (stage == "cleaning") or stage == "synonyms"


def test_shape_generation_is_not_counted_as_stage_growth(cut_files):
    """Shapes restate applicability the stages or the sources decided: listed, never growth."""
    from autoknow_rdf.shapes import write_shapes
    from autoknow_rdf.store import KnowledgeStore

    from .conftest import fill

    store = fill(KnowledgeStore(), cut_files)
    write_shapes(store)
    rows = {(r["stage"], r["kind"]): r for r in accounting(store)}
    assert any(stage == "shapes" and r["added"] > 0 for (stage, _), r in rows.items())
    assert rows[("all stages", "all kinds")]["added"] == 0


def test_each_runs_line_and_the_summary_agree_with_the_accounting(grown):
    """The per-run lines and "What each stage added" count a run's facts as the accounting table
    does: added = the counted kinds, bookkeeping apart, the rest labels and declarations."""
    from autoknow_rdf.accounting import added_facts, facts_by_kind, kinds_by_run, run_line, stage_summary

    store, runs = grown
    counts = facts_by_kind(store)
    kinds = kinds_by_run(counts)
    table = accounting(store, counts=counts)
    for name, run in runs.items():
        mine = kinds[run.run_id]
        assert mine == {r["kind"]: r["added"] for r in table if r["stage"] == name}  # one run per stage here
        assert 0 < sum(mine.values()) <= run.facts
        line = run_line(run, mine)
        assert f"{run.facts:,} facts written" in line and f"{added_facts(mine):,} added" in line
        if "quarantined" in mine:
            assert f"{mine['quarantined']:,} quarantined (bookkeeping, not counted as added)" in line
    summary = stage_summary(list(runs.values()), kinds)
    assert sum(r["facts added"] for r in summary) == next(r["added"] for r in table if r["kind"] == "all kinds")
    assert [r["facts written"] for r in summary] == [run.facts for run in runs.values()]
