"""The audit: samples drawn from real runs, judgements recorded with provenance, audited
precision and gates fitted on it, and the review page driven in a real headless browser."""

from __future__ import annotations

import json
import os
import random
import shutil
import threading

import numpy as np
import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode

from autoknow_rdf.audit import audit_tables, export_audit, import_sheets, judgements, load_audit, write_sample
from autoknow_rdf.audit.sheet import COLUMNS, read_sheet, write_sheet
from autoknow_rdf.cli import cli
from autoknow_rdf.errors import InputError
from autoknow_rdf.ml.audit_gate import audit_gates, fit_audit_gate
from autoknow_rdf.pipeline import run_stage
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.vocab import AK, RDF

from .conftest import fill

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
REQUIRE_CHROMIUM = bool(os.environ.get("AUTOKNOW_REQUIRE_CHROMIUM"))


@pytest.fixture(scope="module")
def audited(cut_files, cut_models, tmp_path_factory):
    """The real cut after a cleaning run at a low minimum precision (every candidate it finds),
    and a sample of that run drawn into a folder."""
    store = fill(KnowledgeStore(), cut_files)
    run = run_stage(store, "cleaning", cut_models[0], min_precision=0.05)
    folder = tmp_path_factory.mktemp("audit")
    about = write_sample(store, "cleaning", folder, n=40)
    return store, run, folder, about


def judge_all(folder, verdict_of, annotator="ana", name="judged.csv"):
    """The sample with every row judged by `verdict_of(row)`; the sheet's path."""
    rows = [row for _, row in read_sheet(folder / "sample.jsonl")]
    for row in rows:
        row["judgement"], row["annotator"] = verdict_of(row), annotator
    write_sheet(folder / name, rows)
    return folder / name


def test_a_sample_shows_what_a_person_needs_and_never_the_score(audited):
    store, run, folder, about = audited
    rows = [row for _, row in read_sheet(folder / "sample.csv")]
    assert rows and about["kinds"]["quarantined"]["drawn"] == len(rows) <= 40
    assert about["kinds"]["quarantined"]["added"] >= len(rows)
    assert set(rows[0]) == set(COLUMNS)
    text = (folder / "sample.csv").read_text(encoding="utf-8") + (folder / "sample.jsonl").read_text(encoding="utf-8")
    assert "confidence" not in text and "score" not in text.lower().replace("scores", "")
    for row in rows:
        assert row["title"] and row["attribute"] and row["value"] and row["claim"]
    weights = json.loads((folder / "sample.weights.json").read_text(encoding="utf-8"))
    assert set(weights["weights"]) == {r["fact"] for r in rows}
    assert sum(weights["weights"].values()) == pytest.approx(about["kinds"]["quarantined"]["added"])


def test_the_same_name_draws_the_same_sample(audited, tmp_path):
    store, run, folder, about = audited
    write_sample(store, "cleaning", tmp_path, n=40, name=about["sample"])
    assert (tmp_path / "sample.csv").read_bytes() == (folder / "sample.csv").read_bytes()


def test_a_region_sample_draws_only_there_weighs_only_there_and_is_named_apart(audited, tmp_path):
    """`--min-confidence`: the facts at or above it, weighted back to that region alone (not to the
    whole run), under a name of its own, so its judgements never merge with the run's sample."""
    store, run, folder, about = audited
    whole = json.loads((folder / "sample.weights.json").read_text(encoding="utf-8"))
    region = write_sample(store, "cleaning", tmp_path, n=40, min_confidence=0.5)
    weights = json.loads((tmp_path / "sample.weights.json").read_text(encoding="utf-8"))
    assert region["sample"] != about["sample"] and weights["min confidence"] == 0.5
    assert set(weights["population"]["quarantined"]) <= {"0.5–0.6", "0.6–0.7", "0.7–0.8", "0.8–0.9", "≥ 0.9"}
    assert sum(weights["weights"].values()) == pytest.approx(region["kinds"]["quarantined"]["added"])
    assert region["kinds"]["quarantined"]["added"] < sum(whole["population"]["quarantined"].values())


