"""Cleaning evaluation: does the cross-encoder tell a product's own values from planted wrong ones?

Valid values: the human-labelled values of OA-Mine, AE-110K and WDC-PAVE, ImplicitAVE's implied
values (rarely written in the title, so "not in the text" is no proof of error) and Open Food
Facts brands and quantities. All values are compared lower-cased, so case cannot give a planted
value away. Splits, by hash: 15% of product types are held out entirely ("types not trained
on"); of the rest, 20% of products are dev ("new titles of known types") and 10% calibrate the
operating threshold (the score below which 95% of valid calibration values fall, so at most
about 5% of correct values are quarantined). Each dev value gets one negative of each kind.
The catalogue's counts (the baselines and the stack's prior) are taken, as the cleaning
stage takes them, over the store being cleaned: every valid value the data give, a type the
model was not trained on included (its products are in the store), and the dev slices' wrong
values at the realistic rate, each count leaving the scored fact out. Baselines in the same run:
value-not-in-text (verbatim, and normalised: "1000 Gramm" says "1 kg"), 1 − the value's
frequency among its type's other values of the attribute,
and the value's rarity for the attribute over all types (a dictionary). The model is scored
alone and stacked with those signals (a logistic regression over its logit, the text and the
catalogue evidence (catalogue.py), fitted on the calibration values and their negatives, thresholds from its
cross-validated scores there: one for pairs whose type has other values of the attribute, one
from the copies with the type's prior masked for pairs whose type has none; the stack at the
first threshold alone, and the stack with every pair's type prior masked, as for a type with a
single product in the store, are rows of their own). Reported per negative kind (1:1 with the valid values) and at a
realistic 10% error rate (all kinds mixed). The labelled values the model quarantines are
listed too (`suspect labelled values`): some are real errors in the data, to be inspected.
"""

from __future__ import annotations

import functools
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...evaluation import pick
from ...ml.metrics import at_threshold, average_precision, roc_auc
from .catalogue import DISTANCE, Catalogue, Record
from .model import KINDS, Combiner, ValuePair, negatives, value_in_text
from ...values import mentions
from ...splits import bucket
from ...evaluation.labelled import labelled_products, normalise_value

__all__ = ["valid_pairs", "evaluate_cleaning", "evaluate", "dev_precision", "DATA_FILES"]

MAX_TRAIN_POSITIVES = 5000  # 2,500 measured title n-gram ROC-AUC 0.95 on new titles, 5,000 0.98 (seeds 0 and 1)
MAX_DEV_POSITIVES = 800
IMPLICIT_ROWS = 1500
TEXT_CHARS = 400  # title + the start of the description


def valid_pairs(data: Path) -> list[ValuePair]:
    """Every valid (text, attribute, value) the labelled data sets give, with its type key."""
    out = []
    for p in labelled_products(data):
        text = (p.texts["title"] + " " + p.texts.get("description", ""))[:TEXT_CHARS].strip()
        for a, values in sorted(p.gold.items()):
            for v in sorted(values):
                if v:
                    out.append(ValuePair(text, a, v, 0, "valid", p.type_key))
    implicit = next(iter(data.glob("implicitave_attributes/implicitave_trainval.tsv*")), None)
    if implicit is not None:
        from ...evaluation.labelled import implicit_examples

        train, val, _ = implicit_examples(implicit)
        rows = sorted(train + val, key=lambda e: bucket("clean" + e.title))[:IMPLICIT_ROWS]
        out += [ValuePair(e.title, e.attribute.split("/", 1)[1], normalise_value(e.value), 0, "valid", "implicitave:" + e.type_name)
                for e in rows]
    for path in sorted(data.glob("openfoodfacts_products/off_products.jsonl*")):
        from ...loaders.catalogue import off_products

        for r in off_products(path):
            if not r.title:
                continue
            key = "off:" + (r.types[-1].id if r.types else "none")
            for s in r.attributes:
                if s.attribute in ("brand", "quantity"):
                    out.append(ValuePair(r.title[:TEXT_CHARS], s.attribute, normalise_value(s.value), 0, "valid", key))
    return out


def _with_negatives(pairs: list[ValuePair], vocabulary: list[str], seed: int) -> list[ValuePair]:
    """Each valid pair and one negative per kind (another attribute's value, and another
    product's value of the attribute, from its type)."""
    by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for p in pairs:
        by_type[p.type_key].append((p.attribute, p.value))
    rng = random.Random(seed)
    out = []
    for p in pairs:
        others = sorted({v for a, v in by_type[p.type_key] if a != p.attribute})
        same = sorted({v for a, v in by_type[p.type_key] if a == p.attribute})[:50]
        out.append(p)
        out += negatives(p, rng, vocabulary, others, same)
    return out


