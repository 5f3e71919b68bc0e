"""Hypernym attachment on hidden leaves: accuracy@1, hit@5, MRR and precision at the operating
threshold, for the model (with and without behaviour features) and two baselines in the same run.

Protocol: in every taxonomy with enough structure, a deterministic 10% of the leaf types (by a
hash of their IRI) lose their parent links; the model trains and calibrates on the rest and
ranks, for each hidden leaf, every type of its taxonomy that has children. The model sees the
leaf's name, its products and baskets — never its id or path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...evaluation import sample
from ...ml.gate import Gate
from ...splits import bucket
from .hypernym import FEATURES, HypernymModel, leaf_candidates
from .reranker import Reranker
from ..view import TaxonomyView

col = {name: i for i, name in enumerate(FEATURES)}

__all__ = ["hidden_leaves", "evaluate_hypernyms", "evaluate_product_typing", "evaluate_title_typing", "evaluate", "dev_precision", "DATA_FILES"]


def hidden_leaves(view: TaxonomyView, share: int = 10, min_candidates: int = 10) -> dict[str, list[str]]:
    """Per taxonomy: the leaves (types with parents and no children) held out for evaluation."""
    kids = view.children()
    out: dict[str, list[str]] = {}
    for s in sorted(set(view.scheme.values())):
        internal = [t for t in kids if view.scheme.get(t) == s]
        if len(internal) < min_candidates // 5 + 1:
            continue
        leaves = sorted(t for t, ps in view.parents.items() if ps and t not in kids and view.scheme[t] == s)
        out[s] = [t for t in leaves if bucket(t) < share]
    return {s: h for s, h in out.items() if h}


def _metrics(ranks: list[int], top_scores: list[float], correct_top: list[bool], threshold: float | None) -> dict[str, float]:
    r = np.array(ranks, dtype=float)
    out = {"n": len(ranks), "acc@1": float(np.mean(r == 1)), "hit@5": float(np.mean(r <= 5)), "mrr": float(np.mean(1 / r))}
    out["precision@thr"] = out["coverage@thr"] = None  # baselines have no operating threshold
    if threshold is not None:
        kept = [ok for s, ok in zip(top_scores, correct_top) if s >= threshold]
        out["precision@thr"] = float(np.mean(kept)) if kept else None
        out["coverage@thr"] = len(kept) / max(1, len(ranks))
    return out


def _rank_of_gold(order: list[str], gold: set[str]) -> int:
    for i, p in enumerate(order, start=1):
        if p in gold:
            return i
    return len(order) + 1


def evaluate_hypernyms(view: TaxonomyView, embed: Callable | None = None, target_precision: float = 0.877,
                       slices: dict[str, set[str]] | None = None, seed: int = 0,
                       hidden: dict[str, list[str]] | None = None, trained: HypernymModel | None = None,
                       max_children: int | None = None, rerank: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rows of metrics per taxonomy (and named slices) for model, no-behaviour model and baselines.

    `slices` maps a slice name to a set of hidden leaf IRIs reported separately (e.g. Shopify
    leaves whose name is not in the Google taxonomy). `hidden`: the leaves to attach per taxonomy
    (default: a hash share of each taxonomy's leaves); `trained`: a saved model to score instead
    of training two; `max_children`, a hash sample of the training leaves (the quick profile;
    the calibration leaves are all kept: the gates are drawn through them); `rerank`, the re-ranker's settings (None: not
    trained), scored as its own row with per-taxonomy thresholds, further parents and
    precision-coverage.
    """
    from ...ml.encoder import embed as default_embed

    embed = embed or default_embed
    hidden = hidden if hidden is not None else hidden_leaves(view)
    all_hidden = {t for h in hidden.values() for t in h}
    train_view = view.without(all_hidden)
    kids = train_view.children()
    by_scheme = {s: sorted(t for t in kids if view.scheme.get(t) == s) for s in hidden}
    # train on leaves: what is attached later (hidden leaves, new types) is a leaf too (measured on
    # Shopify: a pairwise ranker trained on leaves only, 0.444 acc@1, on all children, 0.416)
    children = sorted(c for c, ps in train_view.parents.items() if ps and view.scheme[c] in by_scheme and c not in kids)
    calib = [c for c in children if bucket("calib" + c) < 15]
    train = [c for c in children if bucket("calib" + c) >= 15]
    if max_children is not None:
        train = sample(train, max_children, str)  # every calibration leaf: the gates need them (quick or not)
    cands = lambda c: by_scheme[view.scheme[c]]  # noqa: E731  (a hidden leaf's: its parents lost it)
    known = leaf_candidates(train_view, by_scheme)  # a training or calibration leaf's, as a new type's

    results: dict[str, Any] = {"rows": [], "hidden": {s: len(h) for s, h in hidden.items()},
                               "train_children": len(train), "calibration_children": len(calib)}
    models = {}
    if trained is not None:
        trained.prepare(view, embed)
        trained.restructure(train_view)
        shared = models["saved model"] = trained
    for use_behaviour in (() if trained is not None else (True, False)):
        m = HypernymModel(use_behaviour=use_behaviour, seed=seed)
        if not models:
            m.prepare(view, embed)
            m.restructure(train_view)
            shared = m
        else:
            m.share_features(shared)
        m.fit(train, known)
        m.calibrate(calib, known, target_precision)
        models["model" if use_behaviour else "model without behaviour"] = m
    results["threshold"] = {k: m.threshold_ for k, m in models.items()}
    reranker = None
    if rerank is not None and trained is None:
        reranker = Reranker(seed=seed, **rerank).fit(models["model"], train_view, train, calib, known)
        results["re-ranker"] = {"pairs": reranker.pairs_, "method per taxonomy": reranker.choice_,
                                "held-in acc@1": reranker.held_in_}
        reranked = reranker.rank_many(sorted(all_hidden), cands, scheme_of=view.scheme.get)
        passed, results["threshold"]["re-ranker"] = _attach(reranked, view, _rerank_gate(reranker), target_precision)

    groups = {s: h for s, h in hidden.items()}
    for name, members in (slices or {}).items():
        groups[name] = [t for t in all_hidden if t in members]
    for group, leaves in groups.items():
        if not leaves:
            continue
        if reranker is not None:
            results["rows"].append({"taxonomy": group, "method": RERANKER,
                                    **_reranked_metrics(reranked, leaves, view, passed)})
            results.setdefault("further parents", []).append(
                {"taxonomy": group, **_further_parents(reranked, leaves, view, passed)})
            results.setdefault("precision-coverage", []).append(
                {"taxonomy": group, **_precision_coverage(reranked, leaves, view)})
        for method in (*models, "baseline: name embedding", "baseline: head word"):
            ranks, tops, oks = [], [], []
            for leaf in leaves:
                gold = view.parents[leaf]
                if method in models:
                    ranked = models[method].rank(leaf, cands(leaf))
                    order = [p for p, _, _ in ranked]
                    tops.append(ranked[0][1])
                else:
                    pool, F = shared.candidate_features(leaf, cands(leaf))
                    if method == "baseline: name embedding":
                        key = -F[:, col["name_cos"]]
                    else:  # lexical: same head word, then parent's words contained, then overlap
                        key = -(F[:, col["head"]] * 4 + F[:, col["contained"]] * 2 + F[:, col["jaccard"]])
                    order = [pool[i] for i in np.lexsort((np.arange(len(pool)), key))]
                ranks.append(_rank_of_gold(order, gold))
                oks.append(order[0] in gold)
            thr = models[method].threshold_ if method in models else None
            row = {"taxonomy": group, "method": method, **_metrics(ranks, tops, oks, thr)}
            results["rows"].append(row)
    return results


