"""Stage 2, alignment: the type of another taxonomy that holds each catalogue type.

The catalogue's products are typed with taxonomies that declare no attributes (Instacart aisles,
Open Food Facts categories, names found in titles), while the attributes a type takes are
declared by another (Shopify's category→attribute links). Relations, shapes and validation only
reach a product through a type that declares them, so each type with products is attached under
the type of a declaring taxonomy that holds it (`rdfs:subClassOf` across schemes: its equivalent
or its nearest broader type), read by its name and its products' titles (model.py).

`fit` trains on the declaring taxonomies' own parent links, one type hidden at a time; a held-in
share of the hidden types calibrates the gate, where an attachment is right when the type it
found holds the hidden one (its parent or an ancestor: curated links the model never saw).
`predict` attaches each type with products of another taxonomy under its best candidate, where
the calibrated probability passes the gate (the demo's audit of this model decides instead,
when it has one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyoxigraph import NamedNode

from .model import FEATURES, AlignmentModel, Source, Tree, members_of
from ...provenance import Evidence, Fact
from ...splits import bucket
from ...store import KnowledgeStore
from ...vocab import AK, RDF, RDFS, SKOS
from ..base import Stage
from ..view import TaxonomyView, read_view

__all__ = ["AlignmentStage", "AlignmentInputs", "read_inputs"]

MODEL_NAME = "autoknow-alignment"
MODEL_VERSION = "0.3.0"  # 0.2: backs off from the aimed-at parent to a type that surely holds; 0.3: strays
GROUP = "subClassOf edge (across taxonomies)"
GATE_CONFIDENCE = 0.9  # the held-in precision's one-sided lower bound must reach the target (`ml.gate`)
HELD_IN = 20  # percent of the hidden types that calibrate the gate
MIN_TREE = 200  # parent links a taxonomy that declares nothing needs to be trained on


@dataclass
class AlignmentInputs:
    view: TaxonomyView
    declaring: set[str] = field(default_factory=set)  # taxonomies (schemes) whose types declare attributes
    curated: dict[str, set[str]] = field(default_factory=dict)  # child -> parents, as ingested (no run's edges)


def read_inputs(store: KnowledgeStore) -> AlignmentInputs:
    """The taxonomy view, which taxonomies declare attributes for their types, and the parent
    links as ingested (whether a type already sits under a declaring type: a run's own earlier
    edges do not count, so a run at another gate finds the same candidates)."""
    view = read_view(store)
    declared = {r["type"].value for r in store.select("list_applicability")}
    curated: dict[str, set[str]] = {}
    for r in store.select("list_curated_subclass_edges"):
        curated.setdefault(r["child"].value, set()).add(r["parent"].value)
    return AlignmentInputs(view, {view.scheme[t] for t in declared if t in view.scheme}, curated)


class AlignmentStage(Stage):
    name = "alignment"
    model_name, model_version = MODEL_NAME, MODEL_VERSION
    requires = (RDFS.subClassOf, RDFS.label, SKOS.inScheme, AK.forType, AK.applicable, RDF.type)
    assigns = (RDFS.subClassOf,)

    def kind_of(self, group: str) -> str:
        return "subClassOf edge"

    def __init__(self, seed: int = 0, max_train: int = 1500, other_trees: bool = True):
        self.seed, self.max_train, self.other_trees = seed, max_train, other_trees
        self.metrics_: dict[str, Any] = {}
        self.model_ = AlignmentModel(seed)

    def read(self, store: KnowledgeStore) -> AlignmentInputs:
        return read_inputs(store)

    def trees(self, inputs: AlignmentInputs, embed, schemes=None) -> dict[str, Tree]:
        """The declaring taxonomies (or `schemes`) as Trees."""
        v = inputs.view
        return {s: Tree(v, [t for t in v.names if v.scheme.get(t) == s], embed) for s in sorted(schemes or inputs.declaring)}

    def training_schemes(self, inputs: AlignmentInputs) -> list[str]:
        """The declaring taxonomies, and any other with at least MIN_TREE parent links (its
        types read by their products' titles, as the catalogue's types are)."""
        v = inputs.view
        sizes: dict[str, int] = {}
        for c in v.parents:
            if v.scheme.get(c):
                sizes[v.scheme[c]] = sizes.get(v.scheme[c], 0) + 1
        return sorted(set(inputs.declaring) | {s for s, n in sizes.items() if n >= MIN_TREE and self.other_trees})

    # ---- training ----------------------------------------------------------------------------
    def fit(self, inputs: AlignmentInputs, embed=None, exclude: frozenset[str] = frozenset()) -> "AlignmentStage":
        """Train on the declaring taxonomies' hidden types; gate on a held-in share of them.
        `exclude`: types neither trained nor calibrated on (the evaluation's dev types)."""
        from ...ml.encoder import embed as default_embed
        from ...ml.gate import Gate

        embed = embed or default_embed
        train, held = [], []
        for scheme, tree in self.trees(inputs, embed, self.training_schemes(inputs)).items():
            types = sorted((t for t in self.model_.hidden_sources(tree) if t not in exclude),
                           key=lambda t: bucket("align" + t, 10**6))
            types = types[: self.max_train]
            # the gate is drawn on the declaring taxonomies' types: those the run attaches under
            mine = [t for t in types if bucket("align-held" + t) < HELD_IN] if scheme in inputs.declaring else []
            train += self.model_.examples(inputs.view, tree, [t for t in types if t not in set(mine)], embed)
            held += [(tree, e) for e in self.model_.examples(inputs.view, tree, mine, embed)]
        if not train:
            self.gate_ = Gate()
            self.metrics_ = {"trained on": 0, "note": "no declaring taxonomy with parent links: nothing to learn from"}
            return self
        self.model_.fit(train)
        scores, right, exact = [], [], []
        for tree, (t, cands, X, _, _) in held:
            c, p, _ = self.model_.best(tree, cands, X)
            if c is None:
                continue
            scores.append(p)
            right.append(tree.ids[c] in tree.ancestors[t])
            exact.append(tree.ids[c] in tree.parents[t])
        self.gate_ = Gate.fit(scores, right, [GROUP] * len(scores), min_group=1, confidence=GATE_CONFIDENCE)
        self.metrics_ = {"trained on": len(train), "held in": len(scores),
                         "held-in: found type holds it": float(np.mean(right)) if right else None,
                         "held-in: found its parent (acc@1)": float(np.mean(exact)) if exact else None}
        return self

    # ---- running -----------------------------------------------------------------------------
    def sources(self, inputs: AlignmentInputs) -> list[Source]:
        """Types with products in taxonomies that declare nothing, not yet under a declaring type."""
        v, ingested = inputs.view, TaxonomyView({}, inputs.curated, {})
        out = []
        for t in sorted(v.titles):
            if t not in v.names or v.scheme.get(t) in inputs.declaring:
                continue
            if any(v.scheme.get(a) in inputs.declaring for a in ingested.ancestors(t)):
                continue
            out.append(Source(t, v.names[t], members_of(v, t)))
        return out

    def predict(self, inputs: AlignmentInputs, embed=None) -> list[Fact]:
        """Each source under its best candidate of any declaring taxonomy, where the gate passes."""
        from ...ml.encoder import embed as default_embed

        embed = embed or default_embed
        sources = self.sources(inputs)
        found: list[tuple[Source, str, float, np.ndarray]] = []
        best: dict[str, tuple[float, str, np.ndarray]] = {}
        for scheme, tree in self.trees(inputs, embed).items():
            for s, (cands, X) in zip(sources, self.model_.features(tree, sources, embed)):
                c, p, row = self.model_.best(tree, cands, X)
                if c is not None and p > best.get(s.type, (-1.0,))[0]:
                    best[s.type] = (p, tree.ids[c], row)
        for s in sources:
            if s.type in best:
                p, t, row = best[s.type]
                found.append((s, t, p, row))
        if not found:
            return []
        prob, ok = self.gated([GROUP] * len(found), np.array([f[2] for f in found]))
        facts = []
        for (s, t, _, row), q, passed in zip(found, prob, ok):
            if passed:
                facts.append(Fact(NamedNode(s.type), RDFS.subClassOf, NamedNode(t), evidence=_evidence(s, row),
                                  confidence=round(float(q), 4)))
        return facts

    def score(self, inputs: AlignmentInputs) -> dict[str, Any]:
        """The held-in figures of the last `fit` (the evaluation scores hidden types and another
        taxonomy's curated alignment beside baselines: `autoknow evaluate alignment`)."""
        return dict(self.metrics_)

    # ---- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        self.model_.save(folder)
        self.save_config(folder, {"seed": self.seed, "max_train": self.max_train, "other_trees": self.other_trees})

    @classmethod
    def load(cls, folder: Path) -> "AlignmentStage":
        stage = cls.from_config(folder)
        stage.model_ = AlignmentModel.load(folder)
        return stage


def _evidence(s: Source, row: np.ndarray) -> Evidence:
    """What the attachment rests on, readable: the members' vote and the name's similarity."""
    f = dict(zip(FEATURES, row))
    read = f"{len(s.members)} member{'s' * (len(s.members) != 1)}" if s.members else "its name alone"
    return Evidence(f"read with {read}; members nearest under it {f['vote']:.0%}; name similarity "
                    f"{f['name_path']:.2f}, members' {f['members_path']:.2f}")
