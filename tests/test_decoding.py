"""Imputation decodes a text's value spans together (stages/imputation/decoding.py), on real
titles of the demo's data: a value named to be denied is not present, a unit never leaves
without its number, and one span answers one attribute unless the labelled data lets two share
it; and on every human-labelled span of the demo's OA-Mine file the rules almost never fire."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from autoknow_rdf.ml.spans import Span
from autoknow_rdf.resources import DEMO_DATA
from autoknow_rdf.stages.imputation.decoding import decode_text, denied, shared_attributes, whole_quantity

OA_MINE = DEMO_DATA / "open" / "oa_mine_attributes" / "oa_mine_train.jsonl"
INSTACART = DEMO_DATA / "restricted" / "instacart_baskets" / "products.csv"
AE_110K = Path(__file__).resolve().parents[1] / "demo" / "evaluation" / "ae_110k_attributes" / "ae_110k_train.jsonl"


def labelled(path: Path) -> list[tuple[str, list[Span]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["input"], [Span(s["attribute"], s["start"], s["end"]) for s in r.get("spans", [])]) for r in rows]


def title_with(path: Path, *words: str) -> str:
    """The first real title of a data file that holds every one of `words`."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8") as f:
            titles = [r["product_name"] for r in csv.DictReader(f)]
    else:
        titles = [t for t, _ in labelled(path)]
    return next(t for t in titles if all(w in t for w in words))


def span(text: str, label: str, words: str, score: float = 0.9) -> Span:
    return Span(label, text.index(words), text.index(words) + len(words), score)


def test_a_free_from_value_is_not_extracted_as_present():
    dairy_free = title_with(INSTACART, "Dairy Free Coconut Milk")
    kept = decode_text(dairy_free, [span(dairy_free, "allergens", "Dairy"), span(dairy_free, "flavor", "Coconut Milk")])
    assert [dairy_free[s.start:s.end] for s in kept] == ["Coconut Milk"]
    nutricost = title_with(OA_MINE, "Gluten Free, Non-GMO")
    claimed = [span(nutricost, "allergens", "Gluten"), span(nutricost, "specialty", "GMO", 0.8)]
    assert decode_text(nutricost, claimed) == []
    # the labelled values that carry the words themselves are what they say
    whole = [span(nutricost, "Diet", "Gluten Free"), span(nutricost, "Specialty", "Non-GMO", 0.8)]
    assert decode_text(nutricost, whole) == whole


def test_a_single_valued_attribute_keeps_its_best_value_the_decoding_leaves():
    """The best value is chosen after decoding: a denied best gives way to the runner-up."""
    text = title_with(INSTACART, "Dairy Free Coconut Milk Passionate Mango")
    spans = [span(text, "flavor", "Dairy", 0.9), span(text, "flavor", "Passionate Mango", 0.6)]
    assert [text[s.start:s.end] for s in decode_text(text, spans, single={"flavor"})] == ["Passionate Mango"]


def test_a_unit_is_never_emitted_without_its_number():
    text = title_with(OA_MINE, "250 Count Bottle")
    (found,) = decode_text(text, [span(text, "Net content", "Count")])
    assert text[found.start:found.end] == "250 Count"
    count_only = title_with(OA_MINE, "Count")
    at = [i for i in range(len(count_only)) if count_only.startswith("Count", i)]
    alone = [a for a in at if not any(ch.isdigit() for ch in count_only[max(0, a - 3):a])]
    for a in alone:  # where no number precedes the unit, nothing is emitted
        assert decode_text(count_only, [Span("Net content", a, a + 5)]) == []
    assert whole_quantity("Count Chocula Cereal", Span("Net content", 0, 5)) is None


def test_a_span_answers_one_attribute_unless_the_data_lets_two_share_it():
    ae = labelled(AE_110K)
    shared = shared_attributes(type("E", (), {"spans": tuple(s)})() for _, s in ae)
    assert frozenset(("Brand Name", "Name")) in shared  # AE-110K labels such spans with both
    text, spans = next((t, s) for t, s in ae if any(a.label == "Brand Name" and b.label == "Name" and a.start < b.end
                                                   and b.start < a.end for a in s for b in s))
    both = [x for x in spans if x.label in ("Brand Name", "Name")]
    assert {x.label for x in decode_text(text, both, shared)} == {"Brand Name", "Name"}
    # a detergent's scent is not its color too: the more confident attribute keeps the words
    pods = title_with(INSTACART, "Spring Meadow Scent")
    kept = decode_text(pods, [span(pods, "color", "Spring Meadow", 0.6), span(pods, "scent", "Spring Meadow", 0.8),
                              span(pods, "Net content", "16 Count", 0.7)], shared)
    assert [pods[s.start:s.end] + " = " + s.label for s in kept] == ["Spring Meadow = scent", "16 Count = Net content"]


def test_human_labelled_values_pass_the_decoding_whole():
    """On the demo's OA-Mine file (7,347 labelled spans) the decoding changes almost nothing a
    person labelled: the rules cut what extractors get wrong, not values."""
    rows = labelled(OA_MINE)
    spans = [(t, s) for t, ss in rows for s in ss]
    assert len(spans) > 5000
    denied_share = sum(denied(t, s) for t, s in spans) / len(spans)
    dropped_share = sum(whole_quantity(t, s) is None for t, s in spans) / len(spans)
    assert denied_share < 0.005 and dropped_share < 0.005, (denied_share, dropped_share)


def test_the_one_pass_extractor_gives_each_token_one_attribute_and_reloads_the_same(tmp_path):
    """Trained briefly on real OA-Mine titles: every span of a text answers one attribute its type
    allows, no two attributes share a token, and a saved model finds the same spans."""
    from autoknow_rdf.stages.imputation.evaluate import allowed_attributes
    from autoknow_rdf.evaluation.labelled import labelled_products
    from autoknow_rdf.stages.imputation.joint import JointExtractor
    from autoknow_rdf.stages.imputation.model import ValueExample

    data = tmp_path / "data" / "oa_mine_attributes"
    data.mkdir(parents=True)
    (data / "oa_mine_train.jsonl").write_text("\n".join(OA_MINE.read_text(encoding="utf-8").splitlines()[:32]) + "\n",
                                             encoding="utf-8")
    products = labelled_products(tmp_path / "data")
    allowed = allowed_attributes(products)
    examples = [ValueExample(p.texts["title"], p.type_key, tuple(p.spans["title"])) for p in products]
    model = JointExtractor(sorted({a for v in allowed.values() for a in v}), epochs=1, seed=0).fit(examples, None, allowed)
    texts, keys = [e.text for e in examples], [e.type_key for e in examples]
    found = model.predict(texts, keys, None, allowed)
    assert sum(map(len, found)) > 0
    for spans, key in zip(found, keys):
        assert {s.label for s in spans} <= allowed[key]
        assert not any(a.label != b.label and a.start < b.end and b.start < a.end for a in spans for b in spans)
    model.save(tmp_path / "model")
    assert JointExtractor.load(tmp_path / "model").predict(texts, keys, None, allowed) == found
