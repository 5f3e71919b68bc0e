"""Type and attribute span tagging on titles: dev split, held-out type names, dictionary baseline.

Labels and where they come from:
  TYPE   WDC-PAVE "Product Type" values in titles (human) and OA-Mine titles where the product's
         own category name occurs (distant supervision from the type's name, as AutoKnow did)
  others OA-Mine / WDC-PAVE human attribute spans in titles, for the most frequent attributes
Dev: 20% of titles by a hash of the text. Unseen types: 30% of the distinct WDC-PAVE product-type
strings (by hash) are removed from the dictionary and from every training title, so the
"unseen" row measures types neither model nor dictionary was given.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from ...splits import bucket
from ...evaluation import sample
from ...ml.spans import Span
from .tagger import TitleExample, label_of, swap_type_names, type_spans

__all__ = ["tagging_examples", "dictionary_tagger", "span_scores", "evaluate_tagging"]

TOP_ATTRIBUTES = 8






def tagging_examples(data: Path, labels: list[str] | None = None) -> tuple[list[TitleExample], list[str], dict[str, str]]:
    """(examples, labels, provenance per example text: 'human' or 'distant') from OA-Mine + WDC-PAVE;
    the labels are the most frequent attributes, or the given `labels` (a test folder's titles
    are labelled with the training folder's labels)."""
    from ...loaders.catalogue import extractgpt_titles, wdc_pave

    records = []
    for path in sorted(data.glob("oa_mine_attributes/oa_mine_*.jsonl")):
        records += [("oa-mine", r) for r in extractgpt_titles(path, "oa-mine")]
    for path in sorted(data.glob("wdc_pave_attributes/wdc_pave_train.jsonl")):
        records += [("wdc-pave", r) for r in wdc_pave(path)]
    counts = Counter(s.attribute for _, r in records for s in r.attributes
                     if s.field == "title" and s.start is not None and s.attribute != "Product Type")
    top = {a for a, _ in counts.most_common(TOP_ATTRIBUTES)} if labels is None else {a for a in counts if label_of(a) in labels}
    examples, source = [], {}
    for origin, r in records:
        spans = [Span("TYPE" if s.attribute == "Product Type" else label_of(s.attribute), s.start, s.end)
                 for s in r.attributes if s.field == "title" and s.start is not None
                 and (s.attribute in top or s.attribute == "Product Type")]
        kind = "human"
        if origin == "oa-mine":
            distant = type_spans(r.title, [t.label for t in r.types if t.label])
            spans = [s for s in spans if not any(s.start < d.end and s.end > d.start for d in distant)] + distant
            kind = "human+distant" if distant else "human"
        examples.append(TitleExample(r.title, tuple(sorted(spans, key=lambda s: s.start))))
        source[r.title] = kind
    return examples, ["TYPE"] + sorted(label_of(a) for a in top), source


def dictionary_tagger(entries: dict[str, set[str]]):
    """The named baseline: longest case-insensitive whole-word matches of known strings.

    TYPE takes one span per title (the longest match, the rightmost on ties, as the head type
    usually ends a title phrase); other labels take every non-overlapping match.
    """
    patterns = {label: sorted((e for e in values if e.strip()), key=len, reverse=True) for label, values in entries.items()}
    compiled = {label: re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, ps)) + r")(?![A-Za-z0-9])", re.I)
                for label, ps in patterns.items() if ps}

    def tag(text: str) -> list[Span]:
        out = []
        for label, rx in compiled.items():
            found = [Span(label, m.start(), m.end()) for m in rx.finditer(text)]
            if label == "TYPE" and found:
                found = [max(found, key=lambda s: (s.end - s.start, s.start))]
            out += found
        return out

    return tag


