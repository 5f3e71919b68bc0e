"""Stages by name, in pipeline order: the one place that lists and orders them.

The registry key is the stage's room (`stages/<name>/`), CLI verb, run graph and test file name.
Each room holds `stage.py` (the Stage subclass named here) and `evaluate.py` (its protocol:
`evaluate`, `DATA_FILES` and `dev_precision`). Demo, report, evaluation and accounting read
the order from here.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from .base import Stage

__all__ = ["STAGES", "stage_class", "stage_evaluation"]

STAGES: dict[str, str] = {"taxonomy": "TaxonomyStage", "alignment": "AlignmentStage", "synonyms": "SynonymsStage",
                          "relations": "RelationsStage", "imputation": "ImputationStage", "cleaning": "CleaningStage"}


def _check(name: str) -> None:
    from ..errors import AutoknowError

    if name not in STAGES:
        raise AutoknowError(f"no stage {name!r}; stages: {', '.join(STAGES)}")


def stage_class(name: str) -> type[Stage]:
    """The Stage subclass in `stages/<name>/stage.py` (imported on first use: torch stays unloaded).

    >>> stage_class("relations").name
    'relations'
    """
    _check(name)
    return getattr(import_module(f"{__package__}.{name}.stage"), STAGES[name])


def stage_evaluation(name: str) -> ModuleType:
    """The stage's evaluation module (`stages/<name>/evaluate.py`)."""
    _check(name)
    return import_module(f"{__package__}.{name}.evaluate")
