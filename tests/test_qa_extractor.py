"""The QA extractor's questions: bad attribute names and type strings are refused or cut with a
warning, never dropped; training asks answered and absent attributes."""

from __future__ import annotations

import logging

import pytest

from autoknow_rdf.ml.encoder import encoder_path
from autoknow_rdf.ml.spans import Span
from autoknow_rdf.stages.imputation.model import ValueExample
from autoknow_rdf.stages.imputation.qa import MAX_QUESTION_TOKENS, QAExtractor, question


@pytest.fixture(scope="module")
def extractor():
    x = QAExtractor(["Brand", "Flavor", "Size"])
    x._load(encoder_path())
    return x


def test_an_empty_attribute_name_is_refused():
    with pytest.raises(ValueError, match="no name to ask about"):
        question("coffee", " _- ")


def test_an_empty_type_is_asked_as_a_product():
    assert question("", "Brand") == "type: product ; attribute: brand"


def test_a_long_type_path_loses_its_root_words_and_keeps_the_attribute(extractor, caplog):
    path = " > ".join(f"Level{i} Things" for i in range(40)) + " > Ground Coffee"
    with caplog.at_level(logging.WARNING):
        q = extractor._question(path, "Roast Level")
    assert "longer than" in caplog.text
    assert len(extractor.tokenizer_(q, add_special_tokens=False)["input_ids"]) <= MAX_QUESTION_TOKENS
    assert q.endswith("ground coffee ; attribute: roast level")
    long_name = "very " * 60 + "long attribute"
    q = extractor._question("coffee", long_name)
    assert "attribute: very" in q and len(extractor.tokenizer_(q, add_special_tokens=False)["input_ids"]) <= MAX_QUESTION_TOKENS


def test_training_asks_the_answered_attributes_and_some_absent_ones(extractor):
    examples = [ValueExample("Acme Vanilla Ice Cream 16 oz", "t", (Span("Brand", 0, 4), Span("Flavor", 5, 12))),
                ValueExample("Zeta cookies", "t", (Span("Brand", 0, 4),), frozenset({"Brand"}))]
    asked = extractor.questions_for_training(examples, {"t": {"Brand", "Flavor", "Size"}}, {"t": "Frozen > Ice Cream"})
    first = [(q, spans) for q, text, spans in asked if text.startswith("Acme")]
    assert [q for q, _ in first] == ["type: frozen > ice cream ; attribute: brand", "type: frozen > ice cream ; attribute: flavor",
                                     "type: frozen > ice cream ; attribute: size"]
    assert first[2][1] == ()  # size is absent: every token O
    assert [q for q, text, _ in asked if text.startswith("Zeta")] == ["type: frozen > ice cream ; attribute: brand"]  # distant: known only
