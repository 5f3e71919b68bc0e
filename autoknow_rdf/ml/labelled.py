"""Labelled products and the scores of the values an extractor finds in them.

Shared by the imputation stage (`score` on the store's labelled spans) and the evaluations that
load labelled data sets (evaluation/labelled.py): a stage imports no evaluation code.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from .spans import Span

__all__ = ["LabelledProduct", "ImplicitExample", "normalise_value", "value_scores"]


@dataclass
class LabelledProduct:
    dataset: str
    id: str
    category: str
    texts: dict[str, str]  # field ("title", "description") -> text
    spans: dict[str, list[Span]] = field(default_factory=dict)  # field -> spans (label = attribute)
    gold: dict[str, set[str]] = field(default_factory=dict)  # attribute -> normalised values

    @property
    def type_key(self) -> str:
        return f"{self.dataset}:{self.category}"


@dataclass(frozen=True)
class ImplicitExample:
    title: str
    type_name: str
    attribute: str
    value: str | None = None  # gold, when known


def normalise_value(value: str) -> str:
    """The form values are compared in: case, spacing and edge punctuation do not count.

    >>> normalise_value("  Red  Patent, "), normalise_value("Women's")
    ('red patent', "women's")
    """
    return re.sub(r"\s+", " ", value).strip(" .,;:-()[]\"'").lower()


def value_scores(products: list[LabelledProduct], predicted: list[dict[str, list[Span]]],
                 seen: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Exact-span and value-match P/R/F1 (micro), value-match F1 per attribute and its macro mean.

    "value" is ExtractGPT's micro-F1 at its strict reading: a value predicted for an attribute
    the product has no gold value of is a false positive. "lenient" scores only the attributes
    the product has gold values of (what span-labelled data sets can vouch for: an unlabelled
    attribute may still be in the text). With `seen` (attribute -> normalised training values),
    recall is split into gold values training saw and values it never saw."""
    span = Counter()
    value = Counter()
    lenient = Counter()
    by_novelty = Counter()
    per_attr: dict[str, Counter] = defaultdict(Counter)
    for p, pred in zip(products, predicted):
        for f in p.texts:
            gs = {(s.label, s.start, s.end) for s in p.spans.get(f, [])}
            ps = {(s.label, s.start, s.end) for s in pred.get(f, [])}
            span.update(tp=len(gs & ps), fp=len(ps - gs), fn=len(gs - ps))
        found: dict[str, set[str]] = defaultdict(set)
        for f, spans in pred.items():
            for s in spans:
                found[s.label].add(normalise_value(p.texts[f][s.start:s.end]))
        for a in set(found) | set(p.gold):
            g, q = p.gold.get(a, set()), found.get(a, set())
            c = Counter(tp=len(g & q), fp=len(q - g), fn=len(g - q))
            value.update(c)
            per_attr[a].update(c)
            if g:
                lenient.update(c)
            if seen is not None:
                for v in g:
                    novelty = "seen" if v in seen.get(a, ()) else "unseen"
                    by_novelty.update({f"{novelty} gold": 1, f"{novelty} found": int(v in q)})

    def prf(c: Counter) -> dict[str, float]:
        prec = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        rec = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        return {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
                "support": c["tp"] + c["fn"]}

    attrs = {a: prf(c) for a, c in per_attr.items() if c["tp"] + c["fn"] > 0}
    recall = {n: by_novelty[f"{n} found"] / by_novelty[f"{n} gold"] if by_novelty[f"{n} gold"] else None
              for n in ("seen", "unseen")}
    return {"span": prf(span), "value": prf(value), "lenient": prf(lenient), "attributes": attrs,
            "macro_f1": statistics.fmean(a["f1"] for a in attrs.values()) if attrs else 0.0,
            "recall of seen values": recall["seen"], "recall of unseen values": recall["unseen"],
            "unseen share": by_novelty["unseen gold"] / (by_novelty["seen gold"] + by_novelty["unseen gold"])
            if by_novelty["seen gold"] + by_novelty["unseen gold"] else None}
