"""Alignment on hidden types and on another taxonomy's curated alignment, beside two baselines.

Protocol (`autoknow evaluate alignment --data DIR`): the store holds Shopify's categories and
their attribute links (the declaring taxonomy), Open Food Facts' category taxonomy and products
(trained on too: its types are read by their products' titles) and the Google product taxonomy
with Shopify's published Shopify→Google mapping (never trained on).
- "hidden Shopify types": a deterministic 15% of Shopify's parented types (by a hash of their IRI)
  are neither trained nor calibrated on; each is hidden with its subtree and attached again. The
  found type is right when it holds the hidden one (its parent or an ancestor); acc@1 asks for the
  parent itself.
- "Shopify → Google": every mapped Shopify type, read by its name and the names below it, is
  attached under a Google type; right when that is the mapped Google type or one above it. The
  slice "names differ" leaves out types whose Google match has their very name (many Shopify
  names sit in Google's taxonomy: a name lookup gets those for free).
Each row gives precision at top-1 (every type attached), and the share attached and their
precision at the held-in 0.9 gate. Baselines, in the same run: the nearest type by name-to-path
embedding, and the members' vote (the deepest type at least half the members are nearest under;
the name's nearest type where it has no members).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...evaluation import pick
from ...splits import bucket

__all__ = ["evaluate", "evaluate_alignment", "dev_precision", "DATA_FILES", "EVALUATION_FILES", "PROFILES"]

EVALUATION_FILES = (
    "shopify_product_taxonomy/categories.tsv", "shopify_product_taxonomy/category_attributes.tsv",
    "shopify_product_taxonomy/shopify_to_google.tsv", "google_product_taxonomy/taxonomy-with-ids*.tsv",
    "openfoodfacts_categories/categories.full.jsonl.gz", "openfoodfacts_products/*.jsonl.gz",
)
DATA_FILES: tuple[str, ...] = ()  # dev types are hidden by hash; the Google mapping is never trained on
DEV = 15  # percent of Shopify's parented types held out
MODEL, NEAREST, VOTE = "model", "baseline: nearest by name-to-path embedding", "baseline: members' vote"
PROFILES: dict[str, dict] = {"full": {"max_train": 5000}, "quick": {"max_train": 1500}}


def _vote_pick(cands: list[int], X: np.ndarray) -> int | None:
    from .model import FEATURES

    f = {n: i for i, n in enumerate(FEATURES)}
    if not len(cands):
        return None
    if X[0, f["members"]] == 0:
        return cands[int(np.argmax(X[:, f["name_path"]]))]
    ok = np.flatnonzero(X[:, f["vote"]] >= 0.5)
    if not len(ok):
        return cands[int(np.argmax(X[:, f["vote"]]))]
    return cands[int(ok[np.lexsort((-X[ok, f["vote"]], -X[ok, f["depth"]]))[0]])]


def _picks(stage, tree, cands: list[int], X: np.ndarray) -> dict[str, tuple[int | None, float | None]]:
    """Each method's found type (and the model's calibrated probability)."""
    from .model import FEATURES
    from .stage import GROUP

    c, p, _ = stage.model_.best(tree, cands, X)
    q = float(stage.gate_.probability(GROUP, [p])[0]) if c is not None else None
    near = cands[int(np.argmax(X[:, FEATURES.index("name_path")]))] if len(cands) else None
    return {MODEL: (c, q), NEAREST: (near, None), VOTE: (_vote_pick(cands, X), None)}


def _rows(slice_: str, found: dict[str, list[tuple[bool, bool, float | None]]], gate: float | None) -> list[dict]:
    rows = []
    for method, items in found.items():
        right = np.array([r for r, _, _ in items], dtype=bool)
        exact = np.array([e for _, e, _ in items], dtype=bool)
        row = {"slice": slice_, "method": method, "types": len(items),
               "precision@1": float(right.mean()) if len(items) else None,
               "acc@1 (nearest broader itself)": float(exact.mean()) if len(items) else None}
        row["attached at the 0.9 gate"] = row["precision at the 0.9 gate"] = None  # a baseline has no gate
        if method == MODEL:
            passed = np.array([q is not None and gate is not None and q >= gate for _, _, q in items], dtype=bool)
            row["attached at the 0.9 gate"] = float(passed.mean()) if len(items) else 0.0
            row["precision at the 0.9 gate"] = float(right[passed].mean()) if passed.any() else None
        rows.append(row)
    return rows


def evaluate_alignment(data: Path, max_train: int = 1500, seed: int = 0) -> dict[str, Any]:
    """The two tables (see the module) on the data sets under `data`."""
    from ...errors import AutoknowError
    from ...evaluation.labelled import evaluation_store
    from ...ml.encoder import embed
    from ...vocab import scheme_iri
    from .model import Source, Tree, members_of
    from .stage import GROUP, AlignmentStage, read_inputs

    store = evaluation_store(Path(data), EVALUATION_FILES)
    inputs = read_inputs(store)
    shopify, google = scheme_iri("shopify").value, scheme_iri("google").value
    if shopify not in inputs.declaring:
        raise AutoknowError(f"{data}: no Shopify category→attribute links (shopify_product_taxonomy/category_attributes.tsv)")
    view = inputs.view
    dev = frozenset(t for t, ps in view.parents.items() if view.scheme.get(t) == shopify and ps and bucket("align-dev" + t) < DEV)
    stage = AlignmentStage(seed=seed, max_train=max_train).fit(inputs, embed, exclude=dev)
    gate = stage.gate_.threshold(GROUP, 0.9)
    tables: dict[str, list[dict]] = {}

    tree = Tree(view, [t for t in view.names if view.scheme.get(t) == shopify], embed)
    found: dict[str, list] = {MODEL: [], NEAREST: [], VOTE: []}
    for t in sorted(dev):
        tree.hide(t)
        cands, X = stage.model_.features(tree, [Source(t, view.names[t], members_of(view, t, tree.below))], embed)[0]
        tree.restore()
        for method, (c, q) in _picks(stage, tree, cands, X).items():
            got = tree.ids[c] if c is not None else None
            found[method].append((got in tree.ancestors[t], got in tree.parents[t], q))
    tables["hidden Shopify types"] = _rows("hidden Shopify types", found, gate)

    mapping: dict[str, set[str]] = {}
    for r in store.select("list_close_matches"):
        if view.scheme.get(r["left"].value) == shopify and view.scheme.get(r["right"].value) == google:
            mapping.setdefault(r["left"].value, set()).add(r["right"].value)
    rows: list[dict] = []
    if mapping:
        gtree = Tree(view, [t for t in view.names if view.scheme.get(t) == google], embed)
        below = tree.below
        sources = [Source(t, view.names[t], members_of(view, t, below)) for t in sorted(mapping) if t in view.names]
        per_slice: dict[str, dict[str, list]] = {"all": {m: [] for m in found}, "names differ": {m: [] for m in found}}
        for s, (cands, X) in zip(sources, stage.model_.features(gtree, sources, embed)):
            gold = mapping[s.type]
            holds = set(gold) | {a for g in gold for a in gtree.ancestors.get(g, ())}
            differ = all(view.names.get(g, "").lower() != s.name.lower() for g in gold)
            for method, (c, q) in _picks(stage, gtree, cands, X).items():
                got = gtree.ids[c] if c is not None else None
                item = (got in holds, got in gold, q)
                per_slice["all"][method].append(item)
                if differ:
                    per_slice["names differ"][method].append(item)
        for name, f in per_slice.items():
            rows += _rows(f"Shopify → Google, {name}", f, gate)
    tables["another taxonomy (Shopify → Google, silver)"] = rows
    return {"tables": tables, "alignment": {**stage.metrics_, "dev types": len(dev), "gate at 0.9": gate}}


def evaluate(data: Path, test: Path | None = None, model: Path | None = None, profile: str = "full") -> dict[str, Any]:
    """The stage's protocol (`autoknow evaluate alignment`); `test` and `model` are not used:
    the dev types are hidden by hash and the model is trained without them."""
    from ...errors import AutoknowError

    if test is not None or model is not None:
        raise AutoknowError("evaluate alignment hides its dev types itself: give --data (or --train) only")
    return evaluate_alignment(data, **PROFILES[profile])


def dev_precision(tables: dict[str, list[dict]]) -> float | None:
    row = pick(tables.get("hidden Shopify types", []), method=MODEL)
    return row and row.get("precision at the 0.9 gate")