def test_import_records_each_judgement_with_provenance_and_the_report_counts_them(audited, tmp_path):
    store, run, folder, about = audited
    source = fill(KnowledgeStore(), [])  # an empty scratch store for the export round trip
    sheet = judge_all(folder, lambda row: "right" if int(row["item"]) % 4 else "wrong")
    r = import_sheets(store, [sheet])
    assert r.written == r.judged > 0 and r.graph
    assert import_sheets(store, [sheet]).written == 0  # imported before: a no-op
    js = [j for j in judgements(store, "cleaning") if j["sample"] == about["sample"]]
    assert len(js) == r.judged and {j["annotator"] for j in js} == {"ana"}
    assert all(j["confidence"] is not None and j["modelName"] for j in js)
    kept = {r["fact"].value: (r["s"], r["p"], r["o"]) for r in store.select("list_audited_triples", stage=Literal("cleaning"))}
    for j in js:  # each judgement keeps what its fact asserted: it outlives the run's graph
        reified = next(store.quads_for_pattern(NamedNode(j["fact"]), RDF.reifies, None)).object
        assert kept[j["fact"]] == (reified.subject, reified.predicate, reified.object)
    assert store.run("ASK { GRAPH ?g { ?r rdf:reifies <<( ?j ak:verdict \"wrong\" )>> ; prov:wasGeneratedBy ?a } "
                     "GRAPH <https://w3id.org/autoknow/id/graph/provenance> { ?a a ak:Audit ; "
                     "prov:wasAssociatedWith ?person } ?person a prov:Person ; rdfs:label \"ana\" }")
    table = audit_tables(js)
    row = next(t for t in table["precision"] if t["kind"] == "quarantined")
    right = sum(1 for j in js if j["verdict"] == "right")
    assert row["judged"] == len(js) and row["right"] == right
    assert row["low"] <= row["precision"] <= row["high"]
    assert sum(b["judged"] for b in table["bins"] if b["kind"] == "quarantined") == len(js)
    out = tmp_path / "audit.trig"
    assert export_audit(store, out) > 0
    assert load_audit(source, out) > 0 and load_audit(source, out) == 0
    assert len(judgements(source, "cleaning")) == len(judgements(store, "cleaning"))


def test_an_audit_exported_again_with_more_keeps_one_record(tmp_path):
    """A store that loaded an export, given a later one (the same audit with more in its graph,
    and a new audit): both audits are there, each with one record, the later one's count."""
    from pyoxigraph import Quad, serialize
    from pyoxigraph import RdfFormat as Format

    from autoknow_rdf.vocab import PROVENANCE_GRAPH

    def export(name, audits):
        quads = []
        for a, facts in audits.items():
            act, graph = NamedNode(f"urn:test:audit:{a}"), NamedNode(f"urn:test:graph:{a}")
            quads += [Quad(act, RDF.type, AK.Audit, PROVENANCE_GRAPH), Quad(act, AK.graph, graph, PROVENANCE_GRAPH),
                      Quad(act, AK.factCount, Literal(facts), PROVENANCE_GRAPH)]
            quads += [Quad(NamedNode(f"urn:test:j{i}"), AK.verdict, Literal("right"), graph) for i in range(facts)]
        (tmp_path / name).write_bytes(serialize(quads, format=Format.TRIG))
        return tmp_path / name

    store = fill(KnowledgeStore(), [])
    assert load_audit(store, export("first.trig", {"a": 2})) > 0
    assert load_audit(store, export("later.trig", {"a": 3, "b": 1})) > 0
    counts = [int(q.object.value) for q in store.quads_for_pattern(NamedNode("urn:test:audit:a"), AK.factCount, None)]
    assert counts == [3]
    assert len(list(store.quads_for_pattern(None, AK.verdict, None, NamedNode("urn:test:graph:a")))) == 3
    assert any(store.quads_for_pattern(NamedNode("urn:test:audit:b"), RDF.type, AK.Audit))
    assert load_audit(store, export("later.trig", {"a": 3, "b": 1})) == 0


