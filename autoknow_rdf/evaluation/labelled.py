"""Labelled data sets shared by the evaluations: products with gold attribute values and spans
(OA-Mine, AE-110K, WDC-PAVE), ImplicitAVE examples, and in-memory stores of data folders.

Imported by the stages' evaluations, never by a stage: the records and value-match scores a
stage needs too live in ml/labelled.py (re-exported here).
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from pathlib import Path

from ..ml.labelled import ImplicitExample, LabelledProduct, normalise_value, value_scores
from ..ml.spans import Span, unescape_spans
from ..store import KnowledgeStore

__all__ = ["LabelledProduct", "normalise_value", "labelled_products", "value_scores", "evaluation_store", "ImplicitExample",
           "implicit_examples"]

LEFT_OUT = {"Product Type"}  # the taxonomy stage's label



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