def _record(p: ValuePair) -> Record:
    """A pair as the catalogue counts it: one product per (type, text)."""
    return Record(p.type_key + "\n" + p.text, (p.type_key,), p.attribute, p.value, p.text)


def _baselines(catalogue: Catalogue, row: Callable[[ValuePair], tuple[float, ...]]) -> dict[str, Callable[[ValuePair], float]]:
    """The named baselines and detectors; `row`: a pair's catalogue evidence (Catalogue.row)."""
    def not_in_text(p: ValuePair) -> float:  # case aside: planted n-grams keep the title's case
        return 0.0 if value_in_text(p.value, p.text) else 1.0

    def not_said(p: ValuePair) -> float:  # numbers, units and separators aside ("1000 Gramm" says "1 kg")
        return 0.0 if mentions(p.text, p.value) else 1.0

    def type_frequency(p: ValuePair) -> float:
        return 1.0 - row(p)[2]

    def attribute_frequency(p: ValuePair) -> float:  # a dictionary of the attribute's values, any type
        r = _record(p)
        v = p.value.lower()
        return 1.0 / (1 + catalogue.anywhere[(r.attribute, v)] - int(catalogue.facts[(r.item, r.attribute, v)] > 0))

    def quantity_distance(p: ValuePair) -> float:  # the stage's quantity detector: decades off the type's median
        return row(p)[DISTANCE]

    def mismatch(p: ValuePair) -> float:  # the share of the value's uses under another (non-twin) attribute
        return row(p)[7]

    return {"baseline: value not in text": not_in_text, "baseline: value not in text, normalised": not_said,
            "detector: quantity's distance to its type's median": quantity_distance,
            "detector: value mostly under another attribute": mismatch,
            "baseline: value frequency for the type": type_frequency,
            "baseline: value frequency for the attribute (any type)": attribute_frequency}


def _metrics(y: np.ndarray, s: np.ndarray, threshold: float) -> dict[str, float]:
    decide = s >= threshold  # a threshold per pair, or one for all
    kept = ~decide
    at = at_threshold(y, s, threshold)
    return {"ROC-AUC": roc_auc(y, s), "PR-AUC (wrong)": average_precision(y, s),
            "P (wrong)": at["precision"], "R (wrong)": at["recall"],
            "kept correct": float((y[kept] == 0).mean()) if kept.any() else 1.0,
            "correct quarantined": float(decide[y == 0].mean()) if (y == 0).any() else 0.0}


def _once_per_list(compute: Callable[[Any, list[ValuePair]], np.ndarray]) -> Callable[[Any, list[ValuePair]], np.ndarray]:
    """`compute(model, pairs)`, computed once per scored list; the list is kept with its result,
    so its id cannot be reused by a later list while the entry exists."""
    cache: dict[int, tuple[list[ValuePair], np.ndarray]] = {}

    def get(m, ps: list[ValuePair]) -> np.ndarray:
        if id(ps) not in cache:
            cache[id(ps)] = (ps, compute(m, ps))
        return cache[id(ps)][1]

    return get


DATA_FILES = ("oa_mine_attributes/*.jsonl", "ae_110k_attributes/*.jsonl", "wdc_pave_attributes/wdc_pave_train.jsonl",
              "implicitave_attributes/*.tsv*", "openfoodfacts_products/*.jsonl*")


