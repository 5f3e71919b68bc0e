"""Relations stage: leave-type-out features, the hidden-type evaluation, shapes and validation."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli
from autoknow_rdf.ingest import ingest_file
from autoknow_rdf.ml.metrics import best_f1_threshold
from autoknow_rdf.stages.relations.model import ApplicabilityModel, RelationView, mentions
from autoknow_rdf.stages.view import TaxonomyView
from autoknow_rdf.shapes import generate_shapes, validate, write_shapes
from autoknow_rdf.vocab import SH, attribute_iri, type_iri

from .conftest import DEMO, evaluate_json
from .test_taxonomy import toy_embed

pytestmark = pytest.mark.slow


def _view() -> RelationView:
    names = {"food": "food", "dairy": "dairy", "cheese": "cheese", "milk": "milk", "yogurt": "yogurt"}
    parents = {"dairy": {"food"}, "cheese": {"dairy"}, "milk": {"dairy"}, "yogurt": {"dairy"}}
    tax = TaxonomyView(names, parents, {t: "s" for t in names}, {"milk": ["whole milk 1 gallon", "skim milk"]})
    attrs = {"fat": "fat content", "flavor": "flavor", "size": "size"}
    labels = {"food": {"size"}, "dairy": {"fat", "size"}, "cheese": {"fat"}, "milk": {"fat", "size"},
              "yogurt": {"fat", "flavor"}}
    return RelationView(tax, attrs, {"fat": {"skim", "whole"}, "size": {"1 gallon"}}, labels,
                        products={"milk": 2}, buyer_texts=["skim milk please", "flavor of yogurt"])


def test_a_types_own_labels_never_enter_its_features():
    view = _view()
    everything = " ".join([*view.taxonomy.names.values(), *view.attributes.values()])
    embed = lambda ts: toy_embed([*ts, everything])[:-1]  # noqa: E731 — one fixed vocabulary
    m = ApplicabilityModel()
    m.prepare(view, embed, list(view.taxonomy.names))
    attrs = ["fat", "flavor", "size"]
    seen = m.features("milk", attrs)
    hidden = ApplicabilityModel()
    hidden.prepare(view.without_labels({"milk"}), embed, list(view.taxonomy.names))
    assert np.allclose(seen, hidden.features("milk", attrs))  # a labelled type looks like an unlabelled one
    # the parent declares fat and size; one of two labelled siblings declares flavor
    from autoknow_rdf.stages.relations.model import FEATURES

    col = {n: i for i, n in enumerate(FEATURES)}
    assert seen[:, col["parent_has"]].tolist() == [1, 0, 1]
    assert seen[:, col["sibling_share"]].tolist() == [1, 0.5, 0]
    assert seen[:, col["title_value_share"]].tolist() == [1, 0, 0.5]  # "whole"/"skim"; "1 gallon"


def test_mentions_and_threshold():
    assert mentions(["Organic Whole Milk"], {"fat": {"whole"}, "size": {"gallon"}}).tolist() == [[True, False]]
    assert best_f1_threshold(np.array([True, False, True]), np.array([0.9, 0.2, 0.8])) == 0.8


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """The shipped demo cut laid out like shared/data (Shopify food/beauty/baby, ESCI, SubjQA)."""
    root = tmp_path_factory.mktemp("data")
    shutil.copytree(DEMO / "open/shopify_product_taxonomy", root / "shopify_product_taxonomy")
    shutil.copytree(DEMO / "open/esci_judgments_sample", root / "esci_judgments_sample")
    shutil.copytree(DEMO / "restricted/subjqa_grocery", root / "subjqa_grocery")
    return root


def test_evaluate_relations_prints_model_and_baselines(data_dir, tmp_path):
    result = evaluate_json("relations", data_dir, tmp_path)
    rows = result["tables"]["applicability"]
    assert {row["slice"] for row in rows} >= {"hidden types", "differs from parent"}
    by = {(row["slice"], row["method"]): row for row in rows}
    model, parent = by[("hidden types", "model")], by[("hidden types", "baseline: parent's attributes")]
    assert model["types"] > 50 and model["positives"] > 0
    assert 0.5 < model["roc_auc"] <= 1 and 0 < model["pr_auc"] <= 1 and parent["roc_auc"] is not None
    assert result["relations"]["hidden_types"] == model["types"]


def _product_file(tmp_path):
    """A real OA-Mine title with its real brand span, typed as a real Shopify category (bt-1, Baby & Toddler,
    which Shopify does not declare a brand for)."""
    record = json.loads((DEMO / "open/oa_mine_attributes/oa_mine_train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    brand = next(s for s in record["spans"] if s["attribute"] == "Brand")
    product = {"id": "oa-1", "title": record["input"], "type": "shopify:bt-1",
               "spans": [{"attribute": "Brand", "value": brand["value"], "start": brand["start"], "end": brand["end"]}]}
    path = tmp_path / "products.jsonl"
    path.write_text(json.dumps(product) + "\n", encoding="utf-8")
    return path


def test_an_attribute_that_does_not_apply_shows_up_in_the_validation_report(store, tmp_path):
    declared = {r["attribute"].value for r in store.select("list_applicability")
                if r["type"] == type_iri("shopify", "bt-1")}
    assert declared and attribute_iri("brand").value not in declared
    ingest_file(store, _product_file(tmp_path))
    graph, n = write_shapes(store, tmp_path / "shapes.ttl")
    assert n > 0 and "sh:NodeShape" in (tmp_path / "shapes.ttl").read_text(encoding="utf-8")
    v = validate(store, graph)
    flagged = [r for r in v.results if r["path"] == attribute_iri("brand")]
    assert flagged and flagged[0]["severity"] == SH.Warning and "does not apply" in flagged[0]["message"].value
    assert v.conforms  # a warning, not a violation
    # the report is RDF in its own graph, and validating the same state again adds nothing
    before = len(store)
    assert validate(store, graph).graph == v.graph and len(store) == before
    assert not store.ask("find_facts_without_provenance")


def test_shapes_say_single_valued_and_severity_by_importance(store):
    facts = generate_shapes(store)
    props = {f.subject for f in facts if f.predicate == SH.path and f.object == attribute_iri("color")}
    assert props
    severities = {f.object for f in facts if f.subject in props and f.predicate == SH.severity}
    assert severities <= {SH.Violation, SH.Warning} and severities


def test_train_run_and_validate_from_the_cli(tmp_path, cut):
    store, models = tmp_path / "kg", tmp_path / "models"
    assert CliRunner().invoke(cli, ["ingest", "--store", str(store), str(cut)]).exit_code == 0
    r = CliRunner().invoke(cli, ["train", "relations", "--store", str(store), "--models", str(models)])
    assert r.exit_code == 0, r.output
    r1 = CliRunner().invoke(cli, ["run", "relations", "--store", str(store), "--models", str(models)])
    assert r1.exit_code == 0 and "facts" in r1.output, r1.output
    r2 = CliRunner().invoke(cli, ["validate", "--store", str(store), "--shapes-out", str(tmp_path / "s.ttl")])
    assert r2.exit_code in (0, 1) and "products" in r2.output, (r2.output, r2.exception)
    assert (tmp_path / "s.ttl").is_file()
