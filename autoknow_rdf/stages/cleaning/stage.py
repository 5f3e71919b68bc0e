"""Stage 6, cleaning: score every product attribute value and quarantine the misassigned ones.

`read` gathers every value fact not quarantined yet (ingested or imputed), with the product's
text, types and the fact's source. `fit` trains the cross-encoder (model.py) on values that
recur across products of a type (AutoKnow's "frequent valid pairs": a value many products of a
type share is rarely an error) against planted negatives of six kinds; on held-in products it
fits the combiner (the cross-encoder's logit and the catalogue's evidence, catalogue.py) and,
per attribute, the gate on quarantine precision at a 10% error rate (held-in values against
planted wrong ones weighted down to that rate): an attribute whose valid values often look
wrong (brands missing from food titles) cannot reach the target and quarantines nothing. The
quantity detector (a quantity's distance to its type's median) is gated apart, on every ingested
quantity with a range against its slips. `predict` quarantines a fact whose calibrated P(wrong)
passes its attribute's gate or the detector's, unless the text says the value in its own
attribute: an `ak:Quarantine` node names the fact as a triple term with the score and the
reason (the evidence in words); the fact stays where it was asserted (see quarantine.py for
review and the default view).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyoxigraph import Literal, NamedNode, Triple

from .catalogue import DISTANCE, RANGED, Catalogue, Record, said_by_text
from .model import KINDS, ValuePair, negatives
from ...ml.metrics import roc_auc
from ...provenance import Evidence, Fact
from ...splits import bucket
from ...store import KnowledgeStore
from ...vocab import AK, RDF, quarantine_iri
from ..base import Stage

__all__ = ["CleaningStage", "CleaningInputs", "read_inputs"]

MODEL_NAME = "autoknow-value-cleaner"
MODEL_VERSION = "0.6.3"  # 0.6.3: a quantity with its unit is never a fragment, a fragment the text says is kept (audited); 0.6.2: an attribute whose values mostly hold an amount is a quantity twin (audited: net content said by the title was quarantined); 0.6.1: a fragment only where no other product has the value; quantity attributes are twins; 0.6: evidence of a right value (normalised text, quantities, fragments, attribute mix) and realistic negatives; 0.2: the cross-encoder stacked with the catalogue prior; 0.3: other types' values; 0.4: the type's count, a new type's threshold; 0.5: per-attribute quarantine-precision gates
TEXT_CHARS = 400
ERROR_RATE = 0.10  # the share of wrong values the gates assume (held-in negatives are weighted down to it)
WITHOUT = ", type without other values"
OUTLIER = "any quantity, by its distance to its type's median"  # the quantity detector's gate group  # the gate group of a value whose type has no other value of the attribute


@dataclass(frozen=True)
class Candidate:
    product: str
    attribute: str
    value: str
    attribute_label: str
    value_label: str
    text: str
    source: str  # "ingest" or the stage that imputed it


@dataclass
class CleaningInputs:
    candidates: list[Candidate] = field(default_factory=list)
    types: dict[str, set[str]] = field(default_factory=dict)  # product -> types


def _label(term, fallback: str) -> str:
    return term.value if term is not None else fallback.rsplit("/", 1)[-1].replace("-", " ")


def read_inputs(store: KnowledgeStore) -> CleaningInputs:
    inputs = CleaningInputs()
    seen: dict[tuple[str, str, str], Candidate] = {}
    for r in store.select("list_cleaning_candidates"):
        key = (r["product"].value, r["attribute"].value, r["value"].value)
        text = r["title"].value + (" " + r["description"].value if r["description"] is not None else "")
        c = Candidate(*key, _label(r["attributeLabel"], key[1]), _label(r["valueLabel"], key[2]), text[:TEXT_CHARS],
                      r["source"].value)
        if key not in seen or c.source != "ingest":  # imputed wins: a value asserted twice is the stage's too
            seen[key] = c
    inputs.candidates = [seen[k] for k in sorted(seen)]
    for r in store.select("list_product_titles"):
        if r["type"] is not None:
            inputs.types.setdefault(r["product"].value, set()).add(r["type"].value)
    return inputs


def _pair(c: Candidate) -> ValuePair:
    return ValuePair(c.text, c.attribute_label, c.value_label.lower())


class CleaningStage(Stage):
    name = "cleaning"
    model_name, model_version = MODEL_NAME, MODEL_VERSION
    # 300 pairs x 1 epoch did not learn (held-in scores 0.79-0.80); 500 x 2 reached a held-in
    # ROC-AUC of 0.74 on all held-in values (under the 0.75 floor), 800 x 2 0.80
    DEMO_CONFIG = {"max_positives": 800, "epochs": 2, "max_length": 64}
    requires = (AK.hasAttributeValue,)
    assigns = (RDF.type, AK.quarantines, AK.score, AK.reason)

    def kind_of(self, group: str) -> str:
        return "quarantined"  # its gates are per attribute

    # full size (`autoknow train cleaning`): `evaluate cleaning` measured 5,000 training values x 2
    # epochs well above 2,500 (title n-gram ROC-AUC 0.95 -> 0.98 on new titles); the demo trains smaller
    def __init__(self, epochs: int = 2, max_positives: int = 5000, min_support: int = 2,
                 keep_valid: float = 0.95, seed: int = 0, max_length: int = 128, min_held_in_auc: float = 0.75):
        self.epochs, self.max_positives, self.min_support = epochs, max_positives, min_support
        self.keep_valid, self.seed, self.max_length = keep_valid, seed, max_length  # max_length: tokens of pair read
        # below this held-in ROC-AUC (valid values against planted wrong ones) the model has not
        # learned, and it quarantines nothing
        self.min_held_in_auc = min_held_in_auc
        self.metrics_: dict[str, Any] = {}

    def read(self, store: KnowledgeStore) -> CleaningInputs:
        return read_inputs(store)

    def positives(self, inputs: CleaningInputs) -> list[Candidate]:
        """Ingested values shared by at least `min_support` products of one of the product's types."""
        support: Counter = Counter()
        for c in inputs.candidates:
            for t in inputs.types.get(c.product, ()):
                support[(t, c.attribute, c.value)] += 1
        return [c for c in inputs.candidates if c.source == "ingest"
                and any(support[(t, c.attribute, c.value)] >= self.min_support for t in inputs.types.get(c.product, ()))]

    def fit(self, inputs: CleaningInputs) -> "CleaningStage":
        """The cross-encoder on frequent values and their planted negatives; then, on held-in
        products it never saw (all their ingested values, frequent or not, and one negative of
        each kind), the combiner and the threshold that `keep_valid` of those values pass."""
        from .model import Combiner, ValueCleaner

        valid = sorted(self.positives(inputs), key=lambda c: bucket("clean" + c.product + c.attribute + c.value, 10**6))
        train = [c for c in valid if bucket("calib" + c.product) >= 10][: self.max_positives]
        held = sorted((c for c in inputs.candidates if c.source == "ingest" and bucket("calib" + c.product) < 10),
                      key=lambda c: bucket("held" + c.product + c.attribute + c.value, 10**6))[: self.max_positives]
        vocabulary = sorted({w.lower() for c in train for w in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", c.text)})
        catalogue = Catalogue(self._records(inputs))
        neighbours = self._neighbours(inputs)
        rng = random.Random(self.seed)
        pairs = []
        for c in train:  # each value and up to 3 of its negatives, of kinds drawn at random (training time)
            made = negatives(_pair(c), rng, vocabulary, *neighbours(c))
            pairs += [_pair(c)] + rng.sample(made, min(3, len(made)))
        self.cleaner_ = ValueCleaner(epochs=self.epochs, max_length=self.max_length, seed=self.seed)
        self.combiner_, self.threshold_, self.threshold_new_type_ = None, 1.0, 1.0
        if not train:
            return self
        self.cleaner_.fit(pairs)
        auc, combined_auc, self.kinds_ = None, None, {}
        if held:
            checks = [(c, _pair(c)) for c in held]
            for c in held:  # up to 3 negatives each, of kinds drawn at random: the gates' planted errors weigh
                made = negatives(_pair(c), rng, vocabulary, *neighbours(c))  # ERROR_RATE in all, so more kinds
                checks += [(c, n) for n in rng.sample(made, min(3, len(made)))]  # each would count for less
            y = np.array([p.wrong for _, p in checks])
            neural = self.cleaner_.predict([p for _, p in checks])
            auc = roc_auc(y, neural)
            x = Combiner.matrix(neural, [catalogue.row(self._record(inputs, c, p.value), p.text) for c, p in checks])
            if 0 < y.sum() < len(y):
                self.combiner_ = Combiner()
                oof, oof_masked = self.combiner_.fit(x, y, self.seed)
                combined_auc = roc_auc(y, oof)
                kinds = np.array([p.kind for _, p in checks])
                self.kinds_ = {k: {"held-in ROC-AUC": roc_auc(y[(kinds == k) | (y == 0)], oof[(kinds == k) | (y == 0)]),
                                   "negatives": int((kinds == k).sum())} for k in KINDS if (kinds == k).any()}
                self.threshold_, self.threshold_new_type_ = (max(0.5, t) for t in Combiner.thresholds(oof, oof_masked, y, self.keep_valid))
                ranges = self._ranges(inputs, catalogue, rng)
                self.gate_ = self._gate(x, y, oof, oof_masked, [p.attribute for _, p in checks], ranges)
                self.kinds_[OUTLIER] = {"held-in ROC-AUC": roc_auc(ranges[1], ranges[0]), "negatives": int(ranges[1].sum())}
        self.metrics_ = {"positives": len(train), "pairs": len(pairs), "held_in": len(held), "threshold": self.threshold_,
                         "threshold, types without the attribute": self.threshold_new_type_,
                         "held-in ROC-AUC": auc, "held-in ROC-AUC with the catalogue prior": combined_auc,
                         "held-in ROC-AUC of the stack per negative kind": self.kinds_,
                         "combiner": self.combiner_.to_json() if self.combiner_ else None}
        return self

    @staticmethod
    def _ranges(inputs: CleaningInputs, catalogue: Catalogue, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
        """The quantity detector's held-in data: every ingested quantity whose type has a range
        (the detector is not trained, and leaves each value out of its own range) and one
        magnitude or unit slip of it, scored by their distance to the type's median."""
        from .model import slip

        scores, wrong = [], []
        for c in inputs.candidates:
            if c.source != "ingest":
                continue
            distance, ranged = catalogue.distance(CleaningStage._record(inputs, c, c.value_label))
            slipped = slip(c.value_label, rng)
            if not ranged or slipped is None:
                continue
            scores += [distance, catalogue.distance(CleaningStage._record(inputs, c, slipped))[0]]
            wrong += [0, 1]
        return np.array(scores, dtype=float), np.array(wrong, dtype=int)

    @staticmethod
    def _gate(x: np.ndarray, y: np.ndarray, oof: np.ndarray, oof_masked: np.ndarray, attributes: list[str],
              ranges: tuple[np.ndarray, np.ndarray] = (np.array([]), np.array([], dtype=int))):
        """Per-attribute gates on quarantine precision (a quarantine is right when the value is
        wrong) at ERROR_RATE: held-in values weigh 1 and planted wrong ones are weighted so they
        make ERROR_RATE of the whole. Values of a type with other values of the attribute are
        judged by their own scores; the gate `, type without other values` by every held-in
        value's masked copy (a new type's values look like that); the quantity detector's
        (`OUTLIER`) by its distances (`_ranges`), at the same rate."""
        from ...ml.gate import Gate
        from .model import Combiner

        weight = lambda y: np.where(y == 1, ERROR_RATE / (1 - ERROR_RATE) * (len(y) - y.sum()) / max(1, y.sum()), 1.0)  # noqa: E731
        w = weight(y)
        known = x[:, Combiner.TYPE_HAS_ATTRIBUTE] != 0
        groups = [a for a, k in zip(attributes, known) if k] + [a + WITHOUT for a in attributes] + [OUTLIER] * len(ranges[0])
        return Gate.fit(np.r_[oof[known], oof_masked, ranges[0]], np.r_[y[known], y, ranges[1]], groups,
                        weights=np.r_[w[known], w, weight(ranges[1]) if len(ranges[1]) else []])

    @staticmethod
    def _records(inputs: CleaningInputs) -> list[Record]:
        return [CleaningStage._record(inputs, c, c.value_label) for c in inputs.candidates]

    @staticmethod
    def _record(inputs: CleaningInputs, c: Candidate, value: str) -> Record:
        """Candidate `c`'s slot holding `value` (its own, or a planted one), as the catalogue counts it."""
        return Record(c.product, tuple(sorted(inputs.types.get(c.product, ()))), c.attribute, value, c.text)

    @staticmethod
    def _neighbours(inputs: CleaningInputs):
        """For a candidate: values of other attributes on products of its types (a scent is a
        color's neighbour), else of any type; and values of its attribute on other products of
        its types (50 of each at most, in a fixed order): the material of realistic negatives."""
        by_type: dict[str, dict[str, set[str]]] = {}
        anywhere: dict[str, set[str]] = {}
        for c in inputs.candidates:
            label = c.value_label.lower()
            anywhere.setdefault(c.attribute, set()).add(label)
            for t in inputs.types.get(c.product, ()):
                by_type.setdefault(t, {}).setdefault(c.attribute, set()).add(label)
        fallback = {a: sorted(vs)[:50] for a, vs in anywhere.items()}

        def of(c: Candidate) -> tuple[list[str], list[str]]:
            mine = [by_type.get(t, {}) for t in sorted(inputs.types.get(c.product, ()))]
            other = sorted({v for d in mine for a, vs in d.items() if a != c.attribute for v in vs})[:50]
            if not other:
                other = sorted({v for a, vs in fallback.items() if a != c.attribute for v in vs})[:50]
            same = sorted({v for d in mine for v in d.get(c.attribute, ())})[:50]
            return other, same

        return of

    @property
    def learned(self) -> bool:
        """Whether the model's held-in ROC-AUC (the stack's, or the cross-encoder's where there is
        no stack) reaches `min_held_in_auc`: a model that cannot tell held-in values from planted
        wrong ones must not quarantine anything. (The cross-encoder alone fell from 0.77 to 0.74
        when the harder negatives came in; the stack it feeds reads 0.91.)"""
        auc = self.metrics_.get("held-in ROC-AUC with the catalogue prior") or self.metrics_.get("held-in ROC-AUC")
        return auc is None or auc >= self.min_held_in_auc

    def suspicion(self, inputs: CleaningInputs) -> list[float]:
        """P(wrong) per candidate: the combiner over the cross-encoder and the catalogue prior."""
        return self._scored(inputs)[0]

    def _scored(self, inputs: CleaningInputs, neural: list[float] | None = None):
        """P(wrong) per candidate (from the cross-encoder's `neural` scores, found here when None);
        whether its type has other products carrying the attribute (else its gate is the masked
        copies': its value has no prior to vouch for it); the stack's rows; and the catalogue."""
        from .model import Combiner

        pairs = [_pair(c) for c in inputs.candidates]
        neural = self.cleaner_.predict(pairs) if neural is None else neural
        catalogue = Catalogue(self._records(inputs))
        x = Combiner.matrix(neural, [catalogue.row(self._record(inputs, c, c.value_label), c.text) for c in inputs.candidates])
        if self.combiner_ is None:
            return list(neural), [True] * len(pairs), x, catalogue
        return ([float(v) for v in self.combiner_.predict(x)], (x[:, Combiner.TYPE_HAS_ATTRIBUTE] != 0).tolist(), x,
                catalogue)

    def _ready(self) -> bool:
        """Whether the stage may quarantine at all: a trained cross-encoder that has learned."""
        return hasattr(self.cleaner_, "model_") and self.learned

    def predict(self, inputs: CleaningInputs) -> list[Fact]:
        """A quarantine for each value whose attribute's gate passes its score: the held-in
        quarantines at that score were right (the value wrong) at least `min_precision` of the
        time, at ERROR_RATE wrong values."""
        if not inputs.candidates or not self._ready():
            return []
        return self.decide(inputs, self.candidates(inputs))

    def parts(self, inputs: CleaningInputs, n: int) -> list[list[int]] | None:
        """The candidate values in up to `n` parts, each scored apart by the cross-encoder
        (`--engine ray`); the catalogue prior and the gates, over the whole run, are `decide`'s.
        A part is a run of the cross-encoder's own batches, in order: batched and padded as in
        a local run, it scores the same to the bit (parts cut otherwise moved a confidence in
        its 4th decimal, measured on the cut)."""
        if not inputs.candidates or not self._ready():
            return None
        batches = self.cleaner_.batches([_pair(c) for c in inputs.candidates])
        per = -(-len(batches) // n)
        return [[i for b in batches[k:k + per] for i in b] for k in range(0, len(batches), per)]

    def candidates(self, inputs: CleaningInputs, part: list[int] | None = None) -> list[tuple[int, float]]:
        """(candidate index, the cross-encoder's score) for the candidates in `part` (default: all):
        the model's work, pure."""
        chosen = list(range(len(inputs.candidates))) if part is None else part
        return list(zip(chosen, self.cleaner_.predict([_pair(inputs.candidates[i]) for i in chosen])))

    def decide(self, inputs: CleaningInputs, found: list[tuple[int, float]]) -> list[Fact]:
        """The run's quarantines from every candidate's cross-encoder score (see `predict`)."""
        neural = [0.0] * len(inputs.candidates)
        for i, score in found:
            neural[i] = score
        scores, known, x, catalogue = self._scored(inputs, neural)
        groups = [c.attribute_label if k else c.attribute_label + WITHOUT for c, k in zip(inputs.candidates, known)]
        ranged = np.flatnonzero(x[:, 1 + RANGED] != 0)  # quantities whose type has a range: the detector reads them too
        probability, passed = self.gated(groups + [OUTLIER] * len(ranged), list(scores) + x[ranged, 1 + DISTANCE].tolist())
        detector = {i: (probability[len(scores) + k], passed[len(scores) + k]) for k, i in enumerate(ranged)}
        facts = []
        for i, (c, s, row, group) in enumerate(zip(inputs.candidates, scores, x, groups)):
            prob, ok = probability[i], passed[i]
            d_prob, d_ok = detector.get(i, (0.0, False))
            if not (ok or d_ok) or said_by_text(list(row[1:])):
                continue
            if d_ok and (not ok or d_prob > prob):
                prob, group, how = d_prob, OUTLIER, "quantity detector"
            else:
                how = "cross-encoder and catalogue evidence, stacked"
            p = round(float(prob), 4)
            suspect = Triple(NamedNode(c.product), NamedNode(c.attribute), NamedNode(c.value))
            q = quarantine_iri(suspect)
            why = catalogue.explain(self._record(inputs, c, c.value_label), c.text, list(row[1:]))
            reason = (f"{how}: P(wrong) {p:.2f} (gate of '{group}' at precision {self.min_precision:.2f}) for "
                      f"'{c.attribute_label}: {c.value_label}' ({c.source} value): {why}; cross-encoder logit {row[0]:.1f}")
            evidence = Evidence(c.text)
            facts += [Fact(q, RDF.type, AK.Quarantine),
                      Fact(q, AK.quarantines, suspect, evidence=evidence, confidence=p),
                      Fact(q, AK.score, Literal(round(s, 4))), Fact(q, AK.reason, Literal(reason))]
        return facts

    def score(self, inputs: CleaningInputs) -> dict[str, Any]:
        """ROC-AUC of the cross-encoder alone on the inputs' frequent values against planted
        negatives (in-sample: a sanity check; `autoknow evaluate cleaning` scores the stack)."""
        valid = [_pair(c) for c in self.positives(inputs)]
        words = sorted({w.lower() for p in valid for w in re.findall(r"[A-Za-z]{3,}", p.text)})
        pairs = valid + [n for p in valid for n in negatives(p, random.Random(self.seed), words, [])]
        s = self.cleaner_.predict(pairs)
        y = [p.wrong for p in pairs]
        return {"ROC-AUC": roc_auc(y, s), "pairs": len(pairs)}

    # ---- persistence -------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "max_positives": self.max_positives, "min_support": self.min_support,
                "keep_valid": self.keep_valid, "seed": self.seed, "max_length": self.max_length,
                "min_held_in_auc": self.min_held_in_auc, "threshold": self.threshold_,
                "threshold_new_type": self.threshold_new_type_,
                "metrics": self.metrics_}

    def save(self, folder: Path) -> None:
        if self.cleaner_.trained:
            self.cleaner_.save(folder / "cleaner")
        (folder / "cleaning.json").write_text(json.dumps(self._config(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "CleaningStage":
        from ...errors import AutoknowError
        from .model import Combiner, ValueCleaner

        config = json.loads((folder / "cleaning.json").read_text(encoding="utf-8"))
        stage = cls(config["epochs"], config["max_positives"], config["min_support"], config["keep_valid"], config["seed"],
                    config.get("max_length", 128), config.get("min_held_in_auc", 0.75))
        stage.threshold_, stage.metrics_ = config["threshold"], config.get("metrics", {})
        stage.threshold_new_type_ = config.get("threshold_new_type", stage.threshold_)
        combiner = stage.metrics_.get("combiner")
        if combiner and len(combiner["coef"]) != len(Combiner.FEATURES):
            raise AutoknowError(f"{folder}: a cleaning model of an older version ({len(combiner['coef'])} combiner features, "
                                f"{len(Combiner.FEATURES)} now); run `autoknow train cleaning` again")
        stage.combiner_ = Combiner(combiner["coef"], combiner["intercept"]) if combiner else None
        stage.cleaner_ = ValueCleaner.load(folder / "cleaner") if (folder / "cleaner").is_dir() else ValueCleaner()
        return stage
