"""Span tagger and its dictionary baseline on real OA-Mine titles."""

from __future__ import annotations

import pytest

from autoknow_rdf.stages.taxonomy.tagger import type_spans
from autoknow_rdf.stages.taxonomy.evaluate_tagging import dictionary_tagger, span_scores, tagging_examples
from autoknow_rdf.ml.spans import Span
from autoknow_rdf.stages.taxonomy.tagger import SpanTagger

from .conftest import DEMO


def test_distant_type_span_takes_the_products_own_type_name():
    title = "Nespresso Capsules OriginalLine Ristretto, Coffee Pods, Dark Roast Espresso Coffee, 50 Count"
    (span,) = type_spans(title, ["Coffee"])
    assert title[span.start:span.end] == "Coffee"
    assert type_spans("Green Teas, 20 bags", ["Tea"])[0] == Span("TYPE", 6, 10)
    assert type_spans("Teapot", ["Tea"]) == []


def test_dictionary_baseline_and_span_scores():
    tag = dictionary_tagger({"TYPE": {"ice cream", "cream"}, "FLAVOR": {"cherry"}})
    spans = tag("Black Cherry Cheesecake Ice Cream")
    assert Span("TYPE", 24, 33) in spans and Span("FLAVOR", 6, 12) in spans
    scores = span_scores([[Span("TYPE", 24, 33)]], [spans], ["TYPE", "FLAVOR"])
    assert scores["TYPE"]["f1"] == 1.0 and scores["FLAVOR"]["precision"] == 0.0


def test_examples_from_real_titles_have_exact_spans(tmp_path):
    (tmp_path / "oa_mine_attributes").mkdir()
    src = (DEMO / "open/oa_mine_attributes/oa_mine_train.jsonl").read_text(encoding="utf-8").splitlines()[:200]
    (tmp_path / "oa_mine_attributes/oa_mine_train.jsonl").write_text("\n".join(src) + "\n", encoding="utf-8")
    examples, labels, source = tagging_examples(tmp_path)
    assert labels[0] == "TYPE" and len(labels) == 9
    assert any(s.label == "TYPE" for e in examples for s in e.spans)
    assert set(source.values()) <= {"human", "human+distant"}
    for e in examples:
        starts = [s.start for s in e.spans]
        assert starts == sorted(starts)
        assert all(0 <= s.start < s.end <= len(e.text) for s in e.spans)


@pytest.mark.slow
def test_tagger_learns_spans_and_round_trips_through_save(tmp_path):
    from autoknow_rdf.stages.taxonomy.tagger import TitleExample

    text = "Acme Green Tea 20 bags"

    examples = [TitleExample(f"Brand{i} Green Tea {i} bags", (Span("TYPE", len(f"Brand{i} Green "), len(f"Brand{i} Green Tea")),))
                for i in range(60)]
    tagger = SpanTagger(["TYPE"], epochs=4, batch_size=8, lr=1e-4).fit(examples)
    (pred,) = tagger.predict([text])
    assert [text[s.start:s.end] for s in pred if s.label == "TYPE"] == ["Tea"]
    assert all(0 < s.score <= 1 for s in pred)
    tagger.save(tmp_path / "t")
    again = SpanTagger.load(tmp_path / "t")
    assert [(s.start, s.end) for s in again.predict([text])[0]] == [(s.start, s.end) for s in pred]
