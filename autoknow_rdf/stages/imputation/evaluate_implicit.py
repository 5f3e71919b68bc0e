"""ImplicitAVE evaluation: classify implied values over each attribute's options, upstream val split.

Train: a deterministic sample of the upstream train split (embedding every title costs minutes
on 2 cores); dev: the upstream val split (the human-verified test set is held out of shared/).
An attribute is keyed by domain (Home "Material" is not Jewelry "Material"). Baselines in the
same run: the most frequent value of the attribute for the product's category, and zero-shot
cosine between the title and each option's name.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable


from ...evaluation.labelled import implicit_examples
from .implicit import ImplicitValueClassifier
from ...splits import bucket

__all__ = ["evaluate_implicit"]

TRAIN_SAMPLE = 12_000



def evaluate_implicit(path: Path, embed: Callable | None = None, sample: int = TRAIN_SAMPLE,
                      max_val: int | None = None) -> dict[str, Any]:
    """The classifier with and without the type, beside both baselines, on the val split (a hash
    sample of `max_val` of it under the quick profile); {"skipped": why} when a split is empty."""
    from ...evaluation import sample as hash_sample
    from ...ml.encoder import embed as default_embed

    embed = embed or default_embed
    train, val, options = implicit_examples(path)
    if not train or not val:
        return {"skipped": f"implicit values: {path} has no {'train' if not train else 'val'} rows (split column)"}
    train = sorted(train, key=lambda e: bucket("implicit" + e.title))[:sample]
    val = hash_sample(val, max_val, lambda e: e.title + e.attribute)
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
    domains = sorted({a.split("/", 1)[0] for a in attrs})  # an implied value is read apart per domain
    for method, p in preds.items():
        acc = [float(q == e.value) for q, e in zip(p, val)]
        per_attr = [statistics.fmean(a for a, e in zip(acc, val) if e.attribute == at) for at in attrs]
        rows.append({"method": method, "accuracy": statistics.fmean(acc), "macro accuracy (attributes)": statistics.fmean(per_attr)}
                    | {f"{d} accuracy": statistics.fmean(a for a, e in zip(acc, val) if e.attribute.split("/", 1)[0] == d)
                       for d in domains})
    return {"rows": rows, "train": len(train), "val": len(val), "attributes": len(attrs)}
