"""Imputation evaluation: the type-conditioned value tagger, the same tagger without the type,
and a dictionary, on dev splits carved from OA-Mine, AE-110K and WDC-PAVE; and ImplicitAVE.

Dev: whole types held out of training ("unseen types": per data set, types in hash order while
they hold at most 15% of its products), and 20% of the other products by a hash of data set +
title ("known types"). A product's type is its data set's category; the attributes allowed for
a known type are those labelled on its training products, for an unseen type those labelled on
its own products that training knows (standing in for the relations stage, which the stage
asks instead); an unseen type's gold values of attributes no training product has are left out
of its scores (no tagger can name them) and counted. WDC-PAVE's "Product Type" belongs to the
taxonomy stage and is left out. Scores:
  exact span   (text, attribute, start, end) against the human spans, titles and descriptions
  value match  (product, attribute, normalised value) as ExtractGPT scores: a value found at
               another offset counts, and gold values that are no span of the text are misses
Macro-F1 averages the value-match F1 over attributes with dev support: rare attributes count.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

from ...evaluation import pick, sample
from ...evaluation.labelled import LabelledProduct, labelled_products, value_scores
from .decoding import decode_text, shared_attributes
from .model import ValueExample, keep_best_value
from ...ml.spans import Span
from ...splits import bucket

__all__ = ["evaluate_imputation", "evaluate_value_tagging", "evaluate", "dev_precision", "DATA_FILES"]

SEEDS = (0, 1, 2)
EPOCHS = 5
QA_EPOCHS = 3
JOINT_EPOCHS = 8  # one pass a text: 8 epochs cost about what the QA extractor's 2 do (quick sizes: 157 s against 211 s)
QA_METHOD = "QA extractor (type + attribute as the question)"
QA_ALONE = "QA extractor, each span alone (no joint decoding)"
JOINT_METHOD = "one-pass extractor (every attribute in one question)"
HELD_OUT_SHARE = 0.15  # of a data set's products, whose types training never sees
SLICES = ("known types", "unseen types")



def _examples(products: list[LabelledProduct]) -> list[ValueExample]:
    return [ValueExample(text, p.type_key, tuple(sorted(p.spans.get(f, []), key=lambda s: s.start)))
            for p in products for f, text in p.texts.items()]



def dictionary_baseline(train: list[LabelledProduct], allowed: dict[str, set[str]] | None = None
                        ) -> Callable[[str, str], list[Span]]:
    """The named baseline: every training value of an attribute the type allows (`allowed`, by
    default the attributes of its training products), matched as a whole word anywhere in the
    text (longest first, no overlaps within an attribute)."""
    entries: dict[str, set[str]] = defaultdict(set)
    allowed = allowed_attributes(train) if allowed is None else allowed
    for p in train:
        for f, spans in p.spans.items():
            for s in spans:
                entries[s.label].add(p.texts[f][s.start:s.end])
    compiled = {a: re.compile(r"(?<![A-Za-z0-9])(" + "|".join(map(re.escape, sorted(v, key=len, reverse=True))) + r")(?![A-Za-z0-9])", re.I)
                for a, v in entries.items() if v}

    def tag(text: str, type_key: str) -> list[Span]:
        return [Span(a, m.start(), m.end()) for a in sorted(allowed.get(type_key, ())) if a in compiled
                for m in compiled[a].finditer(text)]

    return tag


def held_out_types(products: list[LabelledProduct], share: float = HELD_OUT_SHARE) -> set[str]:
    """Per data set, whole types in hash order while together they hold at most `share` of its
    products: types the tagger never sees, as a new type in a catalogue is."""
    held: set[str] = set()
    for ds in sorted({p.dataset for p in products}):
        sizes = Counter(p.type_key for p in products if p.dataset == ds)
        room = share * sum(sizes.values())
        for key in sorted(sizes, key=bucket):
            if sizes[key] <= room:
                held.add(key)
                room -= sizes[key]
    return held


def known_attributes_only(p: LabelledProduct, known: set[str]) -> LabelledProduct:
    """The product with only the spans and gold values of attributes in `known`."""
    return LabelledProduct(p.dataset, p.id, p.category, p.texts,
                           {f: [s for s in spans if s.label in known] for f, spans in p.spans.items()},
                           {a: v for a, v in p.gold.items() if a in known})


def allowed_attributes(products: list[LabelledProduct]) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = defaultdict(set)
    for p in products:
        allowed[p.type_key] |= {s.label for spans in p.spans.values() for s in spans}
    return dict(allowed)


def _per_product(products: list[LabelledProduct], flat: list[list[Span]]) -> list[dict[str, list[Span]]]:
    out, i = [], 0
    for p in products:
        out.append({f: flat[i + k] for k, f in enumerate(p.texts)})
        i += len(p.texts)
    return out


def _rows(dataset: str, method: str, s: dict[str, Any]) -> dict[str, Any]:
    return {"data set": dataset, "method": method, "span P": s["span"]["precision"], "span R": s["span"]["recall"],
            "span F1": s["span"]["f1"], "value P": s["value"]["precision"], "value R": s["value"]["recall"],
            "value F1": s["value"]["f1"], "lenient F1": s["lenient"]["f1"], "macro F1": s["macro_f1"],
            "R seen values": s["recall of seen values"], "R unseen values": s["recall of unseen values"]}


def evaluate_value_tagging(data: Path, seeds: tuple[int, ...] = SEEDS, epochs: int = EPOCHS,
                           embed: Callable | None = None, progress=None, test: Path | None = None,
                           trained=None, typed: tuple[bool, ...] = (True, False), qa: bool = True,
                           max_train: int | None = None, max_dev: int | None = None,
                           qa_epochs: int | None = None, joint: bool = True, joint_epochs: int | None = None) -> dict[str, Any]:
    """The QA extractor, the conditioned and unconditioned taggers (each over `seeds`) and the
    dictionary, same split (20% of `data` by hash, or every labelled product of the `test`
    folder); `trained`, a saved ValueTagger or QAExtractor, is scored instead of training any
    (its attributes only)."""
    from ...ml.encoder import embed as default_embed
    from .joint import JointExtractor
    from .model import ValueTagger
    from .qa import QAExtractor

    embed = embed or default_embed
    products = labelled_products(data)
    if test is None:
        held = held_out_types(products)
        dev = [p for p in products if p.type_key in held or bucket(p.dataset + p.texts["title"]) < 20]
        train = [p for p in products if p.type_key not in held and bucket(p.dataset + p.texts["title"]) >= 20]
    else:
        train, dev = products, labelled_products(test)
        products = train + dev
    train = sample(train, max_train, lambda p: p.dataset + p.texts["title"])
    dev = sample(dev, max_dev, lambda p: p.dataset + p.texts["title"])
    allowed = allowed_attributes(train)
    attributes = sorted({a for v in allowed.values() for a in v})
    trained_attributes = set(attributes)
    unseen = {p.type_key for p in dev} - {p.type_key for p in train}
    unknowable = sum(len(v) for p in dev if p.type_key in unseen for a, v in p.gold.items() if a not in trained_attributes)
    dev = [known_attributes_only(p, trained_attributes) if p.type_key in unseen else p for p in dev]
    allowed |= {k: a & trained_attributes for k, a in allowed_attributes([p for p in dev if p.type_key in unseen]).items()}
    keys = sorted({p.type_key for p in products})
    vectors = dict(zip(keys, embed([k.split(":", 1)[1] for k in keys])))
    examples = _examples(train)
    shared = shared_attributes(examples)
    dev_texts = [(t, p.type_key) for p in dev for t in p.texts.values()]
    datasets = sorted({p.dataset for p in dev})
    seen: dict[str, set[str]] = defaultdict(set)
    for p in train:
        for a, vs in p.gold.items():
            seen[a] |= vs

    runs: dict[str, list[dict[str, Any]]] = {}
    timings = {}
    if trained is not None:
        known = set(trained.attributes)
        flat = trained.predict([t for t, _ in dev_texts], [k for _, k in dev_texts], vectors,
                               {k: a & known for k, a in allowed.items()})
        runs["saved model" + (" (type-conditioned)" if trained.conditioned else "")] = [
            _score_slices(dev, _per_product(dev, flat), datasets, unseen, seen)]
    extractors = []  # (method, a fresh extractor for a seed, the method's row without joint decoding)
    if qa and trained is None:
        extractors.append((QA_METHOD, lambda seed: QAExtractor(attributes, epochs=qa_epochs or QA_EPOCHS, seed=seed), QA_ALONE))
    if joint and trained is None:
        extractors.append((JOINT_METHOD, lambda seed: JointExtractor(attributes, epochs=joint_epochs or JOINT_EPOCHS, seed=seed), None))
    texts = [t for t, _ in dev_texts]
    for method, make, alone in extractors:
        for seed in seeds:
            start = time.perf_counter()
            extractor = make(seed).fit(examples, None, allowed, progress)
            timings[f"{method} seed {seed} train s"] = time.perf_counter() - start
            start = time.perf_counter()
            flat = extractor.predict(texts, [k for _, k in dev_texts], None, allowed, best_only=False)
            timings[f"{method} seed {seed} predict s"] = time.perf_counter() - start
            single = extractor.single_valued_
            decoded = [decode_text(t, f, shared, single) for t, f in zip(texts, flat)]
            runs.setdefault(method, []).append(_score_slices(dev, _per_product(dev, decoded), datasets, unseen, seen))
            if alone:
                each = [keep_best_value(t, f, single) for t, f in zip(texts, flat)]
                runs.setdefault(alone, []).append(_score_slices(dev, _per_product(dev, each), datasets, unseen, seen))
    for conditioned in (() if trained is not None else typed):
        method = "tagger + type" if conditioned else "tagger, no type (OpenTag-style)"
        for seed in seeds:
            start = time.perf_counter()
            tagger = ValueTagger(attributes, conditioned=conditioned, epochs=epochs, seed=seed).fit(
                examples, vectors, allowed, progress)
            timings[f"{method} seed {seed} train s"] = time.perf_counter() - start
            flat = tagger.predict([t for t, _ in dev_texts], [k for _, k in dev_texts], vectors, allowed)
            runs.setdefault(method, []).append(_score_slices(dev, _per_product(dev, flat), datasets, unseen, seen))
    baseline = dictionary_baseline(train, allowed)
    flat = [baseline(t, k) for t, k in dev_texts]
    runs["baseline: dictionary"] = [_score_slices(dev, _per_product(dev, flat), datasets, unseen, seen)]

    rows, per_attribute = [], []
    for sl in SLICES:
        for method, scored in runs.items():
            for ds in [d for d in datasets + ["all"] if d in scored[0][sl]]:
                seeds_rows = [_rows(ds, method, s[sl][ds]) for s in scored]
                row = {"slice": sl} | {k: _mean([r[k] for r in seeds_rows]) for k in seeds_rows[0]}
                row["value F1 sd"] = statistics.stdev(r["value F1"] for r in seeds_rows) if len(seeds_rows) > 1 else None
                row["seeds"] = len(seeds_rows)
                rows.append(row)
                for a, m in scored[0][sl][ds]["attributes"].items():
                    if ds != "all":
                        f1s = [s[sl][ds]["attributes"].get(a, {"f1": 0.0})["f1"] for s in scored]
                        per_attribute.append({"slice": sl, "data set": ds, "attribute": a, "method": method,
                                              "support": m["support"], "value F1": statistics.fmean(f1s)})
    return {"rows": rows, "per_attribute": per_attribute, "train_products": len(train), "dev_products": len(dev),
            "train_texts": len(examples), "attributes": len(attributes), "types": len(keys), "epochs": epochs,
            "seeds": list(seeds), "timings": timings, "unseen_types": sorted(unseen),
            "unseen_gold_values_of_untrained_attributes": unknowable,
            "dev_by_dataset": {sl: dict(Counter(p.dataset for p in dev if _slice(p, unseen) == sl)) for sl in SLICES}}


def _slice(p: LabelledProduct, unseen: set[str]) -> str:
    return SLICES[1] if p.type_key in unseen else SLICES[0]


def _mean(values: list) -> Any:
    """The mean of a column's numbers over seeds (None where no seed has one); text as it is."""
    if isinstance(values[0], str):
        return values[0]
    numbers = [v for v in values if v is not None]
    return statistics.fmean(numbers) if numbers else None


