"""What the catalogue says of a value, as evidence for or against it: the cleaning stack's inputs.

A wrong value rarely looks wrong on its own; it looks wrong beside the rest of the catalogue.
`Catalogue` counts every value fact of the store being cleaned (ingested or imputed) and reads
a value against them, leaving the scored fact itself out:

- the product's text says it, verbatim or in a normal form ("1000 Gramm" for "1 kg": values.py);
- the type's other products carry it (a brand many seasonings have is a seasoning brand);
- other types' products carry it for this attribute, or for another one ("Black" is mostly a
  color: as a flavor it is likely misplaced);
- a quantity sits inside its type's distribution (a 5000 g Tic Tac does not);
- it is a fragment of a longer value the catalogue knows and the text holds ("Place Roast" of
  "Pike Place Roast").

`row` returns the numbers the stack weighs; `explain` turns them into the words a reviewer
reads beside a quarantine.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from ...values import in_grams_or_ml, mentions, normal_value, quantities, quantity, value_in_text
from ...vocab import slug

__all__ = ["Record", "Catalogue", "FEATURES", "TYPE_COLUMNS", "DISTANCE", "RANGED", "explain", "said_by_text"]

FEATURES = ("value in the text", "value in the text, normalised", "share of the type's other products with it",
            "the type has the attribute elsewhere", "log the type's other products with it",
            "log other types' products with it for the attribute", "log products with it for another attribute",
            "share of its uses under another attribute", "quantity: |log10 ratio| to the type's median",
            "a quantity the type has a range for", "a fragment of a longer known value in the text",
            "not in the text, by the share of the attribute's values their text says")
# what a type the catalogue holds no other values of lacks (masked in training copies); the
# range's column keeps a quantity's distance apart from being a quantity at all (measured: without
# it the distance weighed against a wrong value, as quantities are more often right than a fragment)
TYPE_COLUMNS = (2, 3, 4, 8, 9)
DISTANCE, RANGED = 8, 9  # the quantity detector's columns: its score, and whether it reads the value at all
MIN_QUANTITIES = 5  # other quantities of a (type, attribute, unit) before its median is trusted


@dataclass(frozen=True)
class Record:
    """One value fact as the catalogue counts it."""

    item: str  # the product (any key that is one product's)
    types: tuple[str, ...]
    attribute: str
    value: str
    text: str = ""  # the product's text, where the record's attribute's habit of being written counts


def _key(value: str) -> str:
    return value.lower()


def _phrases(words: list[str]) -> set[str]:
    """Every proper run of consecutive words (the fragments a truncation leaves)."""
    n = len(words)
    return {"-".join(words[i:j]) for i in range(n) for j in range(i + 1, n + 1) if j - i < n}


class Catalogue:
    """Counts of every value fact of the store being cleaned."""

    def __init__(self, records: list[Record]):
        self.facts = Counter((r.item, r.attribute, _key(r.value)) for r in records)
        self.slots = Counter((r.item, r.attribute) for r in records)
        self.values, self.totals, self.in_type = Counter(), Counter(), Counter()
        self.anywhere = Counter((r.attribute, _key(r.value)) for r in records)
        self.any_attribute = Counter(_key(r.value) for r in records)
        self.amounts: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        self.longer: dict[tuple[str, str], set[str]] = defaultdict(set)  # (attribute, fragment slug) -> longer values
        for r in records:
            v = _key(r.value)
            for t in r.types:
                self.values[(t, r.attribute, v)] += 1
                self.totals[(t, r.attribute)] += 1
                self.in_type[(t, v)] += 1
                for amount, unit in self._quantities(r.value):
                    self.amounts[(t, r.attribute, unit)].append(amount)
        for (attribute, v) in self.anywhere:
            words = slug(v).split("-")
            if 1 < len(words) <= 6:
                for fragment in _phrases(words):
                    self.longer[(attribute, fragment)].add(v)
        self.amounts = {k: sorted(v) for k, v in self.amounts.items()}
        said, texts = Counter(), Counter()
        for r in records:
            if r.text:
                texts[r.attribute] += 1
                said[r.attribute] += mentions(r.text, r.value)
        # how often the attribute's values are written in their product's text (a title attribute: a
        # value it does not say is suspect; a brand of a food: often not)
        self.said = {a: said[a] / n for a, n in texts.items()}
        # attributes that share their values (quantity and net content, age and age range) are one
        # kind of attribute: a value used under its twin is not misplaced
        normal: dict[str, set[str]] = defaultdict(set)
        for (attribute, v) in self.anywhere:
            normal[attribute].add(normal_value(v))
        self.uses: dict[str, Counter] = defaultdict(Counter)  # value -> attribute -> facts
        for (attribute, v), n in self.anywhere.items():
            self.uses[v][attribute] += n
        self._normal = normal
        # the share of each attribute's values that hold an amount
        self._amounts = {a: sum(bool(quantities(v)) or quantity(v) is not None for v in vs) / max(1, len(vs))
                         for a, vs in normal.items()}
        self._twins: dict[tuple[str, str], float] = {}

    @staticmethod
    def _quantities(value: str) -> list[tuple[float, str]]:
        q = quantity(value)
        return [in_grams_or_ml(q)] if q is not None else [in_grams_or_ml(x) for x in quantities(value)[:1]]

    def row(self, r: Record, text: str) -> list[float]:
        """The evidence on `r` (one column per FEATURES name; counts as log(1 + n)): every count
        leaves `r` itself out when the catalogue holds it, so a planted value and a real one are
        counted alike (and the type's other values are those of its other products). Over several types, the fullest type speaks; "other types" leave it out."""
        v = _key(r.value)
        own = int(self.facts[(r.item, r.attribute, v)] > 0)
        slot = int(self.slots[(r.item, r.attribute)] > 0)  # a planted value replaces the product's own
        share, typed, count, same_type, same_type_any = 0.0, 0.0, 0, own, own
        for t in r.types:
            same_type = max(same_type, self.values[(t, r.attribute, v)])
            same_type_any = max(same_type_any, self.in_type[(t, v)])
            others = self.totals[(t, r.attribute)] - slot
            if others > 0:
                typed = 1.0
                share = max(share, (self.values[(t, r.attribute, v)] - own) / others)
                count = max(count, self.values[(t, r.attribute, v)] - own)
        here = max(0, self.anywhere[(r.attribute, v)] - same_type)  # other types only, as a new type sees it
        elsewhere = max(0, self.any_attribute[v] - same_type_any - here)
        uses_here = self.anywhere[(r.attribute, v)] - own
        uses_other = sum(n * (1 - self.twin(r.attribute, a)) for a, n in self.uses.get(v, {}).items() if a != r.attribute)
        mismatch = uses_other / (uses_here + uses_other + 1)
        verbatim, said = float(value_in_text(v, text)), float(mentions(text, r.value))
        return [verbatim, said, share, typed, math.log1p(count), math.log1p(here), math.log1p(elsewhere), mismatch,
                *self.distance(r, own), float(self._fragment(r, text) is not None),
                self.said.get(r.attribute, 0.0) * (1 - max(verbatim, said))]

    def twin(self, a: str, b: str) -> float:
        """How much two attributes are one: 1 for two attributes of quantities (most of their
        values hold an amount: quantity, net content ("Pack of 2", "1.8 OZ (52 g)"), volume); else the share of the smaller one's
        normalised values the other has too (age and age range share most; flavor and color a few)."""
        key = (a, b) if a < b else (b, a)
        if key not in self._twins:
            x, y = self._normal.get(a, set()), self._normal.get(b, set())
            amounts = min(self._amounts.get(a, 0.0), self._amounts.get(b, 0.0))
            self._twins[key] = 1.0 if amounts >= 0.5 else len(x & y) / max(1, min(len(x), len(y)))
        return self._twins[key]

    def _nearest_range(self, r: Record, own: int) -> tuple[float, float, str] | None:
        """(|log10(amount / median)|, median, unit) against the other quantities of the attribute,
        in one unit, of the product's type the value fits best (a product of cheddar slices is
        also a dairy, whose range is wide: a value must be off for every type to be off); None
        where the value is no quantity or no type has MIN_QUANTITIES others. `own`: leave one
        instance of the value out of the range (the catalogue holds it)."""
        found = []
        for amount, unit in self._quantities(r.value):
            for t in r.types:
                others = list(self.amounts.get((t, r.attribute, unit), ()))
                if own and amount in others:
                    others.remove(amount)
                if len(others) >= MIN_QUANTITIES and amount > 0:
                    median = float(np.median(others))
                    if median > 0:
                        found.append((abs(math.log10(amount / median)), median, unit))
        return min(found) if found else None

    def distance(self, r: Record, own: int | None = None) -> tuple[float, float]:
        """The quantity detector's columns: the distance to the nearest type's median (0 without
        a range), and whether there was a range (1.0 or 0.0). `own` defaults to whether the
        catalogue holds `r`."""
        if own is None:
            own = int(self.facts[(r.item, r.attribute, _key(r.value))] > 0)
        nearest = self._nearest_range(r, own)
        return (nearest[0], 1.0) if nearest else (0.0, 0.0)

    def median(self, r: Record) -> tuple[float, str] | None:
        """The median quantity of the attribute, in the value's unit, of the type the value fits best (for the reviewer)."""
        nearest = self._nearest_range(r, 0)
        return nearest[1:] if nearest else None

    def _fragment(self, r: Record, text: str) -> str | None:
        """A longer value of the attribute, known on another product, that contains this one and
        that the text holds, where no other product has this one for the attribute: the value is
        a fragment of it. ("Bags" beside a known "Tea Bags" is a value of its own when other
        products carry it: audited, such short forms were right far more often than not; nor is a
        quantity with its unit, which audited right where a longer known value held it.)"""
        v = _key(r.value)
        if self.anywhere[(r.attribute, v)] - self.facts[(r.item, r.attribute, v)] > 0 or self._quantities(r.value):
            return None  # (a quantity with its unit is whole: "30ml" in a known "1 fl oz (30ml)" is this pack's)
        for longer in sorted(self.longer.get((r.attribute, slug(r.value)), ())):
            others = self.anywhere[(r.attribute, longer)] - self.facts[(r.item, r.attribute, longer)]
            if others > 0 and mentions(text, longer):
                return longer
        return None

    def explain(self, r: Record, text: str, row: list[float]) -> str:
        """The evidence in words, for the quarantine's reason."""
        return explain(row, normal_value(r.value), self._fragment(r, text) if row[10] else None,
                       self.median(r) if row[DISTANCE] else None)


def said_by_text(row: list[float]) -> bool:
    """Whether the text says the value (verbatim or normalised) in its own attribute (at most half
    its catalogue uses are under another): such a value is the product's by its own words, and
    cleaning keeps it whatever the score. (A fragment of a longer known value is kept too:
    audited, "Yogi" beside a known "Yogi Tea", "Bags" beside "Tea Bags" were right values.)

    >>> said_by_text([0, 1, 0, 1, 0, 0, 0, 0.1, 0, 0, 1, 0]), said_by_text([1, 1, 0, 1, 0, 0, 0, 0.9, 0, 0, 0, 0])
    (True, False)
    """
    return bool((row[0] or row[1]) and row[7] <= 0.5)


def explain(row: list[float], normal: str, fragment: str | None = None, median: tuple[float, str] | None = None) -> str:
    """The evidence of `row` (Catalogue.row) in words.

    >>> explain([0, 0, 0.0, 1, 0.0, 0.0, 1.1, 0.9, 0.0, 0.0, 0.0, 0.2], "black")
    "not in the text (normalised 'black'); none of the type's other products has it; 0 products of other types have it for this attribute, 2 for another; 90% of its uses are under another attribute"
    """
    said = "in the text" if row[0] else "in the text once normalised" if row[1] else "not in the text"
    out = [f"{said} (normalised '{normal}')"]
    if row[3]:
        n = round(math.expm1(row[4]))
        out.append(f"{n} of the type's other products have it ({row[2]:.0%})" if n else "none of the type's other products has it")
    out.append(f"{round(math.expm1(row[5]))} products of other types have it for this attribute, "
               f"{round(math.expm1(row[6]))} for another")
    if row[7] >= 0.5:
        out.append(f"{row[7]:.0%} of its uses are under another attribute")
    if row[DISTANCE] and median:
        out.append(f"10^{row[DISTANCE]:.1f} times off the type's median of {median[0]:g} {median[1]}")
    if fragment:
        out.append(f"a fragment of '{fragment}', which the text holds")
    if row[11] >= 0.5:
        out.append(f"the attribute's values are mostly written in their text ({row[11]:.0%})")
    return "; ".join(out)
