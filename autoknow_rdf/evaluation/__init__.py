"""Evaluation: held-out splits carved from labelled data, metrics, and the stages' baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AutoknowError

__all__ = ["evaluate_stage"]


def evaluate_stage(name: str, data: Path) -> dict[str, Any]:
    """Metrics rows for a stage on a data folder; each stage's protocol lives in its own module."""
    if name == "taxonomy":
        from .taxonomy import evaluate_taxonomy

        return evaluate_taxonomy(data)
    if name == "relations":
        from .relations import evaluate_relations

        return evaluate_relations(data)
    if name == "imputation":
        from .imputation import evaluate_imputation

        return evaluate_imputation(data)
    if name == "cleaning":
        from .cleaning import evaluate_cleaning

        result = evaluate_cleaning(data)
        return {"tables": {"cleaning (dev)": result.pop("rows")}, "cleaning (dev)": result}
    raise AutoknowError(f"no evaluation for stage {name!r} yet")
