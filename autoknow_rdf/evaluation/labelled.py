"""Labelled data sets shared by the evaluations: products with gold attribute values and spans
(OA-Mine, AE-110K, WDC-PAVE), their value-match scores, and in-memory stores of data folders.

Below the stages: imported by their evaluations (and the imputation stage's `score`), importing
no stage.
"""

from __future__ import annotations

import gzip
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ml.spans import Span, unescape_spans
from ..store import KnowledgeStore

__all__ = ["LabelledProduct", "normalise_value", "labelled_products", "value_scores", "evaluation_store", "ImplicitExample",
           "implicit_examples"]

LEFT_OUT = {"Product Type"}  # the taxonomy stage's label



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


def normalise_value(value: str) -> str:
    """The form values are compared in: case, spacing and edge punctuation do not count.

    >>> normalise_value("  Red  Patent, "), normalise_value("Women's")
    ('red patent', "women's")
    """
    return re.sub(r"\s+", " ", value).strip(" .,;:-()[]\"'").lower()


def labelled_products(data: Path) -> list[LabelledProduct]:
    """OA-Mine, AE-110K (entities decoded, offsets moved) and WDC-PAVE (titles and descriptions)."""
    from ..loaders.catalogue import extractgpt_titles, wdc_pave

    sources = [("oa-mine", p, extractgpt_titles) for p in sorted(data.glob("oa_mine_attributes/oa_mine_*.jsonl"))]
    sources += [("ae-110k", p, extractgpt_titles) for p in sorted(data.glob("ae_110k_attributes/ae_110k_*.jsonl"))]
    sources += [("wdc-pave", p, lambda path, scheme: wdc_pave(path)) for p in sorted(data.glob("wdc_pave_attributes/wdc_pave_train.jsonl"))]
    out = []
    for dataset, path, read in sources:
        for r in read(path, dataset):
            texts = {"title": r.title, **({"description": r.description} if r.description else {})}
            raw: dict[str, list[Span]] = defaultdict(list)
            gold: dict[str, set[str]] = defaultdict(set)
            for s in r.attributes:
                if s.attribute in LEFT_OUT:
                    continue
                gold[s.attribute].add(normalise_value(_decoded(s.value)))
                if s.start is not None and s.field in texts:
                    raw[s.field].append(Span(s.attribute, s.start, s.end))
            spans = {}
            for f, text in list(texts.items()):
                texts[f], spans[f] = text, raw.get(f, [])
                for _ in range(3):  # some titles are escaped twice ("&amp;amp")
                    decoded = unescape_spans(texts[f], spans[f])
                    if decoded[0] == texts[f]:
                        break
                    texts[f], spans[f] = decoded
            out.append(LabelledProduct(dataset, r.id, r.types[0].label or r.types[0].id, texts, spans, dict(gold)))
    return out


def _decoded(value: str) -> str:
    import html

    return html.unescape(html.unescape(value))


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


@dataclass(frozen=True)
class ImplicitExample:
    title: str
    type_name: str
    attribute: str
    value: str | None = None  # gold, when known


def implicit_examples(path: Path) -> tuple[list[ImplicitExample], list[ImplicitExample], dict[str, list[str]]]:
    """(train, val, options per domain-attribute) from implicitave_trainval.tsv(.gz)."""
    import csv
    import json

    opener = gzip.open if path.suffix == ".gz" else open
    train, val = [], []
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            e = ImplicitExample(row["texts"].removeprefix("[Title] ").strip(), row["category"],
                                f"{row['domain']}/{row['attribute_names']}", row["attribute_values"])
            (val if row["split"] == "val" else train).append(e)
    options: dict[str, set[str]] = defaultdict(set)
    files = {"Clothing": "Clothing_Shoes_and_Jewelry", "Footwear": "Clothing_Shoes_and_Jewelry",
             "Jewlery_and_General_Apparel": "Clothing_Shoes_and_Jewelry", "Food": "Food", "Home": "Home"}
    listed = path.parent / "implicitave_value_options.json"
    vocab = json.loads(listed.read_text(encoding="utf-8")) if listed.is_file() else {}
    for a in {e.attribute for e in train + val}:
        domain, attr = a.split("/", 1)
        options[a] |= set(vocab.get(f"options_{files.get(domain, '')}.json", {}).get(attr, []))
    for e in train:
        options[e.attribute].add(e.value)
    return train, val, {a: sorted(v) for a, v in options.items()}



def evaluation_store(data: Path | list[Path], patterns: tuple[str, ...]) -> KnowledgeStore:
    """An in-memory store holding the files of `data` (one or more shared/data-like folders) that match."""
    from ..ingest import ingest_many, plan

    files, _ = plan(data if isinstance(data, list) else [data])
    chosen = [(p, a) for p, a in files if any(p.match(pat) for pat in patterns)]
    store = KnowledgeStore()
    ingest_many(store, chosen)
    return store