RERANKER = "re-ranker (final)"


def _rerank_gate(reranker: Reranker) -> "Gate":
    """The stage's re-ranker gates (`ml.gate`, at its confidence), fitted as the stage fits them:
    per taxonomy, on the held-in (out-of-fold) first parents and on the second and third ones."""
    from .stage import GATE_CONFIDENCE, parent_group

    held = reranker.held_in(ranks=3)
    return Gate.fit([s for _, _, s, _ in held], [ok for _, _, _, ok in held],
                    [parent_group(i, scheme) for scheme, i, _, _ in held], min_group=1, confidence=GATE_CONFIDENCE)


def _attach(reranked, view, gate, target: float) -> tuple[dict[str, list[bool]], dict[str, dict[str, float | None]]]:
    """What the stage would attach to each hidden leaf: whether each of its first three
    re-ranked parents passes its gate (`Gate.apply` over every hidden leaf at once, as a run
    gates all its new types; a leaf whose first parent is refused gets no further one), and
    per taxonomy the run's gates (calibrated probability) for first and further parents."""
    from .stage import parent_group

    rows = [(leaf, i, s) for leaf in sorted(reranked) for i, (_, s, _) in enumerate(reranked[leaf][:3])]
    groups = [parent_group(i, view.scheme[leaf]) for leaf, i, _ in rows]
    _, ok, runs = gate.apply(groups, [s for _, _, s in rows], target)
    passed: dict[str, list[bool]] = {}
    for (leaf, i, _), o in zip(rows, ok):
        mine = passed.setdefault(leaf, [])
        mine.append(bool(o) and (i == 0 or mine[-1]))
    gates = {scheme: {kind: runs.get(parent_group(i, scheme), {}).get("run gate") for kind, i in (("first", 0), ("further", 1))}
             for scheme in sorted({view.scheme[leaf] for leaf in reranked})}
    return passed, gates