def evaluate_cleaning(data: Path, epochs: int = 2, seed: int = 0, max_train: int = MAX_TRAIN_POSITIVES,
                      max_dev: int = MAX_DEV_POSITIVES, progress=None, test: Path | None = None,
                      model: Path | None = None, max_length: int = 128) -> dict[str, Any]:
    """`autoknow evaluate cleaning --data DIR`: the cross-encoder beside both baselines, same split;
    with `test`, trained and calibrated on `data` only and scored on the test folder's values
    (split into types the training data has and types it has not). `model`: a saved cleaning
    stage scored at its own threshold instead of training one."""
    from .model import ValueCleaner

    pairs = valid_pairs(Path(data))
    part = lambda p: bucket("clean" + p.type_key + p.text)  # noqa: E731
    if test is None:
        unseen_types = {k for k in {p.type_key for p in pairs} if bucket("type" + k) < 15}
        train = [p for p in pairs if p.type_key not in unseen_types and part(p) >= 30]
        calib = [p for p in pairs if p.type_key not in unseen_types and 20 <= part(p) < 30]
        dev = {"new titles, known types": [p for p in pairs if p.type_key not in unseen_types and part(p) < 20],
               "types not trained on": [p for p in pairs if p.type_key in unseen_types]}
    else:
        tested = valid_pairs(Path(test))
        unseen_types = {p.type_key for p in tested} - {p.type_key for p in pairs}
        train = [p for p in pairs if part(p) >= 10]
        calib = [p for p in pairs if part(p) < 10]
        dev = {"new titles, known types": [p for p in tested if p.type_key not in unseen_types],
               "types not trained on": [p for p in tested if p.type_key in unseen_types]}
    pick = lambda ps, n: sorted(ps, key=lambda p: bucket("pick" + p.text + p.attribute + p.value, 10**6))[:n]  # noqa: E731
    vocabulary = sorted({w.lower() for p in train for w in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", p.text)})
    train_pairs = _with_negatives(pick(train, max_train), vocabulary, seed)
    scored_of: dict[str, tuple[list[ValuePair], np.ndarray]] = {}  # per slice: its pairs, and its mix at a 10% error rate
    for slice_name, valid in dev.items():
        if valid:
            scored = _with_negatives(pick(valid, max_dev), vocabulary, seed + 1)
            y = np.array([p.wrong for p in scored])
            pos, neg = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
            pick_wrong = np.random.default_rng(seed).choice(neg, size=min(len(neg), max(1, len(pos) // 9)), replace=False)
            scored_of[slice_name] = (scored, np.concatenate([pos, pick_wrong]))
    # the store being cleaned: every valid value of the data (a new type's products too: the stage
    # reads them all) and the dev slices' wrong values at the realistic rate
    catalogue = Catalogue([_record(p) for p in pairs + (tested if test is not None else [])
                           + [s[i] for s, mix in scored_of.values() for i in mix if s[i].wrong]])
    # each pair's evidence, read once for the stack and the baselines (a pair depends on its fields only)
    row = functools.lru_cache(maxsize=None)(lambda p: tuple(catalogue.row(_record(p), p.text)))
    neural = _once_per_list(lambda m, ps: np.array(m.predict(ps)))  # the cross-encoder's scores
    features = _once_per_list(  # the stack's inputs, for its score and its per-pair cut
        lambda m, ps: Combiner.matrix(list(neural(m, ps)), [row(p) for p in ps]))
    stacked = lambda m, c, ps: c.predict(features(m, ps))  # noqa: E731
    # per method: its scorer and its threshold (a number, or per pair for the stack: a type without
    # the attribute in training takes the threshold of the masked held-in copies)
    models: dict[str, tuple[Callable[[list[ValuePair]], np.ndarray], Any]] = {}
    calib_scores, combiner = np.array([]), None
    if model is not None:
        from .stage import CleaningStage

        saved = CleaningStage.open(Path(model))
        if saved.combiner_ is not None:
            models["model: saved stage (cross-encoder + catalogue prior)"] = (
                lambda ps: stacked(saved.cleaner_, saved.combiner_, ps),
                lambda ps: Combiner.cut(features(saved.cleaner_, ps), saved.threshold_, saved.threshold_new_type_))
        else:
            models["model: saved cross-encoder"] = (lambda ps: neural(saved.cleaner_, ps), saved.threshold_)
    else:
        cleaner = ValueCleaner(epochs=epochs, seed=seed, max_length=max_length).fit(train_pairs, progress)
        checks = _with_negatives(pick(calib, max_dev), vocabulary, seed + 2)  # the combiner's held-in pairs
        y_calib = np.array([p.wrong for p in checks])
        calib_scores = neural(cleaner, checks)[y_calib == 0]
        models["model: cross-encoder"] = (lambda ps: neural(cleaner, ps),
                                          float(np.quantile(calib_scores, 0.95)) if len(calib_scores) else 0.5)
        if 0 < y_calib.sum() < len(y_calib):
            combiner = Combiner()
            oof, oof_masked = combiner.fit(features(cleaner, checks), y_calib, seed)
            known, new = Combiner.thresholds(oof, oof_masked, y_calib, 0.95)
            models["model: cross-encoder + catalogue prior (stacked)"] = (
                lambda ps: stacked(cleaner, combiner, ps), lambda ps: Combiner.cut(features(cleaner, ps), known, new))
            models["model: stacked, one threshold for all types"] = (lambda ps: stacked(cleaner, combiner, ps), known)
            models["model: stacked, the type's other values masked"] = (  # a type with no other product in the store
                lambda ps: combiner.predict(Combiner.masked(features(cleaner, ps))), new)
    primary = next(iter(models)) if len(models) == 1 else "model: cross-encoder + catalogue prior (stacked)"
    cut_of = lambda thr, ps: np.broadcast_to(np.asarray(thr(ps) if callable(thr) else thr, dtype=float), (len(ps),))  # noqa: E731
    baselines = _baselines(catalogue, row)
    def base_threshold(name: str, f: Callable[[ValuePair], float]) -> float:
        """Where 95% of the calibration values pass (a detector: of those it reads, a score above 0)."""
        s = [f(p) for p in calib]
        if name.startswith("detector"):
            s = [v for v in s if v > 0]
        return min(1e9 if name.startswith("detector") else 1.0, max(1e-9, float(np.quantile(s, 0.95)))) if s else 0.5

    base_thresholds = {name: base_threshold(name, f) for name, f in baselines.items()}

    rows, suspects = [], []
    for slice_name, (scored, realistic) in scored_of.items():
        y = np.array([p.wrong for p in scored])
        kinds = np.array([p.kind for p in scored])
        scores = {name: (f(scored), cut_of(thr, scored)) for name, (f, thr) in models.items()}
        for name, f in baselines.items():
            scores[name] = (np.array([f(p) for p in scored]), cut_of(base_thresholds[name], scored))
        model_s, model_cut = scores[primary]
        suspects += [{"slice": slice_name, "type": p.type_key, "attribute": p.attribute, "value": p.value,
                      "P(wrong)": float(s), "text": p.text[:160]}
                     for p, s, t in zip(scored, model_s, model_cut) if p.wrong == 0 and s >= t]
        # per kind at a 10% error rate: the valid values and a ninth as many of the kind's negatives
        rate_rng = np.random.default_rng(seed + 3)
        one_kind = {kind: np.concatenate([np.flatnonzero(y == 0), rate_rng.choice(
            np.flatnonzero(kinds == kind), size=min(int((kinds == kind).sum()), max(1, int((y == 0).sum()) // 9)),
            replace=False)]) for kind in KINDS if (kinds == kind).any()}
        for method, (s, thr) in scores.items():
            for kind in KINDS:
                idx = np.flatnonzero((kinds == kind) | (y == 0))
                rows.append({"slice": slice_name, "negatives": kind, "method": method, "ratio wrong:valid": "1:1",
                             **_metrics(y[idx], s[idx], thr[idx])})
                if kind in one_kind:
                    idx = one_kind[kind]
                    rows.append({"slice": slice_name, "negatives": f"{kind}, 10% error rate", "method": method,
                                 "ratio wrong:valid": "1:9", **_metrics(y[idx], s[idx], thr[idx])})
            rows.append({"slice": slice_name, "negatives": "all kinds, 10% error rate", "method": method,
                         "ratio wrong:valid": "1:9", **_metrics(y[realistic], s[realistic], thr[realistic])})
    suspects.sort(key=lambda r: -r["P(wrong)"])
    thresholds = {name: thr for name, (_, thr) in models.items() if not callable(thr)}
    if combiner is not None:
        thresholds["stacked, types with other values of the attribute"], thresholds["stacked, types without them"] = known, new
    return {"rows": rows, "thresholds": thresholds, "primary model": primary,
            "combiner": combiner.to_json() if combiner is not None else None, "suspect labelled values": suspects[:60],
            "baseline thresholds": base_thresholds,
            "train pairs": len(train_pairs), "calibration values": len(calib_scores),
            "dev values": {k: min(len(v), max_dev) for k, v in dev.items()}, "unseen types": len(unseen_types),
            "valid values available": len(pairs), "epochs": epochs}




# quick: 1 x 1,500 left the cross-encoder at ROC-AUC 0.53; 2 x 1,200 at 128 tokens took 6.9 min
# on 2 cores; the demo's 64 tokens and 1,000 values fit the 5 minutes
PROFILES = {"full": {}, "quick": {"epochs": 2, "max_train": 1000, "max_dev": 300, "max_length": 64}}


def evaluate(data: Path, test: Path | None = None, model: Path | None = None, profile: str = "full") -> dict[str, Any]:
    """The stage's protocol (`autoknow evaluate cleaning`)."""
    result = evaluate_cleaning(data, test=test, model=model, **PROFILES[profile])
    return {"tables": {"cleaning (dev)": result.pop("rows")}, "cleaning (dev)": result}


def dev_precision(tables: dict[str, list[dict]]) -> float | None:
    """The share of kept values that are correct, at a 10% error rate, for the model the stage runs."""
    methods = ("model: cross-encoder + catalogue prior (stacked)", "model: cross-encoder")  # what the stage runs first
    rows = tables.get("cleaning (dev)", [])
    row = next(filter(None, (pick(rows, slice="new titles, known types", negatives="all kinds, 10% error rate", method=m)
                             for m in methods)), None)
    return row and row.get("kept correct")
