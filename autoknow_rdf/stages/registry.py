"""Stages by name: the registry key is the module, CLI verb, run graph and test file name."""

from __future__ import annotations

from .base import Stage

__all__ = ["STAGES", "stage_class"]


def _taxonomy() -> type[Stage]:
    from .taxonomy import TaxonomyStage

    return TaxonomyStage


def _relations() -> type[Stage]:
    from .relations import RelationsStage

    return RelationsStage


def _imputation() -> type[Stage]:
    from .imputation import ImputationStage

    return ImputationStage


def _cleaning() -> type[Stage]:
    from .cleaning import CleaningStage

    return CleaningStage


def _synonyms() -> type[Stage]:
    from .synonyms import SynonymsStage

    return SynonymsStage


STAGES = {"taxonomy": _taxonomy, "relations": _relations, "imputation": _imputation, "cleaning": _cleaning,
          "synonyms": _synonyms}


def stage_class(name: str) -> type[Stage]:
    from ..errors import AutoknowError

    if name not in STAGES:
        raise AutoknowError(f"no stage {name!r}; stages: {', '.join(STAGES)}")
    return STAGES[name]()
