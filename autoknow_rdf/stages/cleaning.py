"""Stage 4, cleaning: score every product attribute value and quarantine the misassigned ones.

`read` gathers every value fact not quarantined yet (ingested or imputed), with the product's
text, types and the fact's source. `fit` trains the cross-encoder (models/cleaner.py) on values
that recur across products of a type (AutoKnow's "frequent valid pairs": a value many products
of a type share is rarely an error) against planted negatives, and sets the threshold so that
95% of held-in valid values pass. `predict` quarantines a fact scoring above it: an
`ak:Quarantine` node names the fact as a triple term with the score and the reason; the fact
stays where it was asserted (see quarantine.py for review and the default view).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyoxigraph import Literal, NamedNode, Triple

from ..models.cleaner import ValuePair, negatives
from ..provenance import Evidence, Fact
from ..splits import bucket
from ..store import KnowledgeStore
from ..vocab import AK, RDF, quarantine_iri
from .base import ModelInfo, Stage

__all__ = ["CleaningStage", "CleaningInputs", "read_inputs"]

MODEL_NAME = "autoknow-value-cleaner"
MODEL_VERSION = "0.1.0"
TEXT_CHARS = 400


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
    requires = (AK.hasAttributeValue,)
    assigns = (RDF.type, AK.quarantines, AK.score, AK.reason)

    def __init__(self, epochs: int = 1, max_positives: int = 800, min_support: int = 2,
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
        from ..models.cleaner import ValueCleaner

        valid = sorted(self.positives(inputs), key=lambda c: bucket("clean" + c.product + c.attribute + c.value, 10**6))
        held = [c for c in valid if bucket("calib" + c.product) < 10][: self.max_positives // 4]
        train = [c for c in valid if bucket("calib" + c.product) >= 10][: self.max_positives]
        vocabulary = sorted({w.lower() for c in train for w in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", c.text)})
        by_attribute: dict[str, list[str]] = {}
        for c in train:
            by_attribute.setdefault(c.attribute, []).append(c.value_label.lower())
        rng = random.Random(self.seed)
        pairs = []
        for c in train:
            others = sorted({v for a, vs in by_attribute.items() if a != c.attribute for v in vs[:50]})
            pairs.append(_pair(c))
            pairs += negatives(_pair(c), rng, vocabulary, others)
        self.cleaner_ = ValueCleaner(epochs=self.epochs, max_length=self.max_length, seed=self.seed)
        if not train:
            self.threshold_ = 1.0
            return self
        self.cleaner_.fit(pairs)
        scores = self.cleaner_.predict([_pair(c) for c in held]) if held else [0.5]
        self.threshold_ = max(0.5, float(np.quantile(scores, self.keep_valid)))
        auc = self._held_in_auc(held, scores, vocabulary, rng)
        self.metrics_ = {"positives": len(train), "pairs": len(pairs), "held_in": len(held), "threshold": self.threshold_,
                         "held-in ROC-AUC": auc}
        return self

    @property
    def learned(self) -> bool:
        """Whether the held-in ROC-AUC reaches `min_held_in_auc` (a model that cannot tell held-in
        values from planted wrong ones must not quarantine anything)."""
        auc = self.metrics_.get("held-in ROC-AUC")
        return auc is None or auc >= self.min_held_in_auc

    def _held_in_auc(self, held: list[Candidate], scores, vocabulary: list[str], rng: random.Random) -> float | None:
        from sklearn.metrics import roc_auc_score

        wrong = [n for c in held for n in negatives(_pair(c), rng, vocabulary, [])]
        if not held or not wrong:
            return None
        y = [0] * len(held) + [1] * len(wrong)
        return float(roc_auc_score(y, list(scores) + list(self.cleaner_.predict(wrong))))

    def predict(self, inputs: CleaningInputs) -> list[Fact]:
        """A quarantine for each value scoring at or above the threshold."""
        if not inputs.candidates or not hasattr(self.cleaner_, "model_") or not self.learned:
            return []
        scores = self.cleaner_.predict([_pair(c) for c in inputs.candidates])
        facts = []
        for c, s in zip(inputs.candidates, scores):
            if s < self.threshold_:
                continue
            suspect = Triple(NamedNode(c.product), NamedNode(c.attribute), NamedNode(c.value))
            q = quarantine_iri(suspect)
            reason = (f"cross-encoder: P(wrong) {s:.2f} ≥ {self.threshold_:.2f} for "
                      f"'{c.attribute_label}: {c.value_label}' given the product text ({c.source} value)")
            evidence = Evidence(c.text)
            facts += [Fact(q, RDF.type, AK.Quarantine),
                      Fact(q, AK.quarantines, suspect, evidence=evidence, confidence=round(s, 4)),
                      Fact(q, AK.score, Literal(round(s, 4))), Fact(q, AK.reason, Literal(reason))]
        return facts

    def score(self, inputs: CleaningInputs) -> dict[str, Any]:
        """ROC-AUC of the trained model on the inputs' frequent values against planted negatives."""
        from sklearn.metrics import roc_auc_score

        valid = [_pair(c) for c in self.positives(inputs)]
        words = sorted({w.lower() for p in valid for w in re.findall(r"[A-Za-z]{3,}", p.text)})
        pairs = valid + [n for p in valid for n in negatives(p, random.Random(self.seed), words, [])]
        s = self.cleaner_.predict(pairs)
        y = [p.wrong for p in pairs]
        return {"ROC-AUC": float(roc_auc_score(y, s)) if len(set(y)) > 1 else None, "pairs": len(pairs)}

    # ---- persistence -------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "max_positives": self.max_positives, "min_support": self.min_support,
                "keep_valid": self.keep_valid, "seed": self.seed, "max_length": self.max_length,
                "min_held_in_auc": self.min_held_in_auc, "threshold": self.threshold_,
                "metrics": self.metrics_}

    def save(self, folder: Path) -> ModelInfo:
        folder.mkdir(parents=True, exist_ok=True)
        digest = self.cleaner_.save(folder / "cleaner") if hasattr(self.cleaner_, "model_") else "untrained"
        config = self._config()
        (folder / "cleaning.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        checksum = "sha256:" + hashlib.sha256((digest + json.dumps(config, sort_keys=True)).encode()).hexdigest()
        (folder / "checksum.txt").write_text(checksum + "\n", encoding="utf-8")
        self._checksum = checksum
        return ModelInfo(MODEL_NAME, MODEL_VERSION, checksum)

    @classmethod
    def load(cls, folder: Path) -> "CleaningStage":
        from ..errors import AutoknowError
        from ..models.cleaner import ValueCleaner

        if not (folder / "cleaning.json").is_file():
            raise AutoknowError(f"{folder}: no trained cleaning model; run `autoknow train cleaning`")
        config = json.loads((folder / "cleaning.json").read_text(encoding="utf-8"))
        stage = cls(config["epochs"], config["max_positives"], config["min_support"], config["keep_valid"], config["seed"],
                    config.get("max_length", 128), config.get("min_held_in_auc", 0.75))
        stage.threshold_, stage.metrics_ = config["threshold"], config.get("metrics", {})
        try:
            stage.cleaner_ = ValueCleaner.load(folder / "cleaner") if (folder / "cleaner").is_dir() else ValueCleaner()
        except ValueError as e:
            raise AutoknowError(str(e)) from e
        digest = json.loads((folder / "cleaner" / "cleaner.json").read_text())["checksum"][7:] if (folder / "cleaner").is_dir() else "untrained"
        checksum = (folder / "checksum.txt").read_text(encoding="utf-8").strip()
        if checksum != "sha256:" + hashlib.sha256((digest + json.dumps(config, sort_keys=True)).encode()).hexdigest():
            raise AutoknowError(f"{folder}: model checksum does not match its files")
        stage._checksum = checksum
        return stage

    def model_info(self) -> ModelInfo:
        return ModelInfo(MODEL_NAME, MODEL_VERSION, getattr(self, "_checksum", "unsaved"))