def span_scores(gold: list[list[Span]], pred: list[list[Span]], labels: list[str]) -> dict[str, dict[str, float]]:
    """Exact-span precision, recall and F1 per label, plus micro over all labels."""
    out = {}
    for label in labels + ["micro"]:
        tp = fp = fn = 0
        for g, p in zip(gold, pred):
            gs = {(s.start, s.end) for s in g if label in (s.label, "micro") and (label != "micro" or True)}
            ps = {(s.start, s.end) for s in p if label in (s.label, "micro")}
            if label == "micro":
                gs = {(s.label, s.start, s.end) for s in g}
                ps = {(s.label, s.start, s.end) for s in p}
            tp += len(gs & ps)
            fp += len(ps - gs)
            fn += len(gs - ps)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out[label] = {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
                      "support": tp + fn}
    return out


def evaluate_tagging(data: Path, taxonomy_names: set[str] | None = None, epochs: int = 8, lr: float = 1e-4,
                     seed: int = 0, progress=None, test: Path | None = None, trained=None,
                     max_train: int | None = None, max_dev: int | None = None, swap_share: float = 0.0) -> dict[str, Any]:
    """Train the tagger on the training part, score it and the dictionary on dev, same run.

    `test`: train on every title of `data`, score on the titles of `test` (type names of the test
    folder that no training title has make the "never seen" slice). `trained`: a saved SpanTagger
    to score instead of training one (gold spans of labels it does not know are dropped).
    `swap_share`: that share of the training titles is added again with its type span replaced
    by a taxonomy name (`tagger.swap_type_names`; never a held-out one)."""
    from .tagger import SpanTagger

    examples, labels, source = tagging_examples(data, list(trained.labels) if trained is not None else None)
    if trained is not None:
        labels = list(trained.labels)
    wdc_types = {e.text[s.start:s.end].lower() for e in examples for s in e.spans if s.label == "TYPE" and source[e.text] == "human"}
    if test is None:
        held_out = {t for t in wdc_types if bucket("type:" + t) < 30}
        dev = [e for e in examples if bucket(e.text) < 20]
        train = [e for e in examples if bucket(e.text) >= 20
                 and not any(s.label == "TYPE" and e.text[s.start:s.end].lower() in held_out for s in e.spans)]
    else:
        known = {e.text[s.start:s.end].lower() for e in examples for s in e.spans if s.label == "TYPE"}
        dev, _, _ = tagging_examples(test, labels)
        held_out = {e.text[s.start:s.end].lower() for e in dev for s in e.spans if s.label == "TYPE"} - known
        train = examples
    train, dev = sample(train, max_train, lambda e: e.text), sample(dev, max_dev, lambda e: e.text)
    entries: dict[str, set[str]] = {label: set() for label in labels}
    for e in train:
        for s in e.spans:
            if s.label in entries:
                entries[s.label].add(e.text[s.start:s.end])
    entries["TYPE"] |= {n for n in (taxonomy_names or set())}
    entries["TYPE"] = {n for n in entries["TYPE"] if n.lower() not in held_out}
    baseline = dictionary_tagger(entries)
    if swap_share and trained is None:
        train = train + swap_type_names(train, sorted(entries["TYPE"]), swap_share, seed)
    tagger = trained or SpanTagger(labels, epochs=epochs, lr=lr, seed=seed).fit(train, progress)
    gold = [list(e.spans) for e in dev]
    preds = {"tagger": tagger.predict([e.text for e in dev]), "baseline: dictionary": [baseline(e.text) for e in dev]}
    unseen = [i for i, e in enumerate(dev) if any(s.label == "TYPE" and e.text[s.start:s.end].lower() in held_out for s in e.spans)]
    rows = []
    for method, pred in preds.items():
        scores = span_scores(gold, pred, labels)
        for label in ["TYPE", "micro"] + [l for l in labels if l != "TYPE"]:
            rows.append({"slice": "dev", "label": label, "method": method, **scores[label]})
        sub = span_scores([gold[i] for i in unseen], [pred[i] for i in unseen], ["TYPE"])["TYPE"]
        rows.append({"slice": "dev, type names never seen", "label": "TYPE", "method": method, **sub})
    return {"rows": rows, "train": len(train), "dev": len(dev), "unseen_dev": len(unseen), "labels": labels,
            "held_out_type_names": len(held_out), "label_sources": dict(Counter(source.values()))}
