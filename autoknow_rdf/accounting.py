"""Facts-added accounting: what each stage added, by kind of fact, against what was ingested.

AutoKnow's headline was "facts up ~200%, type precision 87.7%": this module states the same
kind of figure for any store. Per stage and kind it reports the facts the stage's runs added,
the facts of that kind that ingest read, the growth (added / ingested), the mean confidence of
the added facts (the stage's calibrated probability that a fact is right) and the measured
precision: from an audit (people's judgements of the model's facts like those added, see
audit/), else from `autoknow evaluate pipeline --json` (the masked re-discovery: the precision of
what the stage added, by kind, named with its data set and date) when given, else the precision
the stage's own evaluation measured on its dev split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .console import plain
from .stages.registry import STAGES
from .store import KnowledgeStore

__all__ = ["accounting", "added_facts", "dev_precision", "facts_by_kind", "gate_rows", "kinds_by_run", "load_metrics",
           "run_line", "stage_summary"]

# kinds that are bookkeeping of a stage, not knowledge it adds (counted, never summed into growth)
BOOKKEEPING = {"type shape", "property shape", "validation result", "quarantined", "canonical representative"}


def measured_precision(stage: str, kind: str, metrics: dict[str, dict[str, Any]],
                       audited: dict[tuple[str, str], dict[str, Any]] | None = None) -> tuple[float | None, str | None]:
    """The precision measured for a stage's kind of fact and where it comes from: an audit of the
    model's facts like those added (`audited`, from audited_precision), else the masked
    re-discovery (`pipeline.json`) when it judged that kind, else the stage's dev split."""
    from .rediscovery import measured_precision as rediscovered

    a = (audited or {}).get((stage, kind))
    if a is not None:
        return a["precision"], (f"audit: {a['right']:g} of {a['judged']} judged right, 95% interval "
                                f"{a['low']:.2f}-{a['high']:.2f} (sample {a['sample']})")
    if "pipeline" in metrics:
        p = rediscovered(metrics["pipeline"], stage, kind)
        if p is not None:
            about = metrics["pipeline"].get("rediscovery", {})
            return p, f"masked re-discovery on {about.get('data')} ({about.get('date')})"
    if stage in metrics:
        p = dev_precision(stage, metrics[stage])
        return p, "the stage's dev split" if p is not None else None
    return None, None


