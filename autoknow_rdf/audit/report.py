"""Audited precision: what people found right, per stage and kind, with its interval.

Per fact, the annotators' verdicts are averaged (right 1, wrong 0; unsure is no verdict), so a
fact two people disagree on counts half. Precision is weighted by each fact's sample weight (its
confidence bin's facts per fact drawn), so a sample stratified over confidence still estimates
the precision of everything the run added; its 95% Wilson interval uses the weights' effective
sample size. Beside it, per confidence bin (the reliability diagram on real candidates): the
audited precision and the held-in estimate for the same facts (their mean confidence, which is
the model's calibrated probability). Agreement is Cohen's kappa over the facts two annotators
judged.
"""

from __future__ import annotations

from collections import Counter
from statistics import NormalDist
from typing import Any

from ..ml.audit_gate import by_fact
from .sample import bin_of

__all__ = ["by_fact", "precision", "interval", "cohen_kappa", "audit_tables", "audited_added"]


def interval(p: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Wilson interval of a proportion `p` measured over `n` (possibly effective) facts.

    >>> [round(x, 3) for x in interval(0.9, 100)]
    [0.826, 0.945]
    """
    if n <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + level / 2)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def precision(facts: list[dict[str, Any]]) -> dict[str, Any]:
    """Weighted audited precision of `facts` (by_fact rows), its interval and sample sizes.

    >>> precision([{"right": 1.0, "weight": 1.0}, {"right": 0.0, "weight": 3.0}, {"right": None, "weight": 1.0}])["precision"]
    0.25
    """
    sure = [f for f in facts if f["right"] is not None]
    w = sum(f["weight"] for f in sure)
    if not sure or w <= 0:
        return {"judged": 0, "right": 0.0, "unsure": len(facts) - len(sure), "precision": None, "low": None, "high": None}
    p = sum(f["weight"] * f["right"] for f in sure) / w
    effective = w * w / sum(f["weight"] ** 2 for f in sure)
    low, high = interval(p, effective)
    return {"judged": len(sure), "right": sum(f["right"] for f in sure), "unsure": len(facts) - len(sure),
            "precision": p, "low": low, "high": high}


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two annotators' verdicts on the same facts (None if undefined).

    >>> cohen_kappa([("right", "right"), ("wrong", "wrong"), ("right", "wrong"), ("right", "right")])
    0.5
    """
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    return None if expected >= 1 else (observed - expected) / (1 - expected)


def audit_tables(judgements: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The audit report: per stage and kind (`precision`: audited precision with interval beside
    the held-in estimate of the same facts, the sample and the model), per confidence bin
    (`bins`), and the annotators' agreement (`agreement`)."""
    facts = by_fact(judgements)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in facts:
        groups.setdefault((f["stage"], f["kind"]), []).append(f)
    summary, bins, agreement = [], [], []
    for (stage, kind), fs in sorted(groups.items()):
        scored = [f for f in fs if f["confidence"] is not None]
        held = (sum(f["weight"] * f["confidence"] for f in scored) / sum(f["weight"] for f in scored)) if scored else None
        summary.append({"stage": stage, "kind": kind, **precision(fs), "held-in estimate": held,
                        "sample": ", ".join(sorted({f["sample"] for f in fs})),
                        "model": ", ".join(sorted({f"{f['modelName']} {f['modelVersion']} ({f['modelChecksum'][7:19]})"
                                                   for f in fs}))})
        strata: dict[str, list[dict[str, Any]]] = {}
        for f in fs:
            strata.setdefault(bin_of(f["confidence"]), []).append(f)
        for b in sorted(strata, key=_bin_order):
            sub = strata[b]
            p = precision([{**f, "weight": 1.0} for f in sub])  # within a bin every fact weighs the same
            conf = [f["confidence"] for f in sub if f["confidence"] is not None]
            bins.append({"stage": stage, "kind": kind, "confidence": b, **p,
                         "held-in estimate": sum(conf) / len(conf) if conf else None})
        pairs = []
        for f in fs:
            names = sorted(f["verdicts"])
            if len(names) >= 2:
                pairs.append((f["verdicts"][names[0]], f["verdicts"][names[1]]))
        if pairs:
            agreement.append({"stage": stage, "kind": kind, "judged twice": len(pairs),
                              "agreed": sum(a == b for a, b in pairs), "kappa": cohen_kappa(pairs)})
    return {"precision": [_rounded(r) for r in summary], "bins": [_rounded(r) for r in bins],
            "agreement": [_rounded(r) for r in agreement]}


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}


def _bin_order(label: str) -> float:
    if label == "none":
        return 9.0
    if label.startswith("<"):
        return -1.0
    return float(label.split("–")[0].lstrip("≥ "))


def audited_added(judgements: list[dict[str, Any]], added: dict[tuple[str, str], tuple[str, str, float]]
                  ) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (stage, kind) the store's runs added: the audited precision of the judged facts of the
    same model (name and version) at or above the lowest confidence among what was added (the
    candidates like those the run kept), with interval, sample size and sample names. `added`
    maps (stage, kind) to (model name, model version, lowest confidence added)."""
    facts = by_fact(judgements)
    out = {}
    for (stage, kind), (name, version, lowest) in added.items():
        like = [f for f in facts if (f["stage"], f["kind"], f["modelName"], f["modelVersion"]) == (stage, kind, name, version)
                and f["confidence"] is not None and f["confidence"] >= lowest - 1e-9]
        p = precision(like)
        if p["judged"]:
            out[(stage, kind)] = {**p, "sample": ", ".join(sorted({f["sample"] for f in like}))}
    return out
