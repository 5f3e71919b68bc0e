"""`autoknow evaluate --train DIR --test DIR`: a test folder that shares items with the training
folder is refused with the clashing lines named; a disjoint one is scored, also with a saved model."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli
from autoknow_rdf.evaluation.overlap import find_overlap

from .conftest import DEMO, SHARED, evaluate_json

pytestmark = pytest.mark.skipif(not (SHARED / "wordnet_consumables").is_dir(), reason="needs ../shared/data")


def lines(src, dst, start: int, stop: int):
    """Header plus lines [start, stop) of a real file."""
    rows = src.read_text(encoding="utf-8").splitlines(keepends=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(rows[0] + "".join(rows[start:stop]), encoding="utf-8")


def wordnet(folder, start, stop):
    lines(SHARED / "wordnet_consumables/synsets.tsv", folder / "wordnet_consumables/synsets.tsv", start, stop)
    lines(SHARED / "wordnet_consumables/hypernyms.tsv", folder / "wordnet_consumables/hypernyms.tsv", 1, 3000)
    return folder


def test_an_overlapping_test_folder_is_refused_naming_the_lines(tmp_path):
    train, test = wordnet(tmp_path / "train", 1, 400), wordnet(tmp_path / "test", 380, 500)
    clashes = find_overlap(train, test, ("wordnet_consumables/synsets.tsv",))
    assert clashes and "synsets.tsv:2 has the same item id" in clashes[0]
    out = CliRunner().invoke(cli, ["evaluate", "synonyms", "--train", str(train), "--test", str(test)])
    assert out.exit_code != 0 and "overlaps the training data" in str(out.exception)
    # the same for a stage scored on titles: identical texts under other ids clash too
    lines(SHARED / "oa_mine_attributes/oa_mine_train.jsonl", tmp_path / "a/oa_mine_attributes/oa_mine_train.jsonl", 1, 50)  # header = the first title
    rows = (SHARED / "oa_mine_attributes/oa_mine_train.jsonl").read_text(encoding="utf-8").splitlines()
    other = json.loads(rows[10])
    other["id"] = "not-an-id-of-train"
    (tmp_path / "b/oa_mine_attributes").mkdir(parents=True)
    (tmp_path / "b/oa_mine_attributes/oa_mine_test.jsonl").write_text(json.dumps(other) + "\n", encoding="utf-8")
    assert "same text" in find_overlap(tmp_path / "a", tmp_path / "b")[0]
    out = CliRunner().invoke(cli, ["evaluate", "imputation", "--train", str(tmp_path / "a"), "--test", str(tmp_path / "b")])
    assert out.exit_code != 0 and "overlaps" in str(out.exception)


def test_unsupported_or_incomplete_requests_say_why(tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["evaluate", "synonyms", "--train", str(tmp_path)])
    assert out.exit_code == 2 and "--train needs --test" in out.output
    out = runner.invoke(cli, ["evaluate", "taxonomy", "--train", str(tmp_path), "--test", str(tmp_path)])
    assert out.exit_code != 0 and "is the training folder" in str(out.exception)
    out = runner.invoke(cli, ["evaluate", "all", "--data", str(tmp_path), "--model", str(tmp_path)])
    assert out.exit_code == 2 and "give that stage" in out.output


def shopify(folder, categories: int, links: int):
    """The demo's Shopify cut: the first `categories` types and the first `links` type→attribute rows."""
    src = DEMO / "open/shopify_product_taxonomy"
    lines(src / "categories.tsv", folder / "shopify_product_taxonomy/categories.tsv", 1, categories)
    lines(src / "category_attributes.tsv", folder / "shopify_product_taxonomy/category_attributes.tsv", 1, links)
    (folder / "shopify_product_taxonomy/attributes.jsonl").write_bytes((src / "attributes.jsonl").read_bytes())
    return folder


@pytest.mark.slow
def test_taxonomy_attaches_the_types_a_test_folder_adds_with_a_saved_model(tmp_path, cut_models):
    """--train/--test for the taxonomy: the hidden leaves are the types the test taxonomy adds
    (none is in the training folder), ranked by the saved model beside the baselines."""
    train, test = shopify(tmp_path / "train", 330, 2), shopify(tmp_path / "test", 400, 2)
    result = evaluate_json("taxonomy", train, tmp_path, "--test", str(test), "--model", str(cut_models[0] / "taxonomy"))
    hidden = sum(result["hypernym"]["hidden"].values())
    assert 0 < hidden <= 400 - 330
    methods = {row["method"] for row in result["tables"]["hypernym"]}
    assert methods == {"saved model", "baseline: name embedding", "baseline: head word"}
    assert all(0.0 <= row["acc@1"] <= row["hit@5"] <= 1.0 for row in result["tables"]["hypernym"])
    assert any("tagging" in s for s in result["skipped"])
    # a test folder that adds no type is refused
    same = shopify(tmp_path / "same", 330, 2)
    r = CliRunner().invoke(cli, ["evaluate", "taxonomy", "--train", str(train), "--test", str(same)])
    assert r.exit_code != 0 and "adds no type" in str(r.exception)


@pytest.mark.slow
def test_relations_score_the_types_only_the_test_folder_labels(tmp_path, cut_models):
    train, test = shopify(tmp_path / "train", 400, 250), shopify(tmp_path / "test", 400, 400)
    result = evaluate_json("relations", train, tmp_path, "--test", str(test), "--model", str(cut_models[0] / "relations"))
    rows = result["tables"]["applicability"]
    assert {row["method"] for row in rows} >= {"saved model", "baseline: parent's attributes"}
    hidden = next(row for row in rows if row["slice"] == "hidden types" and row["method"] == "saved model")
    assert hidden["types"] == result["relations"]["hidden_types"] > 0 and hidden["positives"] > 0


@pytest.mark.slow
def test_a_disjoint_test_folder_is_scored_with_a_saved_model(tmp_path, cut_models):
    train, test = wordnet(tmp_path / "train", 1, 500), wordnet(tmp_path / "test", 1200, 1500)
    assert find_overlap(train, test, ("wordnet_consumables/synsets.tsv",)) == []
    out_json = tmp_path / "m.json"
    r = CliRunner().invoke(cli, ["evaluate", "synonyms", "--train", str(train), "--test", str(test),
                                 "--model", str(cut_models[0] / "synonyms"), "--json", str(out_json)])
    assert r.exit_code == 0, (r.output, r.exception)
    result = json.loads(out_json.read_text(encoding="utf-8"))
    assert result["data"]["test"] == str(test)
    sizes = result["value/type synonyms (dev clusters)"]
    assert sizes["dev clusters"] > 0 and sizes["dev clusters dropped (a name also in train)"] >= 0
    model_rows = [r for r in result["tables"]["value/type synonyms (dev clusters)"] if r["method"].startswith("model: ")]
    assert model_rows and all(0.0 <= r["PR-AUC"] <= 1.0 for r in model_rows)