def audited_precision(store: KnowledgeStore) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (stage, kind) that the store's runs added and an audit judged: the audited precision
    of the judged facts of the same model at or above the lowest confidence the runs added
    (audit.report.audited_added); empty when nothing was judged."""
    from .audit import judgements
    from .audit.report import audited_added
    from .audit.sample import run_facts, stage_runs

    judged = judgements(store)
    if not judged:
        return {}
    stages = {j["stage"] for j in judged}
    added: dict[tuple[str, str], tuple[str, str, float]] = {}
    for run in stage_runs(store):
        if run.stage not in stages:
            continue
        for f in run_facts(store, run):
            key = (run.stage, f["kind"])
            low = f["confidence"] if f["confidence"] is not None else 1.0
            if key not in added or low < added[key][2]:
                added[key] = (run.model_name, run.model_version, low)
    return audited_added(judged, added)


def dev_precision(stage: str, result: dict[str, Any]) -> float | None:
    """The precision at the operating point that a stage's evaluation measured on its dev split
    (the row that describes the model the stage runs; each stage's evaluation knows which), or
    None when the result lacks it."""
    from .stages.registry import STAGES, stage_evaluation

    return stage_evaluation(stage).dev_precision(result.get("tables", {})) if stage in STAGES else None


def load_metrics(folder: Path | None) -> dict[str, dict[str, Any]]:
    """`<stage>.json` files written by `autoknow evaluate STAGE --json`, by stage name; a file of
    `autoknow evaluate all --json` (every stage's result by name) counts as one file per stage.
    A stage's own file wins over its part of an `all` file."""
    if folder is None or not Path(folder).is_dir():
        return {}
    found: dict[str, dict[str, Any]] = {}
    own: dict[str, dict[str, Any]] = {}
    for p in sorted(Path(folder).glob("*.json")):
        result = json.loads(p.read_text(encoding="utf-8"))
        if "tables" not in result and result and all(isinstance(r, dict) and "tables" in r for r in result.values()):
            found.update(result)  # evaluate all: {stage: result}
        else:
            own[p.stem] = result
    return {**found, **own}


def facts_by_kind(store: KnowledgeStore) -> list[dict[str, Any]]:
    """count_facts_by_kind as plain values: (stage, run, kind, facts, meanConfidence) rows."""
    return [{k: plain(v) for k, v in r.items()} for r in store.select("count_facts_by_kind")]


def accounting(store: KnowledgeStore, metrics: dict[str, dict[str, Any]] | None = None,
               counts: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Rows (stage, kind, added, ingested, growth, mean confidence, measured precision and where
    it was measured), per kind a total over the stages (not the shapes and validation
    steps after them, which restate what the stages found), and a last row for all counted kinds
    together (added against every ingested fact of a counted kind); growth is None where nothing
    of the kind was ingested. `counts`: facts_by_kind(store) when the caller has it already."""
    metrics = metrics or {}
    counts = facts_by_kind(store) if counts is None else counts
    audited = audited_precision(store)
    ingested: dict[str, int] = {}
    added: dict[tuple[str, str], list[tuple[int, float | None]]] = {}
    for r in counts:
        if r["stage"] == "ingest":
            ingested[r["kind"]] = ingested.get(r["kind"], 0) + r["facts"]
        else:
            added.setdefault((r["stage"], r["kind"]), []).append((r["facts"], r["meanConfidence"]))
    rows, totals = [], {}
    for (stage, kind), parts in added.items():
        n = sum(f for f, _ in parts)
        weighted = [(f, c) for f, c in parts if c is not None]
        conf = sum(f * c for f, c in weighted) / sum(f for f, _ in weighted) if weighted else None
        base = ingested.get(kind, 0)
        precision, source = measured_precision(stage, kind, metrics, audited)
        rows.append({"stage": stage, "kind": kind, "added": n, "ingested": base, "growth": n / base if base else None,
                     "mean confidence": conf, "measured precision": precision, "measured on": source})
        if kind not in BOOKKEEPING and stage in STAGES:  # shapes copy what relations decided; validation reports
            totals[kind] = totals.get(kind, 0) + n
    rows.sort(key=lambda r: (r["stage"], r["kind"]))
    for kind, n in sorted(totals.items()):
        base = ingested.get(kind, 0)
        rows.append({"stage": "all stages", "kind": kind, "added": n, "ingested": base, "growth": n / base if base else None,
                     "mean confidence": None, "measured precision": None, "measured on": None})
    all_added = sum(totals.values())
    all_base = sum(n for k, n in ingested.items() if k not in BOOKKEEPING)
    rows.append({"stage": "all stages", "kind": "all kinds", "added": all_added, "ingested": all_base,
                 "growth": all_added / all_base if all_base else None, "mean confidence": None, "measured precision": None,
                 "measured on": None})
    return rows


def _short(group: str) -> str:
    """An attribute IRI as its last segment; kind names as they are."""
    return group.rsplit("/", 1)[-1] if group.startswith("http") else group


def gate_rows(runs) -> list[dict[str, Any]]:
    """Each run's gates, one row per kind or attribute: what it was fitted on (held-in facts, or
    an audit: then "held-in" precision and recall are the audited ones, cross-fitted), the
    precision it can reach, the gate at the run's minimum precision, precision and recall there,
    and the candidate facts the run emitted and withheld (`RunResult.gates`)."""
    rows = []
    for r in runs:
        for g in r.gates:
            rows.append({"stage": r.stage, "kind / attribute": _short(g["group"]), "fitted on": g.get("fitted on", "held-in"),
                         "held-in facts": g["held-in facts"],
                         "best held-in precision": g["best held-in precision"], "gate": g["gate"],
                         "held-in precision": g["held-in precision"], "held-in recall": g["held-in recall"],
                         "ECE": g["ECE"], "decision": g["decision"], "run gate": g.get("run gate"),
                         "emitted": g.get("facts emitted"), "withheld": g.get("facts withheld"),
                         "expected precision": g.get("expected precision")})
    return rows


def kinds_by_run(counts: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Facts of each kind a stage run wrote (facts_by_kind rows), by run id: the accounting's
    figures for one run."""
    out: dict[str, dict[str, int]] = {}
    for r in counts:
        if r["stage"] in STAGES:
            out.setdefault(r["run"], {})[r["kind"]] = r["facts"]
    return out


def added_facts(kinds: dict[str, int]) -> int:
    """The facts of a run the accounting counts as added (its bookkeeping kinds are not)."""
    return sum(n for kind, n in kinds.items() if kind not in BOOKKEEPING)


def run_line(run, kinds: dict[str, int]) -> str:
    """One run in words, in the accounting's terms: the facts it wrote, those counted as added
    (by kind), its bookkeeping, and the rest (labels and declarations of what it added)."""
    head = f"stage {run.stage} (run {run.run_id}, min precision {run.min_precision:.2f}): "
    if run.skipped:
        return head + "already in the store"
    added = added_facts(kinds)
    parts = [f"{run.facts:,} facts written", f"{added:,} added"
             + (" (" + ", ".join(f"{n:,} {k}" for k, n in sorted(kinds.items()) if k not in BOOKKEEPING) + ")" if added else "")]
    kept = {k: n for k, n in sorted(kinds.items()) if k in BOOKKEEPING}
    if kept:
        parts.append(", ".join(f"{n:,} {k}" for k, n in kept.items()) + " (bookkeeping, not counted as added)")
    rest = run.facts - sum(kinds.values())
    if rest:
        parts.append(f"{rest:,} labels and declarations of what it added")
    return head + "; ".join(parts)


def stage_summary(runs, kinds: dict[str, dict[str, int]] | None = None) -> list[dict[str, Any]]:
    """Per run: facts added (as the accounting counts them: `kinds` from kinds_by_run) and facts
    written, their held-in precision (each emitting kind's precision at its gate; for a kind an
    audit gates, its cross-fitted audited precision) and expected precision (their mean
    calibrated probability), both weighted by the candidates each kind emitted, and the kinds
    withheld for want of precision."""
    kinds = kinds or {}
    rows = []
    for r in runs:
        # a held-in gate whose kind an audit gate decides speaks for nothing the run wrote
        own = [g for g in r.gates if not str(g.get("decision", "")).startswith("the audit gate")
               and g.get("fitted on") != "rule"]
        emitting = [g for g in own if g["gate"] is not None and g.get("facts emitted")]
        measured = [g for g in emitting if g["held-in precision"] is not None]
        expected_ = [g for g in emitting if g["expected precision"] is not None]
        precision = (sum(g["facts emitted"] * g["held-in precision"] for g in measured) / sum(g["facts emitted"] for g in measured)
                     if measured else None)
        expected = (sum(g["facts emitted"] * g["expected precision"] for g in expected_) / sum(g["facts emitted"] for g in expected_)
                    if expected_ else None)
        withheld = [f"{_short(g['group'])} (best {g['best held-in precision']:.2f}"
                    f"{', audited' if g.get('fitted on', 'held-in') != 'held-in' else ''})"
                    if g["best held-in precision"] is not None
                    else f"{_short(g['group'])} (too few held-in facts)" for g in own if g["gate"] is None]
        rows.append({"stage": r.stage, "facts added": added_facts(kinds.get(r.run_id, {})) if not r.skipped else "already in the store",
                     "facts written": r.facts if not r.skipped else None,
                     "min precision": r.min_precision, "held-in precision at the gates": precision,
                     "expected precision of what was added": expected,
                     "withheld for want of precision": "; ".join(withheld) or "nothing"})
    return rows
