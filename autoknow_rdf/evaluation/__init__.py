"""What every stage's evaluation shares: labelled data sets, the overlap refusal for
`--train/--test`, and row helpers. Below the stages: it imports no stage (each stage's
protocol lives in `stages/<name>/evaluate.py`; `pipeline.evaluate_stage` runs it)."""

from __future__ import annotations

__all__ = ["pick", "PROFILES", "sample"]

# `autoknow evaluate STAGE --profile ...`: each stage maps a profile to its own sizes (its
# evaluate.PROFILES); every figure is reported with the profile that produced it.
PROFILES = {
    "quick": "one seed, sampled training and dev splits, fewer epochs: for iterating (at most 5 minutes "
             "a stage on 2 CPU cores); not the figures to report",
    "full": "the stage's full protocol (all seeds, full splits)",
}


def pick(rows: list[dict], **match) -> dict | None:
    """The first metrics row whose columns match.

    >>> pick([{"method": "a", "P": 0.5}, {"method": "b", "P": 0.9}], method="b")
    {'method': 'b', 'P': 0.9}
    """
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)


def sample(items: list, n: int | None, key) -> list:
    """At most `n` items, chosen by a stable hash of `key(item)` (the same items on every run).

    >>> sample(["a", "b", "c"], 2, str) == sample(["c", "b", "a"], 2, str)
    True
    """
    if n is None or len(items) <= n:
        return items
    from ..splits import bucket

    return sorted(items, key=lambda x: bucket("sample" + key(x), 10**6))[:n]