def test_a_second_annotator_gives_the_agreement(audited):
    store, run, folder, about = audited
    judge_all(folder, lambda row: "right" if int(row["item"]) % 4 else "wrong", "ana", "a.csv")
    second = judge_all(folder, lambda row: "right" if int(row["item"]) % 3 else "wrong", "ben", "b.csv")
    import_sheets(store, [folder / "a.csv", second])
    agreement = audit_tables(judgements(store, "cleaning"))["agreement"]
    row = next(a for a in agreement if a["kind"] == "quarantined")
    assert row["judged twice"] > 0 and -1 <= row["kappa"] < 1


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows[0].update(judgement="maybe"), "judgement 'maybe'"),
    (lambda rows: rows[1].update(fact="https://w3id.org/autoknow/id/fact/000000000000000000000000"), "unknown fact"),
    (lambda rows: rows.append(dict(rows[0])), "is on line"),
])
def test_a_sheet_out_of_shape_or_an_unknown_fact_is_an_error_naming_the_line(audited, tmp_path, edit, message):
    store, run, folder, about = audited
    rows = [row for _, row in read_sheet(folder / "sample.jsonl")]
    for row in rows:
        row["judgement"], row["annotator"] = "right", "ana"
    edit(rows)
    shutil.copy(folder / "sample.weights.json", tmp_path / "sample.weights.json")
    write_sheet(tmp_path / "bad.csv", rows)
    before = len(store)
    with pytest.raises(InputError, match=message) as err:
        import_sheets(store, [tmp_path / "bad.csv"])
    assert "bad.csv:" in str(err.value)
    assert len(store) == before  # nothing half-written


def test_a_csv_row_of_another_width_names_its_line(tmp_path):
    (tmp_path / "s.csv").write_text("item,fact,kind,judgement\n1,https://x/f,quarantined,right\n2,https://x/g,right\n",
                                    encoding="utf-8")
    with pytest.raises(InputError, match=r"s.csv:3: expected 4 fields, found 3"):
        read_sheet(tmp_path / "s.csv")


def test_a_random_scorer_has_the_base_rate_as_audited_precision():
    """Verdicts independent of the confidence: every bin and the whole sample measure the base
    rate, and no gate above it passes."""
    rng = random.Random(7)
    base, n = 0.6, 3000
    conf = [rng.random() for _ in range(n)]
    rows = [{"sample": "s", "fact": f"f{i}", "stage": "cleaning", "kind": "quarantined", "confidence": c,
             "weight": 1.0, "modelName": "m", "modelVersion": "1", "modelChecksum": "sha256:0", "time": "t",
             "annotator": "ana", "verdict": "right" if rng.random() < base else "wrong"} for i, c in enumerate(conf)]
    tables = audit_tables(rows)
    whole = tables["precision"][0]
    assert whole["low"] <= base <= whole["high"]
    for b in tables["bins"]:
        assert b["low"] <= base <= b["high"], b
    gate = audit_gates(rows, "m", "1", "sha256:0")["quarantined"]
    assert gate.threshold(0.75) is None and not gate.other_training
    assert audit_gates(rows, "m", "1", "sha256:retrained")["quarantined"].other_training
    assert audit_gates(rows, "m", "2") == {}  # another version of the model: the audit does not speak for it
    assert gate.crossfit(0.5)["precision"] == pytest.approx(base, abs=0.05)


def test_an_audit_gate_keeps_what_people_found_right():
    """Facts above 0.8 held-in probability judged right, below it mostly wrong: the gate lands
    between, and its cross-fitted precision is the audited one."""
    rng = np.random.default_rng(0)
    conf = rng.random(600)
    right = (conf > 0.8) | (rng.random(600) < 0.2)
    gate = fit_audit_gate("product typed", conf, right.astype(float), np.ones(600))
    q, passed, t = gate.decide(conf, 0.9)
    assert t is not None and passed.any()
    assert right[passed].mean() >= 0.9 and conf[passed].min() > 0.7
    assert gate.crossfit(0.9)["precision"] >= 0.85


def test_a_run_of_an_audited_model_is_gated_on_the_audit(cut_files, cut_models, tmp_path):
    """People found every sampled quarantine wrong: the model's next run, even at a minimum
    precision that lets every candidate through its held-in gates, quarantines nothing."""
    store = fill(KnowledgeStore(), cut_files)
    first = run_stage(store, "cleaning", cut_models[0], min_precision=0.05)
    write_sample(store, "cleaning", tmp_path, n=40)
    import_sheets(store, [judge_all(tmp_path, lambda row: "wrong", "carl", "wrong.csv")])
    again = run_stage(store, "cleaning", cut_models[0], min_precision=0.05)
    assert again.run_id != first.run_id and first.facts > 0
    audit = [g for g in again.gates if g["group"] == "quarantined"]
    assert audit and audit[0]["fitted on"].startswith("audit (") and audit[0]["decision"] == "withheld"
    assert all(g["decision"].startswith("the audit gate") for g in again.gates if g["fitted on"] == "held-in")
    assert not any(store.quads_for_pattern(None, AK.quarantines, None, NamedNode(again_graph(again))))


