"""A MiniLM cross-encoder that scores whether an attribute value is wrongly assigned to a product.

Input: `attribute: value` as the first segment and the product's text (title, then description)
as the second, truncated on the text side and padded to the batch's longest pair, not to a
fixed length (CPU time). Output: the probability that the value is wrong. Training pairs are
made by `negatives`: each valid value is kept as a positive and replaced, for the negatives, by a
random word, a random n-gram of the title, or another attribute's value (AutoKnow's recipe).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .cross_encoder import CrossEncoder

__all__ = ["ValuePair", "negatives", "ValueCleaner", "KINDS"]

KINDS = ("random word", "title n-gram", "other attribute's value")
_WORD = re.compile(r"[^\W_][\w'-]*", re.UNICODE)


@dataclass(frozen=True)
class ValuePair:
    text: str  # title (+ description)
    attribute: str  # attribute name, as a person would read it
    value: str
    wrong: int = 0  # 1: the value is not the product's
    kind: str = "valid"  # which negative recipe made it, or "valid"
    type_key: str = ""


def negatives(pair: ValuePair, rng: random.Random, vocabulary: list[str], other_values: list[str]) -> list[ValuePair]:
    """One negative of each kind for a valid pair (a kind is skipped when it cannot be made).

    >>> p = ValuePair("Lavazza Espresso Dark Roast Coffee 12 oz", "Brand", "Lavazza")
    >>> [(n.kind, n.value != "Lavazza") for n in negatives(p, random.Random(0), ["shampoo"], ["Dark Roast"])]
    [('random word', True), ('title n-gram', True), ("other attribute's value", True)]
    """
    out = []
    low = pair.value.lower()
    words = [w for w in vocabulary if w.lower() not in pair.text.lower()]
    if words:
        out.append(ValuePair(pair.text, pair.attribute, rng.choice(words), 1, KINDS[0], pair.type_key))
    tokens = _WORD.findall(pair.text)
    grams = [" ".join(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)]
    grams = [g for g in grams if g.lower() not in low and low not in g.lower()]
    if grams:
        out.append(ValuePair(pair.text, pair.attribute, rng.choice(grams), 1, KINDS[1], pair.type_key))
    others = [v for v in other_values if v.lower() != low]
    if others:
        out.append(ValuePair(pair.text, pair.attribute, rng.choice(others), 1, KINDS[2], pair.type_key))
    return out


class ValueCleaner(CrossEncoder):
    """Fine-tuned cross-encoder: P(value is wrong | attribute, value, product text)."""

    CONFIG_FILE = "cleaner.json"
    TRUNCATION = "only_second"

    def fit(self, pairs: list[ValuePair], progress=None) -> "ValueCleaner":
        self.fit_texts([f"{p.attribute}: {p.value}" for p in pairs], [p.text for p in pairs], [p.wrong for p in pairs], progress)
        return self

    def predict(self, pairs: list[ValuePair], batch_size: int = 128) -> list[float]:
        """P(wrong) per pair."""
        return self.predict_texts([f"{p.attribute}: {p.value}" for p in pairs], [p.text for p in pairs], batch_size)