def _reranked_metrics(reranked, leaves, view, passed) -> dict[str, float]:
    ranks, oks = [], []
    for leaf in leaves:
        ranked, gold = reranked[leaf], view.parents[leaf]
        ranks.append(_rank_of_gold([p for p, _, _ in ranked], gold))
        oks.append(ranked[0][0] in gold)
    out = _metrics(ranks, [], [], None)
    kept = [ok for ok, leaf in zip(oks, leaves) if passed[leaf][0]]
    out["precision@thr"] = float(np.mean(kept)) if kept else None
    out["coverage@thr"] = len(kept) / max(1, len(leaves))
    return out


def _further_parents(reranked, leaves, view, passed) -> dict[str, float | None]:
    """Second and third parents attached (each past its own gate, after a first that passed its
    own): how many, and how many of them are true parents."""
    attached = [p in view.parents[leaf] for leaf in leaves
                for (p, _, _), ok in zip(reranked[leaf][1:3], passed[leaf][1:3]) if ok]
    multi = sum(len(view.parents[leaf]) > 1 for leaf in leaves)
    return {"leaves with several parents": multi, "further parents attached": len(attached),
            "precision": float(np.mean(attached)) if attached else None}


def _precision_coverage(reranked, leaves, view, points=(0.1, 0.2, 0.3, 0.5, 0.7, 1.0)) -> dict[str, float]:
    """Precision of the first parent over the most confident share of the leaves, per share."""
    order = sorted(leaves, key=lambda t: -reranked[t][0][1])
    right = np.cumsum([reranked[t][0][0] in view.parents[t] for t in order])
    return {f"precision at {int(p * 100)}% coverage": float(right[max(0, int(round(p * len(order))) - 1)] / max(1, int(round(p * len(order)))))
            for p in points if order}