def again_graph(run) -> str:
    from autoknow_rdf.vocab import graph_iri

    return graph_iri("run", "cleaning", run.run_id).value


def test_audit_commands_through_the_cli(audited, tmp_path):
    store, run, folder, about = audited
    assert CliRunner().invoke(cli, ["audit", "review", "--dir", str(tmp_path), "--annotator", "x"]).exit_code != 0
    r = CliRunner().invoke(cli, ["audit", "review", "--dir", str(folder), "--annotator", "x", "--host", "0.0.0.0"])
    assert r.exit_code != 0 and "loopback" in str(r.exception or r.output)


@pytest.mark.slow
@pytest.mark.skipif((CHROMIUM is None or DRIVER is None) and not REQUIRE_CHROMIUM,
                    reason="Debian chromium and chromium-driver are not installed")
def test_review_page_in_headless_chromium(audited, tmp_path):
    """Keys judge, undo and move; the judgements are on disk at once; a new server resumes."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from autoknow_rdf.audit.review import serve_review

    assert CHROMIUM and DRIVER, "AUTOKNOW_REQUIRE_CHROMIUM is set but chromium or chromedriver is missing"
    store, run, folder, about = audited
    for f in ("sample.jsonl", "sample.csv", "sample.weights.json"):
        shutil.copy(folder / f, tmp_path / f)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)

    def open_page():
        server = serve_review(tmp_path, "dana")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")
        return server

    def judged():
        path = tmp_path / "judged-dana.jsonl"
        return [row["judgement"] for _, row in read_sheet(path)] if path.is_file() else []

    def progress():
        return driver.find_element(By.ID, "progress").text

    try:
        server = open_page()
        total = len(read_sheet(tmp_path / "sample.jsonl"))
        assert progress().startswith(f"0 of {total} judged")
        claim = driver.find_element(By.ID, "claim").text
        assert claim and "score" not in driver.page_source.lower().replace("the model's score is not shown", "")
        body = driver.find_element(By.TAG_NAME, "body")
        for key, expected in (("r", "right"), ("w", "wrong"), ("u", "unsure")):
            body.send_keys(key)
            WebDriverWait(driver, 10).until(lambda d: judged().count(expected) == 1)
        assert judged()[:3] == ["right", "wrong", "unsure"]
        assert progress().startswith(f"3 of {total} judged")
        body.send_keys("z")  # undo the last: the third fact is open again, and shown
        WebDriverWait(driver, 10).until(lambda d: judged()[:3] == ["right", "wrong", ""])
        assert driver.find_element(By.ID, "verdict").text == "—"
        body.send_keys("2")
        WebDriverWait(driver, 10).until(lambda d: judged()[:3] == ["right", "wrong", "wrong"])
        server.shutdown()
        server.server_close()
        server = open_page()  # resumable: the fourth fact is next
        assert progress().startswith(f"3 of {total} judged") and f"fact 4 of {total}" in progress()
        server.shutdown()
        server.server_close()
    finally:
        driver.quit()
    r = import_sheets(store, [tmp_path / "judged-dana.jsonl"])
    assert r.judged == 3 and r.skipped == total - 3


def test_a_sheet_shows_type_paths_as_the_taxonomies_state_them(cut_files):
    """A parent edge a stage run added (maybe the run being audited) never shows in a path."""
    from autoknow_rdf.audit.sample import _Terms
    from autoknow_rdf.provenance import Fact, run_activity
    from autoknow_rdf.vocab import RDFS

    store = fill(KnowledgeStore(), cut_files)
    terms = _Terms(store)
    child, curated = next((c, ps[0]) for c, ps in sorted(terms.parents.items()))
    other = next(t for t in sorted(terms.names) if t not in (child, curated) and t not in terms.parents.get(child, []))
    before = terms.path(child)
    store.write(run_activity("taxonomy", "t1", "m", "1", "sha256:0", "0"),
                [Fact(NamedNode(child), RDFS.subClassOf, NamedNode(other), confidence=0.1)])
    assert _Terms(store).path(child) == before and terms.names[curated] in before
