"""Evaluation: held-out splits carved from labelled data (or a separate test folder), metrics,
and the stages' baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AutoknowError

__all__ = ["evaluate_stage", "TRAIN_TEST_STAGES"]

# stages whose evaluation can train on one folder and score on another (`--train DIR --test DIR`)
TRAIN_TEST_STAGES = ("imputation", "cleaning", "synonyms")


def _data_files(name: str) -> tuple[str, ...]:
    if name == "imputation":
        from .imputation import DATA_FILES
    elif name == "cleaning":
        from .cleaning import DATA_FILES
    else:
        from .synonyms import DATA_FILES
    return DATA_FILES


def evaluate_stage(name: str, data: Path, test: Path | None = None, model: Path | None = None) -> dict[str, Any]:
    """Metrics rows for a stage: dev splits carved from `data`, or trained on `data` and scored
    on `test` (refused when the folders share items); `model`, a saved stage to score instead of
    training (synonyms). Each stage's protocol lives in its own module."""
    if test is not None:
        if name not in TRAIN_TEST_STAGES:
            raise AutoknowError(f"evaluate {name} --train/--test is not supported yet (stages that support it: "
                                f"{', '.join(TRAIN_TEST_STAGES)}); use --data to score on dev splits carved from one folder")
        from .overlap import check_disjoint

        check_disjoint(Path(data), Path(test), _data_files(name))
    if model is not None and name != "synonyms":
        raise AutoknowError(f"evaluate {name} --model is not supported yet (only synonyms)")
    if name == "taxonomy":
        from .taxonomy import evaluate_taxonomy

        return evaluate_taxonomy(data)
    if name == "relations":
        from .relations import evaluate_relations

        return evaluate_relations(data)
    if name == "imputation":
        from .imputation import evaluate_imputation

        return evaluate_imputation(data, test=test)
    if name == "cleaning":
        from .cleaning import evaluate_cleaning

        result = evaluate_cleaning(data, test=test)
        return {"tables": {"cleaning (dev)": result.pop("rows")}, "cleaning (dev)": result}
    if name == "synonyms":
        from .synonyms import evaluate_synonyms

        return evaluate_synonyms(data, test=test, model=model)
    raise AutoknowError(f"no evaluation for stage {name!r} yet")
