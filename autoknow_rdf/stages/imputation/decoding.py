"""One text's value spans decoded together: what the extractor's per-attribute answers must agree
on before any of them becomes a fact.

The QA extractor and the tagger answer each attribute on its own (the QA extractor asks one
question per attribute), so nothing stops one span from answering two attributes ("Ginger" as a detergent's
scent and its color), a value named only to be denied ("Dairy Free" read as allergen "Dairy") or a
unit cut from its number ("Count" from "2 Count"). Decoding a text's spans together:
- **one span, one attribute**: where spans of two attributes overlap, the more confident keeps the
  words, unless the labelled data lets the two attributes share a value (`shared_attributes`:
  AE-110K labels a span with two attributes often enough to be learned, not assumed);
- **not denied**: a value followed by "free" / "-free", or right after "non", "no", "not",
  "without", "zero", "free from" or "free of" (past "added", "artificial" or "high" at most) within
  its phrase, is not present ("No Added Sugar"; the flavors of "No Sugar Vanilla", "Zero Sugar
  Cherry" and "Non-Fat Blueberry" stand);
- **whole**: a span that is only a unit of measure takes the number before it, or is dropped.
Measured beside the extractor alone in `autoknow evaluate imputation` (both rows from one pass).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from ...ml.spans import Span
from .model import keep_best_value

__all__ = ["shared_attributes", "one_attribute_per_span", "denied", "whole_quantity", "decode_text"]

MIN_SHARED = 3  # labelled spans two attributes must share before a value may answer both
SHARED_SHARE = 0.1  # ... and this share of the rarer attribute's labelled spans
_BEFORE = re.compile(r"\b(?:non|no|not|without|zero|free\s+(?:from|of))[\s-]+(?:(?:added|artificial|high)\s+)?$",
                     re.IGNORECASE)  # the next word only: "Non-Fat Blueberry", "Zero Sugar Cherry" are flavors
_AFTER = re.compile(r"^\s*-?\s*free\b(?!\s*(?:&|and\b|ship))", re.IGNORECASE)  # not "Free & Clear", "Free Ship"
_PHRASE_END = re.compile(r"[,;|()\[\]/]|\s-\s")
UNITS = frozenset("count ct oz ounce ounces fl floz lb lbs pound pounds gr gram grams kg mg ml liter liters litre "
                  "litres cl pack packs pk pcs".split())  # units of measure only ("Tablets" is an item form;
# no one-letter units: a size "L" with no number before it is a size, not a fragment of "2 L")
_NUMBER_BEFORE = re.compile(r"(\d+(?:[.,]\d+)?(?:\s*[x×]\s*\d+(?:[.,]\d+)?)?)\s*-?\s*$")


def shared_attributes(examples: Iterable) -> frozenset[frozenset[str]]:
    """Pairs of attributes whose labelled spans overlap in at least MIN_SHARED texts and
    SHARED_SHARE of the rarer one's spans: a value the data lets serve both.

    >>> from types import SimpleNamespace as E
    >>> ex = [E(spans=(Span("Flavor", 0, 5), Span("Scent", 0, 5))) for _ in range(3)] + [E(spans=(Span("Color", 0, 3),))]
    >>> sorted(sorted(p) for p in shared_attributes(ex))
    [['Flavor', 'Scent']]
    """
    spans: Counter = Counter()
    overlaps: Counter = Counter()
    for e in examples:
        for s in e.spans:
            spans[s.label] += 1
        pairs = {frozenset((a.label, b.label)) for a in e.spans for b in e.spans
                 if a.label != b.label and a.start < b.end and b.start < a.end}
        overlaps.update(pairs)
    return frozenset(p for p, n in overlaps.items()
                     if n >= MIN_SHARED and n >= SHARED_SHARE * min(spans[x] for x in p))


def one_attribute_per_span(spans: list[Span], shared: frozenset[frozenset[str]] = frozenset()) -> list[Span]:
    """Spans, most confident first, each kept unless it overlaps a kept span of another
    attribute that may not share a value with it.

    >>> one_attribute_per_span([Span("Color", 0, 6, 0.7), Span("Scent", 0, 6, 0.9), Span("Brand", 8, 12, 0.8)])
    [Span(label='Scent', start=0, end=6, score=0.9), Span(label='Brand', start=8, end=12, score=0.8)]
    """
    kept: list[Span] = []
    for s in sorted(spans, key=lambda s: (-s.score, s.start, s.label)):
        if not any(k.label != s.label and k.start < s.end and s.start < k.end and frozenset((k.label, s.label)) not in shared
                   for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: (s.start, s.label))


def denied(text: str, span: Span) -> bool:
    """Whether the text names the value to deny it: "Soy & Dairy Free" (dairy), "Non-GMO" (GMO),
    "No Sugar Added" (sugar), "free from gluten"; a value that carries the word itself
    ("Gluten-Free") is what it says.

    >>> t = "Soy & Dairy Free Almond Milk Yogurt, No Sugar Added, Gluten-Free, Non-Fat Blueberry, Zero Sugar Cherry"
    >>> [denied(t, Span("", t.index(w), t.index(w) + len(w))) for w in ("Dairy", "Milk", "Sugar", "Gluten-Free", "Blueberry",
    ...                                                                  "Cherry")]
    [True, False, True, False, False, False]
    >>> t = "No Added Sugar, Free from Artificial Colors"
    >>> [denied(t, Span("", t.index(w), t.index(w) + len(w))) for w in ("Sugar", "Colors")]
    [True, True]
    """
    before = text[:span.start]
    cut = max((m.end() for m in _PHRASE_END.finditer(before)), default=0)
    return bool(_BEFORE.search(before[cut:]) or _AFTER.match(text[span.end:]))


def whole_quantity(text: str, span: Span) -> Span | None:
    """A span that is only a unit of measure ("Count", "oz") with the number before it, or None
    when no number precedes it (a fragment); any other span as it is.

    >>> t = "Green Tea K-Cups, 24 Count"
    >>> whole_quantity(t, Span("Net Content", 21, 26)), whole_quantity("Count Chocula", Span("Net Content", 0, 5))
    (Span(label='Net Content', start=18, end=26, score=1.0), None)
    """
    if text[span.start:span.end].strip().lower().rstrip(".") not in UNITS:
        return span
    m = _NUMBER_BEFORE.search(text[:span.start])
    return Span(span.label, m.start(1), span.end, span.score) if m else None


def decode_text(text: str, spans: list[Span], shared: frozenset[frozenset[str]] = frozenset(),
                single: set[str] | frozenset[str] = frozenset()) -> list[Span]:
    """A text's spans, whole and not denied, each answering one attribute (unless `shared`); then a
    `single`-valued attribute's best value of those left (decoded first, so that a runner-up stands
    in for a best value the decoding removed)."""
    whole = [w for w in (whole_quantity(text, s) for s in spans if not denied(text, s)) if w is not None]
    return keep_best_value(text, one_attribute_per_span(whole, shared), set(single))
