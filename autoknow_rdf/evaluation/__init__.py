"""What every stage's evaluation shares: labelled data sets, the overlap refusal for
`--train/--test`, and row helpers. Below the stages: it imports no stage (each stage's
protocol lives in `stages/<name>/evaluate.py`; `pipeline.evaluate_stage` runs it)."""

from __future__ import annotations

__all__ = ["pick"]


def pick(rows: list[dict], **match) -> dict | None:
    """The first metrics row whose columns match.

    >>> pick([{"method": "a", "P": 0.5}, {"method": "b", "P": 0.9}], method="b")
    {'method': 'b', 'P': 0.9}
    """
    return next((r for r in rows if all(r.get(k) == v for k, v in match.items())), None)