def evaluate_product_typing(view: TaxonomyView, hidden: list[str], embed: Callable | None = None,
                            per_type: int = 60, epochs: int = 40, seed: int = 0) -> list[dict[str, Any]]:
    """Which type do a hidden leaf's products belong to? Rank every leaf of the hidden leaves'
    taxonomy (hidden ones included, known to the model by name only) for each of their products.

    Model: a linear map from title embeddings into the space of type-name embeddings, trained
    with a softmax over the visible leaves' names on their products (none of a hidden leaf's
    products is seen), so a type known only by its name can still be chosen. Trained types score
    higher than name-only ones, so their scores are lowered by a margin chosen on a slice of
    visible leaves held out of training (calibrated stacking). Baseline in the same run: cosine of
    the title to the type name.
    """
    import torch
    import torch.nn.functional as nnf

    from ...ml.encoder import embed as default_embed

    embed = embed or default_embed
    kids = view.children()
    scheme = {view.scheme[t] for t in hidden}
    leaves = sorted(t for t in view.names if view.scheme[t] in scheme and t not in kids and view.titles.get(t))
    role = {t: "hidden" if t in hidden else "val" if bucket("typing" + t) < 15 else "train" for t in leaves}
    rows, gold, roles = [], [], []
    for i, t in enumerate(leaves):
        sample = sorted(view.titles[t], key=lambda x: bucket(t + x))[:per_type]
        rows += sample
        gold += [i] * len(sample)
        roles += [role[t]] * len(sample)
    names = torch.tensor(embed([view.names[t] for t in leaves]))
    X, y = torch.tensor(embed(rows)), torch.tensor(gold)
    part = {r: torch.tensor([x == r for x in roles]) for r in ("train", "val", "hidden")}
    trained = torch.tensor([role[t] == "train" for t in leaves])
    torch.manual_seed(seed)
    W = torch.nn.Parameter(torch.eye(X.shape[1]))
    scale = torch.nn.Parameter(torch.tensor(10.0))
    opt = torch.optim.Adam([W, scale], lr=1e-3, weight_decay=1e-4)
    for _ in range(epochs):  # full batch: a few thousand titles
        logits = scale * nnf.normalize(X[part["train"]] @ W, dim=1) @ names.T
        loss = nnf.cross_entropy(logits.masked_fill(~trained, -1e4), y[part["train"]])
        opt.zero_grad()
        loss.backward()
        opt.step()

    def ranks(S: torch.Tensor, rows: torch.Tensor, among: torch.Tensor | None = None) -> torch.Tensor:
        S = S[rows] if among is None else S[rows].masked_fill(~among, -1e4)
        return (S > S.gather(1, y[rows][:, None])).sum(1) + 1

    with torch.no_grad():
        projected = nnf.normalize(X @ W, dim=1) @ names.T
        margins = [m / 100 for m in range(0, 61, 2)]
        val_acc = [float((ranks(projected - m * trained, part["val"]) == 1).float().mean()) for m in margins]
        margin = margins[int(np.argmax(val_acc))]
        methods = {"model": projected - margin * trained, "baseline: name embedding": X @ names.T}
    out = []
    new = torch.tensor([role[t] == "hidden" for t in leaves])
    for method, S in methods.items():
        r, r_new = ranks(S, part["hidden"]), ranks(S, part["hidden"], new)
        out.append({"method": method, "products": int(part["hidden"].sum()), "hidden types": int(new.sum()),
                    "types": len(leaves), "acc@1": float((r == 1).float().mean()),
                    "hit@5": float((r <= 5).float().mean()), "mrr": float((1 / r.float()).mean()),
                    "acc@1 among hidden": float((r_new == 1).float().mean()),
                    "margin": margin if method == "model" else None})
    return out


SPAN_ONLY = ("vote", "vote_parent", "vote_root", "vote_specific", "nearest_with", "nearest", "cos_path", "cos_name",
             "own_types", "has_own_types", "vote_rank", "path_rank", "depth", "leaf", "products")  # the title's words only


