"""Facts-added accounting: what each stage added, by kind of fact, against what was ingested.

AutoKnow's headline was "facts up ~200%, type precision 87.7%": this module states the same
kind of figure for any store. Per stage and kind it reports the facts the stage's runs added,
the facts of that kind that ingest read, the growth (added / ingested), the mean confidence of
the added facts (the stage's calibrated probability: the precision it expects) and, when an
`autoknow evaluate … --json` result is given, the precision measured on the stage's dev split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .console import plain
from .store import KnowledgeStore

__all__ = ["accounting", "dev_precision", "load_metrics"]

# kinds that are bookkeeping of a stage, not knowledge it adds (counted, never summed into growth)
BOOKKEEPING = {"type shape", "property shape", "validation result", "quarantined", "canonical representative"}


def dev_precision(stage: str, result: dict[str, Any]) -> float | None:
    """The precision at the operating point that a stage's evaluation measured on its dev split
    (the row that describes the model the stage runs; each stage's evaluation knows which), or
    None when the result lacks it."""
    from .stages.registry import STAGES, stage_evaluation

    return stage_evaluation(stage).dev_precision(result.get("tables", {})) if stage in STAGES else None


def load_metrics(folder: Path | None) -> dict[str, dict[str, Any]]:
    """`<stage>.json` files written by `autoknow evaluate STAGE --json`, by stage name."""
    if folder is None or not Path(folder).is_dir():
        return {}
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("*.json"))}


def accounting(store: KnowledgeStore, metrics: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Rows (stage, kind, added, ingested, growth, mean confidence, dev precision), per kind a
    total over stages, and a last row for all counted kinds together (added against every
    ingested fact of a counted kind); growth is None where nothing of the kind was ingested."""
    metrics = metrics or {}
    counts = [{k: plain(v) for k, v in r.items()} for r in store.select("count_facts_by_kind")]
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
        rows.append({"stage": stage, "kind": kind, "added": n, "ingested": base, "growth": n / base if base else None,
                     "mean confidence": conf, "dev precision": dev_precision(stage, metrics[stage]) if stage in metrics else None})
        if kind not in BOOKKEEPING:
            totals[kind] = totals.get(kind, 0) + n
    rows.sort(key=lambda r: (r["stage"], r["kind"]))
    for kind, n in sorted(totals.items()):
        base = ingested.get(kind, 0)
        rows.append({"stage": "all stages", "kind": kind, "added": n, "ingested": base, "growth": n / base if base else None,
                     "mean confidence": None, "dev precision": None})
    all_added = sum(totals.values())
    all_base = sum(n for k, n in ingested.items() if k not in BOOKKEEPING)
    rows.append({"stage": "all stages", "kind": "all kinds", "added": all_added, "ingested": all_base,
                 "growth": all_added / all_base if all_base else None, "mean confidence": None, "dev precision": None})
    return rows
