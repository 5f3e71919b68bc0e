"""Stage 1, taxonomy: attach product types under their hypernyms (several parents allowed).

`read` turns the store into a TaxonomyView (names, parent links, product titles, baskets);
`fit` learns from the existing edges; `predict` attaches every type that has no parent in a
taxonomy (types named only by catalogues, new types) under the best candidates whose
probability passes the calibrated threshold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from ..models.hypernym import FEATURES, HypernymModel, TaxonomyView
from ..provenance import Evidence, Fact
from ..store import KnowledgeStore
from ..vocab import AK, RDF, RDFS, SCHEMA, SKOS
from .base import ModelInfo, Stage

__all__ = ["TaxonomyStage", "read_view"]

TARGET_PRECISION = 0.877  # AutoKnow's reported type precision: the operating point we calibrate to
MODEL_NAME = "autoknow-hypernym"
MODEL_VERSION = "0.1.0"


def read_view(store: KnowledgeStore) -> TaxonomyView:
    """Types (English or untagged names), parent links, product titles and baskets per type."""
    names: dict[str, str] = {}
    scheme: dict[str, str] = {}
    for r in store.select("list_type_names"):
        t = r["type"].value
        scheme[t] = r["scheme"].value
        if r["preferred"].value == "true" or t not in names:
            names[t] = r["name"].value
    parents: dict[str, set[str]] = {}
    for r in store.select("list_subclass_edges"):
        if r["child"].value in names and r["parent"].value in names:
            parents.setdefault(r["child"].value, set()).add(r["parent"].value)
    titles: dict[str, list[str]] = {}
    for r in store.select("list_product_titles_by_type"):
        titles.setdefault(r["type"].value, []).append(r["title"].value)
    baskets: dict[str, set[str]] = {}
    for r in store.select("list_basket_types"):
        baskets.setdefault(r["basket"].value, set()).add(r["type"].value)
    return TaxonomyView(names, parents, scheme, titles, baskets)


def candidates_in(view: TaxonomyView, schemes: set[str]) -> list[str]:
    """Candidate parents: types that already have children, in the given taxonomies."""
    kids = view.children()
    return sorted(t for t in kids if view.scheme.get(t) in schemes)


class TaxonomyStage(Stage):
    name = "taxonomy"
    requires = (RDFS.subClassOf, RDFS.label, SKOS.altLabel, SKOS.inScheme, SCHEMA.name, AK.containsProduct, RDF.type)
    assigns = (RDFS.subClassOf,)

    def __init__(self, use_behaviour: bool = True, target_precision: float = TARGET_PRECISION,
                 max_parents: int = 3, seed: int = 0):
        self.use_behaviour, self.target_precision = use_behaviour, target_precision
        self.max_parents, self.seed = max_parents, seed
        self.metrics_: dict[str, Any] = {}

    # ---- the stage interface -----------------------------------------------------------------
    def read(self, store: KnowledgeStore) -> TaxonomyView:
        return read_view(store)

    def fit(self, view: TaxonomyView, embed=None) -> "TaxonomyStage":
        """Train on every type that has a parent; calibrate the threshold on a held-in 15%."""
        from ..models.encoder import embed as default_embed

        self.model_ = HypernymModel(self.use_behaviour, seed=self.seed)
        self.model_.prepare(view, embed or default_embed)
        by_scheme = {s: candidates_in(view, {s}) for s in {view.scheme[c] for c in view.parents}}
        self.schemes_ = sorted(by_scheme)
        kids = view.children()
        children = sorted(c for c in view.parents if view.parents[c] and c not in kids)  # leaves, like new types
        calib = [c for c in children if _bucket(c) < 15]
        train = [c for c in children if _bucket(c) >= 15]
        self.model_.fit(train, lambda c: by_scheme[view.scheme[c]])
        self.model_.calibrate(calib, lambda c: by_scheme[view.scheme[c]], self.target_precision)
        return self

    def predict(self, view: TaxonomyView) -> list[Fact]:
        """Attach parentless types (outside the roots of a taxonomy) under their best parents."""
        if getattr(self.model_, "_index", None) is None or self.model_._index.types != sorted(view.names):
            self.model_.prepare(view, _embed_default())
        else:
            self.model_.restructure(view)
        cands = candidates_in(view, set(self.schemes_) or set(view.scheme.values()))
        orphans = sorted(t for t in view.names if not view.parents.get(t) and t not in view.children())
        facts = []
        for t in orphans:
            ranked = self.model_.rank(t, cands)
            for parent, prob, feats in ranked[: self.max_parents]:
                if prob < (self.model_.threshold_ or 0.5):
                    break
                top = sorted(zip(FEATURES, feats), key=lambda kv: -abs(kv[1]))[:3]
                text = f"{view.names[t]} ⊑ {view.names[parent]}: " + ", ".join(f"{k}={v:.2f}" for k, v in top)
                facts.append(Fact(NamedNode(t), RDFS.subClassOf, NamedNode(parent), evidence=Evidence(text), confidence=prob))
        return facts

    def score(self, view: TaxonomyView, slices: dict[str, set[str]] | None = None) -> dict[str, Any]:
        """Hidden-leaf evaluation on `view` (trains its own models on the rest; see evaluation)."""
        from ..evaluation.taxonomy import evaluate_hypernyms

        return evaluate_hypernyms(view, target_precision=self.target_precision, slices=slices, seed=self.seed)

    # ---- persistence -----------------------------------------------------------------------------
    def save(self, folder: Path) -> ModelInfo:
        checksum = self.model_.save(folder, {"schemes": self.schemes_, "target_precision": self.target_precision,
                                             "max_parents": self.max_parents, "metrics": self.metrics_})
        return ModelInfo(MODEL_NAME, MODEL_VERSION, "sha256:" + checksum)

    @classmethod
    def load(cls, folder: Path) -> "TaxonomyStage":
        config = json.loads((folder / "hypernym.json").read_text(encoding="utf-8"))
        stage = cls(config["use_behaviour"], config["target_precision"], config["max_parents"], config["seed"])
        stage.model_ = HypernymModel.load(folder)
        stage.model_._index = None
        stage.schemes_ = config["schemes"]
        stage.metrics_ = config.get("metrics", {})
        stage._checksum = config["checksum"]
        return stage

    def model_info(self) -> ModelInfo:
        return ModelInfo(MODEL_NAME, MODEL_VERSION, getattr(self, "_checksum", "unsaved"))


def _embed_default():
    from ..models.encoder import embed

    return embed


def _bucket(key: str) -> int:
    """A stable 0..99 bucket of a key: deterministic splits that do not depend on order."""
    import hashlib

    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 100