def evaluate_title_typing(titles: dict[str, str], types: dict[str, set[str]], view: TaxonomyView,
                          target_precision: float = 0.9, max_products: int | None = None, seed: int = 0,
                          embed: Callable | None = None) -> list[dict[str, Any]]:
    """Product typing against curated types: each held-out product's types of one taxonomy are
    hidden in turn and its type of that taxonomy is chosen again. The title typer, the same
    classifier reading the title's words only (span-only: the type names found in the title as
    candidates, weighed by where each sits; no near products, votes or paths), and the dictionary (the longest type name found in the title) are
    scored on the same held-out (product, taxonomy) pairs: half of them (by a hash) fit each model's
    gate, the other half report precision and coverage at it; the dictionary has no gate."""
    import copy

    from ...ml.encoder import embed as default_embed
    from .stage import GATE_CONFIDENCE
    from .title_typer import TitleTyper

    embed = embed or default_embed
    products = sample(sorted(titles), max_products, str)
    titles = {p: titles[p] for p in products}
    types = {p: types[p] for p in products if types.get(p)}
    rows = []
    base = TitleTyper(seed=seed).prepare(view, titles, types, embed)
    held_pairs = [(p, s) for p, s in base.training_pairs(held=True) if bucket("typing-gate" + p) >= 50]
    for method, ignore in (("title typer", ()), ("title typer, span only", SPAN_ONLY)):
        typer = base
        if ignore:  # the same index (prepared once), names only as candidates and the ablated features held at 0
            typer = copy.copy(base)
            typer.ignore, typer.near = ignore, float("inf")
        held = typer.fit().held_in()
        fit_half = [bucket("typing-gate" + c.product) < 50 for c, _, _ in held]
        gate = Gate.fit([s for (_, s, _), f in zip(held, fit_half) if f], [ok for (_, _, ok), f in zip(held, fit_half) if f],
                        [""] * sum(fit_half), min_group=1, confidence=GATE_CONFIDENCE)
        dev = [(c, s, ok) for (c, s, ok), f in zip(held, fit_half) if not f]
        pairs = len(held_pairs)  # every dev (product, taxonomy), typed or not: the coverage's denominator
        _, passed, _ = gate.apply([""] * len(dev), [s for _, s, _ in dev], target_precision)
        kept = [ok for (_, _, ok), p in zip(dev, passed) if p]
        rows.append({"method": method, "dev pairs": pairs, "typed (any)": len(dev),
                     "precision (any)": float(np.mean([ok for _, _, ok in dev])) if dev else None,
                     "precision@gate": float(np.mean(kept)) if kept else None,
                     "coverage@gate": len(kept) / pairs if pairs else None,
                     "gate pairs": sum(fit_half), "trained on": len(typer.trained_on_)})
    named = [(p, base.named_longest(titles[p], s)) for p, s in held_pairs]
    typed = [base.right_type(p, t) for p, t in named if t is not None]
    rows.append({"method": "baseline: dictionary", "dev pairs": len(held_pairs), "typed (any)": len(typed),
                 "precision (any)": float(np.mean(typed)) if typed else None, "precision@gate": None,
                 "coverage@gate": None, "gate pairs": None, "trained on": 0})
    return rows


EVALUATION_FILES = (
    "openfoodfacts_categories/categories.full.jsonl*", "shopify_product_taxonomy/categories.tsv",
    "instacart_baskets/products.csv", "instacart_baskets/order_products__*.csv",
    "openfoodfacts_products/*_products.jsonl*",
)


def _tagging_files(folder: "Path") -> bool:
    return any(folder.glob("oa_mine_attributes/*.jsonl")) or any(folder.glob("wdc_pave_attributes/*.jsonl"))


