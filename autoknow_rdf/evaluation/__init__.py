"""Evaluation: held-out splits carved from labelled data (or a separate test folder), metrics,
and the stages' baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import AutoknowError

__all__ = ["evaluate_stage", "TRAIN_TEST_STAGES"]

# stages whose evaluation can train on one folder and score on another (`--train DIR --test DIR`)
TRAIN_TEST_STAGES = ("taxonomy", "relations", "imputation", "cleaning", "synonyms")


def _data_files(name: str) -> tuple[str, ...]:
    """The files whose items must not be shared by a training and a test folder. Taxonomy and
    relations score the types a test folder adds (new by construction), so only their titles count."""
    if name == "taxonomy":
        return ("oa_mine_attributes/*.jsonl", "wdc_pave_attributes/*.jsonl")
    if name == "relations":
        return ()
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
    training. Each stage's protocol lives in its own module."""
    if test is not None:
        from .overlap import check_disjoint

        check_disjoint(Path(data), Path(test), _data_files(name))
    if model is not None and not Path(model).is_dir():
        raise AutoknowError(f"{model}: no such model folder (one written by `autoknow train {name}`)")
    result = _evaluate(name, data, test, model)
    if model is not None and test is None:
        result.setdefault("skipped", []).append(
            "note: a saved model scored on dev splits carved from --data may have been trained on them; "
            "use --test with data it never saw")
    return result


def _evaluate(name: str, data: Path, test: Path | None, model: Path | None) -> dict[str, Any]:
    if name == "taxonomy":
        from .taxonomy import evaluate_taxonomy

        return evaluate_taxonomy(data, test=test, model=model)
    if name == "relations":
        from .relations import evaluate_relations

        return evaluate_relations(data, test=test, model=model)
    if name == "imputation":
        from .imputation import evaluate_imputation

        return evaluate_imputation(data, test=test, model=model)
    if name == "cleaning":
        from .cleaning import evaluate_cleaning

        result = evaluate_cleaning(data, test=test, model=model)
        return {"tables": {"cleaning (dev)": result.pop("rows")}, "cleaning (dev)": result}
    if name == "synonyms":
        from .synonyms import evaluate_synonyms

        return evaluate_synonyms(data, test=test, model=model)
    raise AutoknowError(f"no evaluation for stage {name!r} yet")
