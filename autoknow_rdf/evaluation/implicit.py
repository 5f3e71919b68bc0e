"""ImplicitAVE evaluation: classify implied values over each attribute's options, upstream val split.

Train: a deterministic sample of the upstream train split (embedding every title costs minutes
on 2 cores); dev: the upstream val split (the human-verified test set is held out of shared/).
An attribute is keyed by domain (Home "Material" is not Jewelry "Material"). Baselines in the
same run: the most frequent value of the attribute for the product's category, and zero-shot
cosine between the title and each option's name.
"""

from __future__ import annotations

import gzip
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable


from ..models.implicit import ImplicitExample, ImplicitValueClassifier
from ..splits import bucket

__all__ = ["implicit_examples", "evaluate_implicit"]

TRAIN_SAMPLE = 12_000


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


def evaluate_implicit(path: Path, embed: Callable | None = None, sample: int = TRAIN_SAMPLE) -> dict[str, Any]:
    from ..models.encoder import embed as default_embed

    embed = embed or default_embed
    train, val, options = implicit_examples(path)
    train = sorted(train, key=lambda e: bucket("implicit" + e.title))[:sample]
    preds: dict[str, list[str | None]] = {}
    for conditioned in (True, False):
        model = ImplicitValueClassifier(conditioned=conditioned).fit(train, embed)
        preds["classifier + type" if conditioned else "classifier, title only"] = [v for v, _ in model.predict(val, embed)]
    majority: dict[tuple[str, str], Counter] = defaultdict(Counter)
    overall: dict[str, Counter] = defaultdict(Counter)
    for e in train:
        majority[(e.type_name, e.attribute)][e.value] += 1
        overall[e.attribute][e.value] += 1
    preds["baseline: category majority"] = [
        (majority.get((e.type_name, e.attribute)) or overall.get(e.attribute) or Counter({None: 1})).most_common(1)[0][0] for e in val]
    names = sorted({o for a in options.values() for o in a})
    vec = dict(zip(names, embed(names)))
    titles = embed([e.title for e in val])
    zero = []
    for e, t in zip(val, titles):
        opts = options.get(e.attribute, [])
        zero.append(max(opts, key=lambda o: float(vec[o] @ t)) if opts else None)
    preds["baseline: zero-shot cosine"] = zero
    rows = []
    attrs = sorted({e.attribute for e in val})
    for method, p in preds.items():
        acc = [float(q == e.value) for q, e in zip(p, val)]
        per_attr = [statistics.fmean(a for a, e in zip(acc, val) if e.attribute == at) for at in attrs]
        rows.append({"method": method, "accuracy": statistics.fmean(acc), "macro accuracy (attributes)": statistics.fmean(per_attr),
                     "food accuracy": statistics.fmean([a for a, e in zip(acc, val) if e.attribute.startswith("Food/")] or [0.0])})
    return {"rows": rows, "train": len(train), "val": len(val), "attributes": len(attrs)}