def new_leaves(train: TaxonomyView, merged: TaxonomyView) -> tuple[dict[str, list[str]], dict[str, int]]:
    """`--train/--test` hidden leaves: the types the test folder adds to the training taxonomy
    under a parent the training taxonomy has, per taxonomy. Left out and counted: added types
    named like a training type (the name alone would give them away) and those whose parents
    are all new too (no training type to attach them to)."""
    known = {n.lower() for n in train.names.values()}
    hidden: dict[str, list[str]] = {}
    left_out = {"named like a training type": 0, "parents new too": 0}
    for t in sorted(set(merged.names) - set(train.names)):
        if not merged.parents.get(t):
            continue
        if merged.names[t].lower() in known:
            left_out["named like a training type"] += 1
        elif not merged.parents[t] & set(train.names):
            left_out["parents new too"] += 1
        else:
            hidden.setdefault(merged.scheme[t], []).append(t)
    return hidden, left_out


def over_runs(runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of several seeded runs as one row each: the mean of every figure, and the lowest and
    highest accuracy@1 and precision (the run-to-run spread); a single run as it is.

    >>> over_runs([[{"m": "a", "acc@1": 0.4}], [{"m": "a", "acc@1": 0.5}]])
    [{'m': 'a', 'acc@1': 0.45, 'runs': 2, 'acc@1 min': 0.4, 'acc@1 max': 0.5}]
    """
    if len(runs) == 1:
        return runs[0]
    out = []
    for rows in zip(*runs):
        row: dict[str, Any] = {}
        for k, v in rows[0].items():
            numbers = [r[k] for r in rows if isinstance(r[k], (int, float)) and not isinstance(r[k], bool)]
            row[k] = round(float(np.mean(numbers)), 4) if numbers and isinstance(v, float) else v
        row["runs"] = len(rows)
        for k in ("acc@1", "precision@thr", "precision"):
            vals = [r[k] for r in rows if r.get(k) is not None]
            if vals:
                row[f"{k} min"], row[f"{k} max"] = round(min(vals), 4), round(max(vals), 4)
        out.append(row)
    return out


def evaluate_taxonomy(data: "Path", tagging: bool = True, test: "Path | None" = None, model: "Path | None" = None,
                      tagging_sizes: dict[str, Any] | None = None, max_children: int | None = None,
                      rerank: dict[str, Any] | None = None, seeds: tuple[int, ...] = (0,),
                      typing_products: int | None = None) -> dict[str, Any]:
    """`autoknow evaluate taxonomy --data DIR`: the span tagger against the dictionary baseline,
    and hypernym attachment on hidden leaves (Shopify leaves whose name is not in the Google
    taxonomy as their own row). With `test`: the tagger is scored on the test folder's titles and
    the types the test taxonomies add are attached. `model`: a saved taxonomy stage whose ranker
    (and tagger) are scored instead of training new ones; `tagging_sizes`, the tagger's epochs and
    sample sizes (the quick profile). Each table comes with its split sizes. `rerank`: the
    hypernym re-ranker's settings (None: not trained); `seeds`: the hypernym runs reported (rows
    averaged, with their spread); `typing_products`, the products whose curated types the title
    typer is trained and scored on (None: all; 0: not scored)."""
    from pathlib import Path

    from ...errors import AutoknowError
    from ...loaders.taxonomy import google_taxonomy, off_categories, shopify_categories
    from ...evaluation.labelled import evaluation_store
    from .stage import TaxonomyStage
    from ..view import read_view
    from .evaluate_tagging import evaluate_tagging

    data = Path(data)
    saved = TaxonomyStage.open(Path(model)) if model is not None else None
    result: dict[str, Any] = {"tables": {}, "skipped": []}
    if tagging and _tagging_files(data) and (test is None or _tagging_files(Path(test))):
        names: set[str] = set()
        for path in data.glob("openfoodfacts_categories/categories.full.jsonl*"):
            names |= {r.ref.label for r in off_categories(path) if r.label_lang == "en" and r.ref.label}
        for path in data.glob("shopify_product_taxonomy/categories.tsv"):
            names |= {r.ref.label for r in shopify_categories(path)}
        tag = evaluate_tagging(data, names, test=test, trained=saved.tagger_ if saved is not None else None,
                               **(tagging_sizes or {}))
        result["tables"]["tagging"] = tag.pop("rows")
        result["tagging"] = tag
    elif tagging:
        result["skipped"].append("tagging: no OA-Mine or WDC-PAVE titles" + (" in both folders" if test else ""))
    hidden = None
    if test is None:
        store = evaluation_store(data, EVALUATION_FILES)
        view = read_view(store)
        if typing_products != 0:
            from .stage import read_inputs

            inputs = read_inputs(store)
            if inputs.types:
                result["tables"]["product typing (curated types hidden)"] = evaluate_title_typing(
                    inputs.titles, inputs.types, inputs.view, TaxonomyStage().min_precision, typing_products)
    else:
        view = read_view(evaluation_store([data, Path(test)], EVALUATION_FILES))
        hidden, left_out = new_leaves(read_view(evaluation_store(data, EVALUATION_FILES)), view)
        result["skipped"] += [f"hypernyms: {n} added types not scored ({why})" for why, n in left_out.items() if n]
        if not hidden and not result["tables"]:
            raise AutoknowError(f"{test}: adds no type with a parent to the training taxonomies, and has no titles to tag")
    slices = {}
    google = next(iter(data.glob("google_product_taxonomy/taxonomy-with-ids*.tsv")), None)
    if google is not None:
        google_names = {r.ref.label.lower() for r in google_taxonomy(google)}
        slices["shopify, name not in Google"] = {t for t, n in view.names.items()
                                                 if "/scheme/shopify" in view.scheme[t] and n.lower() not in google_names}
    if hidden != {}:
        stage = saved or TaxonomyStage()
        runs = [evaluate_hypernyms(view, target_precision=stage.min_precision, slices=slices, seed=seed,
                                   hidden=hidden, trained=saved.model_ if saved is not None else None,
                                   max_children=max_children, rerank=rerank if saved is None else None)
                for seed in (seeds if saved is None else (stage.seed,))]
        result["tables"]["hypernym"] = over_runs([r.pop("rows") for r in runs])
        for table in ("further parents", "precision-coverage"):
            if table in runs[0]:
                result["tables"][f"hypernym {table}"] = over_runs([r.pop(table) for r in runs])
        result["hypernym"] = runs[0] if len(runs) == 1 else {"runs": runs, "seeds": list(seeds)}
    else:
        result["skipped"].append("hypernyms: the test folder adds no type with a parent")
    instacart = next((h for s, h in (hidden or hidden_leaves(view)).items() if s.endswith("/instacart")), [])
    if instacart:
        result["tables"]["product typing (hidden Instacart aisles)"] = evaluate_product_typing(view, instacart)
    return result


DATA_FILES = ("oa_mine_attributes/*.jsonl", "wdc_pave_attributes/*.jsonl")  # hidden leaves are new by construction: titles only


PROFILES = {"full": {"rerank": {"max_train": 3000, "epochs": 2}, "seeds": (0, 1, 2)},
            "quick": {"tagging_sizes": {"epochs": 3, "max_train": 2500, "max_dev": 1500}, "typing_products": 4000,
                      "max_children": 2500, "rerank": {"max_train": 1500, "epochs": 1}}}


def evaluate(data: Path, test: Path | None = None, model: Path | None = None, profile: str = "full") -> dict[str, Any]:
    """The stage's protocol (`autoknow evaluate taxonomy`); `quick` trains the span tagger and the
    hypernym ranker on samples (the tagger for fewer epochs), scored on the same hidden leaves."""
    return evaluate_taxonomy(data, test=test, model=model, **PROFILES[profile])


def dev_precision(tables: dict[str, list[dict]]) -> float | None:
    """Hypernym edges at the calibrated threshold, over the hidden leaves of every taxonomy."""
    rows = [r for r in tables.get("hypernym", []) if r.get("method") == "model" and r.get("precision@thr") is not None]
    n = sum(r["n"] * r["coverage@thr"] for r in rows)
    return sum(r["precision@thr"] * r["n"] * r["coverage@thr"] for r in rows) / n if n else None
