"""Stage 4, relations: which attributes apply to each product type, and how much buyers care.

`read` gathers a RelationView: the taxonomy (names, parents, product titles; a type's equivalents in
other taxonomies count as its parents), the declared
applicability (Shopify's category→attribute links), attribute names and values, catalogue
coverage per type and buyer texts. `fit` trains the applicability classifier on declared types
(a held-in 15% of them calibrate the gates of both decisions, "applicable" and "not
applicable") and the importance regressor on the types buyers wrote about. `predict` decides,
for every type that declares nothing but has products (new types from the taxonomy stage
included), each candidate attribute's applicability where a decision passes its gate (else the
pair stays undecided), with probability and importance; declared pairs get an importance only. Shapes are generated from the result (shapes.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pyoxigraph import Literal, NamedNode

from .model import FEATURES, ApplicabilityModel, RelationView, buyer_targets, has_relatives
from ...provenance import Evidence, Fact
from ...splits import bucket
from ...store import KnowledgeStore
from ...vocab import AK, RDF, applicability_iri
from ..base import Stage

__all__ = ["RelationsStage", "read_relations"]

MODEL_NAME = "autoknow-applicability"
MODEL_VERSION = "0.2.0"  # 0.2: calibrated gates for both decisions
MIN_PROBABILITY = 0.1  # candidates below this are not written (absent = not applicable)
APPLICABLE, NOT_APPLICABLE = "applicable", "not applicable"
ALONE = ", type without labelled relatives"  # the gate of a decision made from nearest labelled types alone


def read_relations(store: KnowledgeStore) -> RelationView:
    """Taxonomy, declared applicability, attribute vocabularies, coverage and buyer texts."""
    from ..view import read_view

    tax = read_view(store)
    attributes = {}
    for r in store.select("list_attributes"):
        a = r["attribute"].value
        attributes[a] = r["name"].value if r["name"] is not None else a.rsplit("/", 1)[-1].replace("-", " ")
    values: dict[str, set[str]] = {}
    for r in store.select("list_attribute_values"):
        values.setdefault(r["attribute"].value, set()).add(r["name"].value.lower())
    labels: dict[str, set[str]] = {}
    for r in store.select("list_applicability"):
        if r["applicable"].value == "true":
            labels.setdefault(r["type"].value, set()).add(r["attribute"].value)
    # a type that declares nothing, said to mean the same as a type that declares its attributes
    # (synonyms, which runs first), reads those attributes as a parent's: the evidence reaches the
    # catalogue's types through the alignment
    for r in store.select("list_equivalent_types"):
        t, e = r["type"].value, r["equivalent"].value
        if t in tax.names and e in labels and t not in labels and tax.scheme.get(t) != tax.scheme.get(e):
            tax.parents.setdefault(t, set()).add(e)
    filled: dict[str, dict[str, int]] = {}
    for r in store.select("count_type_attribute_products"):
        filled.setdefault(r["type"].value, {})[r["attribute"].value] = int(r["products"].value)
    products = {t: len(ts) for t, ts in tax.titles.items()}
    texts = sorted({r["text"].value for r in store.select("list_buyer_texts")})
    return RelationView(tax, attributes, values, labels, filled, products, texts)


def _groups(decision: str, related: np.ndarray) -> list[str]:
    return [decision if r else decision + ALONE for r in related]


def _evidence(features) -> Evidence:
    """The signals behind a decision, as readable text ('parent_has=1.00, knn_share=0.71')."""
    return Evidence(", ".join(f"{n}={v:.2f}" for n, v in zip(FEATURES, features) if v) or "no signal")


class RelationsStage(Stage):
    name = "relations"
    model_name, model_version = MODEL_NAME, MODEL_VERSION
    requires = (AK.forType, AK.forAttribute, AK.applicable, AK.ofAttribute, AK.queryText)
    assigns = (RDF.type, AK.forType, AK.forAttribute, AK.applicable, AK.probability, AK.importance)

    def __init__(self, seed: int = 0, max_types: int = 2500, min_buyer_texts: int = 5):
        self.seed, self.max_types, self.min_buyer_texts = seed, max_types, min_buyer_texts
        self.metrics_: dict[str, Any] = {}

    def read(self, store: KnowledgeStore) -> RelationView:
        return read_relations(store)

    def fit(self, view: RelationView, embed=None) -> "RelationsStage":
        from ...ml.encoder import embed as default_embed

        targets = buyer_targets(view, sorted(view.attributes), self.min_buyer_texts)
        self.model_ = ApplicabilityModel(seed=self.seed, max_types=self.max_types)
        self.model_.prepare(view, embed or default_embed, sorted(targets))
        labelled = sorted(t for t in view.labels if t in view.taxonomy.names)
        calib = [t for t in labelled if bucket("calib" + t) < 15]
        self.model_.fit([t for t in labelled if t not in calib], calib)
        self.model_.fit_importance(targets)
        self.metrics_ = {"labelled_types": len(labelled), "calibration_types": len(calib),
                         "threshold": self.model_.threshold_}
        self.gate_ = self._gate(*self.model_.held_)
        return self

    @staticmethod
    def _gate(y: np.ndarray, p: np.ndarray, related: np.ndarray):
        """Gates of both decisions from the held-in types' candidate pairs that would be written
        (P(applicable) ≥ MIN_PROBABILITY): "applicable" scored by P, "not applicable" by 1 - P,
        apart for types without labelled relatives (measured on the demo: held-in 0.93 precision
        came from types with relatives, while Open Food Facts and Instacart types, without
        them, were right about half the time)."""
        from ...ml.gate import Gate

        keep = p >= MIN_PROBABILITY
        y, p, related = y[keep], p[keep], related[keep]
        return Gate.fit(np.r_[p, 1 - p], np.r_[y, ~y], _groups(APPLICABLE, related) + _groups(NOT_APPLICABLE, related), min_group=1)

    def targets(self, view: RelationView) -> list[str]:
        """Types to decide for: those with products or found in titles, declaring nothing."""
        tax = view.taxonomy
        return sorted(t for t in tax.names if t not in view.labels and (view.products.get(t) or tax.scheme[t].endswith("/label")))

    def predict(self, view: RelationView) -> list[Fact]:
        """Applicability decisions for undeclared types; importance for every decided pair."""
        from ...ml.encoder import embed

        targets = self.targets(view)
        self.model_.prepare(view, embed, targets)
        facts: list[Fact] = []
        pairs = [(t, a, p, imp, f) for t in targets for a, p, imp, f in self.model_.predict(t) if p >= MIN_PROBABILITY]
        p = np.array([x[2] for x in pairs])
        related = has_relatives(np.array([x[4] for x in pairs])) if pairs else np.zeros(0, bool)
        yes, yes_ok = self.gated(_groups(APPLICABLE, related), p)
        no, no_ok = self.gated(_groups(NOT_APPLICABLE, related), 1 - p)
        for (t, a, prob, imp, f), y, y_ok, n, n_ok in zip(pairs, yes, yes_ok, no, no_ok):
            if y_ok or n_ok:  # otherwise undecided: nothing written
                facts += self._node(t, a, bool(y_ok), float(y if y_ok else n), prob, imp, _evidence(f))
        for t in sorted(view.labels):
            if t not in view.taxonomy.names:
                continue
            declared = sorted(view.labels[t])
            for a, _, imp, _ in self.model_.predict(t, [a for a in declared if a in self.model_._f.aix]):
                facts.append(Fact(applicability_iri(NamedNode(t), NamedNode(a)), AK.importance, Literal(round(imp, 4))))
        return facts

    def _node(self, t: str, a: str, decision: bool, conf: float, p: float, imp: float, evidence: Evidence) -> list[Fact]:
        """The decision with its calibrated probability of being right (`conf`), the model's raw
        P(applicable) and the importance."""
        node = applicability_iri(NamedNode(t), NamedNode(a))
        conf = round(conf, 4)
        return [Fact(node, RDF.type, AK.Applicability), Fact(node, AK.forType, NamedNode(t)),
                Fact(node, AK.forAttribute, NamedNode(a)),
                Fact(node, AK.applicable, Literal(bool(decision)), evidence=evidence, confidence=conf),
                Fact(node, AK.probability, Literal(round(p, 4))), Fact(node, AK.importance, Literal(round(imp, 4)))]

    def score(self, view: RelationView, types: list[str] | None = None) -> dict[str, Any]:
        """ROC-AUC and precision/recall at the trained threshold of the applicability decisions on
        labelled `types` (default: every labelled type, in-sample: a sanity check; `autoknow
        evaluate relations` hides types from training and scores them beside baselines)."""
        from ...ml.metrics import roc_auc

        y, p = [], []
        for t in (types if types is not None else sorted(view.labels)):
            if t not in view.labels or t not in view.taxonomy.names:
                continue
            for a, prob, _, _ in self.model_.predict(t):
                y.append(a in view.labels[t])
                p.append(prob)
        said = [yy for yy, pp in zip(y, p) if pp >= self.model_.threshold_]
        return {"ROC-AUC": roc_auc(y, p),
                "precision": sum(said) / len(said) if said else None,
                "recall": sum(said) / sum(y) if sum(y) else None, "pairs": len(y)}

    # ---- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        self.model_.save(folder)
        config = {"seed": self.seed, "max_types": self.max_types, "min_buyer_texts": self.min_buyer_texts,
                  "metrics": self.metrics_, "features": list(FEATURES)}
        (folder / "relations.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "RelationsStage":
        config = json.loads((folder / "relations.json").read_text(encoding="utf-8"))
        stage = cls(config["seed"], config["max_types"], config["min_buyer_texts"])
        stage.model_ = ApplicabilityModel.load(folder)
        stage.metrics_ = config.get("metrics", {})
        return stage