def _score_slices(dev: list[LabelledProduct], pred: list[dict[str, list[Span]]], datasets: list[str],
                  unseen: set[str], seen: dict[str, set[str]] | None = None) -> dict[str, dict[str, Any]]:
    """Scores per slice (known / unseen types), per data set and over all; empty parts are left out."""
    out: dict[str, dict[str, Any]] = {}
    for sl in SLICES:
        pairs = [(p, q) for p, q in zip(dev, pred) if _slice(p, unseen) == sl]
        out[sl] = {ds: value_scores(*zip(*part), seen=seen) for ds in datasets
                   if (part := [(p, q) for p, q in pairs if p.dataset == ds])}
        if pairs:
            out[sl]["all"] = value_scores(*zip(*pairs), seen=seen)
    return out


DATA_FILES = ("oa_mine_attributes/*.jsonl", "ae_110k_attributes/*.jsonl", "wdc_pave_attributes/wdc_pave_train.jsonl",
              "implicitave_attributes/*.tsv*")


def _has_spans(folder: Path) -> bool:
    return any(any(folder.glob(pat)) for pat in DATA_FILES[:3])


def evaluate_imputation(data: Path, seeds: tuple[int, ...] = SEEDS, epochs: int = EPOCHS, test: Path | None = None,
                        model: Path | None = None, tagging_sizes: dict[str, Any] | None = None,
                        implicit_sizes: dict[str, int] | None = None) -> dict[str, Any]:
    """`autoknow evaluate imputation --data DIR` (dev carved from DIR) or `--train DIR --test DIR`:
    value tagging tables, and implicit values (ImplicitAVE: with --data only, on its val split).
    `model`: a saved imputation stage whose tagger is scored instead of training taggers."""
    from .evaluate_implicit import evaluate_implicit

    data = Path(data)
    result: dict[str, Any] = {"tables": {}, "skipped": []}
    if _has_spans(data) and (test is None or _has_spans(Path(test))):
        trained = None
        if model is not None:
            from .stage import ImputationStage

            trained = ImputationStage.open(Path(model)).extractor_
        tag = evaluate_value_tagging(data, seeds, epochs, test=test, trained=trained, **(tagging_sizes or {}))
        result["tables"]["value tagging (dev)"] = tag.pop("rows")
        rare = [r for r in tag["per_attribute"] if r["support"] >= 5]
        result["tables"]["value F1 per attribute (support >= 5)"] = sorted(rare, key=lambda r: (r["slice"], r["data set"], r["attribute"], r["method"]))
        result["value tagging (dev)"] = {k: v for k, v in tag.items() if k != "per_attribute"}
        result["per_attribute"] = tag["per_attribute"]
    elif test is not None:
        result["skipped"].append("value tagging: no OA-Mine, AE-110K or WDC-PAVE file in both folders")
    implicit = next(iter(data.glob("implicitave_attributes/implicitave_trainval.tsv*")), None)
    if implicit is not None and test is not None:
        result["skipped"].append("implicit values: scored on ImplicitAVE's own val split, only with --data")
    elif implicit is not None and model is not None:
        result["skipped"].append("implicit values: the saved imputation stage holds no implicit-value classifier")
    elif implicit is not None:
        imp = evaluate_implicit(implicit, **(implicit_sizes or {}))
        if "skipped" in imp:
            result["skipped"].append(imp["skipped"])
        else:
            result["tables"]["implicit values (ImplicitAVE val)"] = imp.pop("rows")
            result["implicit values (ImplicitAVE val)"] = imp
    return result




# quick: one seed of the QA extractor and of the tagger without the type input beside the
# dictionary, on 600 training and 400 dev products (the QA extractor asks every applicable
# attribute of a text: about 8 forward passes where the tagger makes one)
PROFILES = {"full": {}, "quick": {"seeds": (0,), "epochs": 5, "implicit_sizes": {"sample": 2000, "max_val": 3000},
                                  "tagging_sizes": {"typed": (False,), "max_train": 600, "max_dev": 400, "qa_epochs": 2}}}


def evaluate(data: Path, test: Path | None = None, model: Path | None = None, profile: str = "full") -> dict[str, Any]:
    """The stage's protocol (`autoknow evaluate imputation`)."""
    return evaluate_imputation(data, test=test, model=model, **PROFILES[profile])


def dev_precision(tables: dict[str, list[dict]]) -> float | None:
    row = pick(tables.get("value tagging (dev)", []), slice="known types", **{"data set": "all", "method": QA_METHOD})
    return row and row.get("value P")
