"""Draw what a stage run added into a sample a person can judge, stratified over confidence.

A run's facts are grouped by kind and by confidence bin; each kind's `n` facts are shared out
over its bins as evenly as their sizes allow, and within a bin taken in hash order (a hash of
the sample's name and the fact), so the same name draws the same sample and a larger `n` extends
it. Each drawn fact carries its weight (the bin's facts per fact drawn): an estimate of the run's
precision re-weights the strata to the run's own mix. The sheet shows what a person needs to
judge the fact (title, type paths, attribute and value, the evidence span) and never its score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from ..errors import AutoknowError
from ..stages.view import type_names
from ..store import KnowledgeStore
from ..vocab import scheme_name

__all__ = ["BINS", "AUDITED_KINDS", "Run", "stage_runs", "find_run", "bin_of", "draw", "describe", "sample_run"]

BINS = (0.5, 0.6, 0.7, 0.8, 0.9)  # confidence bin edges: < 0.5, 0.5–0.6, …, ≥ 0.9
AUDITED_KINDS = ("product typed", "subClassOf edge", "attribute value", "quarantined", "equivalentClass link",
                 "sameAs link")


@dataclass(frozen=True)
class Run:
    """A stage run as its provenance names it."""

    activity: str
    graph: str
    stage: str
    run_id: str
    model: str
    model_name: str
    model_version: str
    model_checksum: str
    min_precision: float | None


def stage_runs(store: KnowledgeStore, stage: str | None = None) -> list[Run]:
    """The store's stage runs (of `stage`, if given), newest first."""
    out = []
    for r in store.select("list_stage_runs"):
        if stage is None or r["stage"].value == stage:
            out.append(Run(r["activity"].value, r["graph"].value, r["stage"].value, r["runId"].value, r["model"].value,
                           r["modelName"].value, r["modelVersion"].value, r["modelChecksum"].value,
                           float(r["minPrecision"].value) if r["minPrecision"] is not None else None))
    return out


def find_run(store: KnowledgeStore, stage: str, run_id: str | None = None) -> Run:
    """The run `run_id` of `stage`, or its newest run; an error naming what the store has."""
    runs = stage_runs(store, stage)
    if not runs:
        raise AutoknowError(f"the store has no run of stage {stage!r}; run it first (autoknow run {stage})")
    if run_id is None:
        return runs[0]
    for r in runs:
        if r.run_id == run_id:
            return r
    raise AutoknowError(f"stage {stage!r} has no run {run_id!r}; its runs: {', '.join(r.run_id for r in runs)}")


def bin_of(confidence: float | None) -> str:
    """The confidence bin a fact falls in.

    >>> bin_of(0.42), bin_of(0.5), bin_of(0.89), bin_of(0.95), bin_of(None)
    ('< 0.5', '0.5–0.6', '0.8–0.9', '≥ 0.9', 'none')
    """
    if confidence is None:
        return "none"
    if confidence < BINS[0]:
        return f"< {BINS[0]}"
    for lo, hi in zip(BINS, BINS[1:]):
        if lo <= confidence < hi:
            return f"{lo}–{hi}"
    return f"≥ {BINS[-1]}"


def _rank(name: str, fact: str) -> str:
    return hashlib.blake2b(f"{name}\t{fact}".encode(), digest_size=8).hexdigest()


def draw(facts: list[dict[str, Any]], n: int, name: str) -> list[dict[str, Any]]:
    """Up to `n` facts of each kind, shared over its confidence bins as evenly as their sizes
    allow, each bin in hash order; every drawn fact gets `weight` (its bin's facts per fact drawn).

    >>> facts = [{"fact": f"f{i}", "kind": "k", "confidence": c} for i, c in enumerate([0.1] * 10 + [0.95] * 2)]
    >>> drawn = draw(facts, 6, "s")
    >>> sorted((bin_of(f["confidence"]), f["weight"]) for f in drawn)[-1], len(drawn)
    (('≥ 0.9', 1.0), 6)
    """
    out = []
    for kind in sorted({f["kind"] for f in facts}):
        strata: dict[str, list[dict[str, Any]]] = {}
        for f in facts:
            if f["kind"] == kind:
                strata.setdefault(bin_of(f["confidence"]), []).append(f)
        take = {b: 0 for b in strata}
        left = min(n, sum(len(v) for v in strata.values()))
        while left:
            open_bins = [b for b in sorted(strata) if take[b] < len(strata[b])]
            share = max(1, left // len(open_bins))
            for b in open_bins:
                extra = min(share, len(strata[b]) - take[b], left)
                take[b] += extra
                left -= extra
                if not left:
                    break
        for b, rows in strata.items():
            ranked = sorted(rows, key=lambda f: _rank(name, f["fact"]))[:take[b]]
            out += [{**f, "weight": len(rows) / take[b]} for f in ranked]
    return sorted(out, key=lambda f: _rank(name, f["fact"]))


def run_facts(store: KnowledgeStore, run: Run) -> list[dict[str, Any]]:
    """Every auditable fact of `run` (list_run_facts) as plain values."""
    out = []
    for r in store.select("list_run_facts", graph=NamedNode(run.graph)):
        out.append({"fact": r["fact"].value, "subject": r["subject"], "predicate": r["predicate"], "object": r["object"],
                    "kind": r["kind"].value, "confidence": float(r["confidence"].value) if r["confidence"] is not None else None,
                    "evidence": r["evidence"].value if r["evidence"] is not None else "",
                    "span": (int(r["start"].value), int(r["end"].value)) if r["start"] is not None else None})
    return out


class _Terms:
    """Titles, labels, types and type paths of the store's terms, read once each."""

    def __init__(self, store: KnowledgeStore):
        self.store = store
        self.cache: dict[str, dict[str, Any]] = {}
        self.names, self.schemes = type_names(store)
        self.parents: dict[str, list[str]] = {}  # as the taxonomies state them: a run's own edges vouch for nothing
        for r in store.select("list_curated_subclass_edges"):
            self.parents.setdefault(r["child"].value, []).append(r["parent"].value)
        for ps in self.parents.values():
            ps.sort()

    def about(self, term) -> dict[str, Any]:
        key = str(term)
        if key not in self.cache:
            info: dict[str, Any] = {"title": None, "label": None, "types": [], "attribute": None}
            if isinstance(term, NamedNode):
                for r in self.store.select("list_term_details", term=term):
                    if r["title"] is not None and info["title"] is None:
                        info["title"] = r["title"].value
                    if r["label"] is not None and info["label"] is None:
                        info["label"] = r["label"].value
                    if r["type"] is not None:
                        info["types"].append(r["type"].value)
                    if r["attribute"] is not None:
                        info["attribute"] = r["attribute"].value
            info["types"].sort()
            self.cache[key] = info
        return self.cache[key]

    def name(self, term) -> str:
        if isinstance(term, Literal):
            return term.value
        info = self.about(term)
        value = getattr(term, "value", str(term))
        return self.names.get(value) or info["label"] or info["title"] or value.rsplit("/", 1)[-1]

    def path(self, type_iri: str, skip: tuple[str, str] | None = None) -> str:
        """Root > … > type, by each type's first parent (the edge `skip` left out), cycles cut."""
        chain, seen, t = [], set(), type_iri
        while t and t not in seen:
            seen.add(t)
            chain.append(self.names.get(t) or t.rsplit("/", 1)[-1])
            parents = [p for p in self.parents.get(t, []) if (t, p) != skip]
            t = parents[0] if parents else None
        return " > ".join(reversed(chain))

    def titles(self, type_iri, n: int = 5) -> str:
        """A few titles of the type's own products (in a fixed order), or ''."""
        rows = self.store.select("list_products_of_type", type=type_iri)
        found = sorted({r["title"].value for r in rows if r["title"] is not None and r["directType"] == type_iri})
        return ("products: " + " | ".join(found[:n])) if found else ""

    def product(self, product) -> dict[str, str]:
        info = self.about(product)
        return {"title": info["title"] or "", "types": " | ".join(self.path(t) for t in info["types"])}


def describe(store: KnowledgeStore, facts: list[dict[str, Any]], terms: _Terms | None = None) -> list[dict[str, str]]:
    """A sheet row per fact: what a person reads to judge it, never its score."""
    terms = terms or _Terms(store)
    rows = []
    for f in facts:
        s, p, o, kind = f["subject"], f["predicate"], f["object"], f["kind"]
        # a title span is evidence a person reads; an edge's or link's evidence is the model's features
        evidence = f["evidence"] if kind in ("product typed", "attribute value", "quarantined") else ""
        row = {"fact": f["fact"], "kind": kind, "claim": "", "title": "", "product types": "", "attribute": "",
               "value": "", "type path": "", "other path": "", "evidence": evidence}
        if kind == "quarantined" and isinstance(o, Triple):
            s, p, o = o.subject, o.predicate, o.object
        if kind in ("attribute value", "quarantined"):
            row.update(terms.product(s))
            row["attribute"] = terms.name(p)
            row["value"] = terms.name(o)
            row["claim"] = (f"{row['attribute']} of this product is {row['value']!r}" if kind == "attribute value"
                            else f"{row['attribute']} {row['value']!r} is WRONG for this product (cleaning's claim)")
        elif kind == "product typed":
            product = terms.product(s)
            own = [t for t in terms.about(s)["types"] if t != o.value]
            row.update(title=product["title"], **{"product types": " | ".join(terms.path(t) for t in own)})
            row["type path"] = terms.path(o.value)
            row["claim"] = f"this product is a {terms.name(o)}"
        elif kind == "subClassOf edge":
            row["title"] = terms.name(s)
            row["product types"] = " | ".join(terms.path(q, skip=(s.value, o.value)) for q in terms.parents.get(s.value, [])
                                              if q != o.value)
            row["type path"] = terms.path(o.value)
            row["evidence"] = terms.titles(s)  # what is sold under the type: read to judge what it means
            row["claim"] = f"every {terms.name(s)} is a {terms.name(o)}"
            mine, theirs = terms.schemes.get(s.value, ""), terms.schemes.get(o.value, "")
            if mine and theirs and mine != theirs:  # an alignment: docs/audit-guide.md judges it apart
                row["claim"] = (f"every {terms.name(s)} (a {scheme_name(mine)} type) is a {terms.name(o)} "
                                f"(a {scheme_name(theirs)} type)")
        else:  # links
            row["title"], row["value"] = terms.name(s), terms.name(o)
            if kind == "equivalentClass link":
                row["type path"], row["other path"] = terms.path(s.value), terms.path(o.value)
            else:
                for side, key in ((s, "type path"), (o, "other path")):
                    info = terms.about(side)
                    row[key] = (terms.name(NamedNode(info["attribute"])) if info["attribute"] else
                                " | ".join(terms.path(t) for t in info["types"]))
            row["claim"] = f"{row['title']!r} and {row['value']!r} mean the same"
        rows.append(row)
    return rows


def at_least(facts: list[dict[str, Any]], min_confidence: float | None) -> list[dict[str, Any]]:
    """The facts whose confidence reaches `min_confidence` (all of them without one): a sample of
    the region where a gate decides, whose population is that region alone.

    >>> [f["fact"] for f in at_least([{"fact": "a", "confidence": 0.79}, {"fact": "b", "confidence": 0.8},
    ...                               {"fact": "c", "confidence": None}], 0.8)]
    ['b']
    """
    if min_confidence is None:
        return facts
    return [f for f in facts if f["confidence"] is not None and f["confidence"] >= min_confidence]


def sample_name(stage: str, run_id: str, min_confidence: float | None = None) -> str:
    """A sample's default name: the stage's and the run's, and the region's when only part of the
    run is drawn (a region's sample is not the run's: its judgements must not merge with it).

    >>> sample_name("imputation", "low1"), sample_name("imputation", "low1", 0.8)
    ('imputation-low1', 'imputation-low1-from-0.8')
    """
    return f"{stage}-{run_id}" + (f"-from-{min_confidence:g}" if min_confidence is not None else "")


def sample_run(store: KnowledgeStore, stage: str, run_id: str | None = None, n: int = 200,
               name: str | None = None, kinds: tuple[str, ...] = (),
               min_confidence: float | None = None) -> tuple[Run, list[dict[str, Any]], dict[str, dict[str, int]]]:
    """The run's drawn facts (of `kinds`, or every kind; at or above `min_confidence`, or all),
    each with its sheet row, and per kind and bin the facts the run has (for the report's
    re-weighting)."""
    run = find_run(store, stage, run_id)
    facts = at_least([f for f in run_facts(store, run) if not kinds or f["kind"] in kinds], min_confidence)
    name = name or sample_name(stage, run.run_id, min_confidence)
    drawn = draw(facts, n, name)
    population: dict[str, dict[str, int]] = {}
    for f in facts:
        counts = population.setdefault(f["kind"], {})
        counts[bin_of(f["confidence"])] = counts.get(bin_of(f["confidence"]), 0) + 1
    rows = describe(store, drawn)
    for f, row in zip(drawn, rows):
        f["row"] = row
    return run, drawn, population
