"""Where a stage run's model work happens: in this process (`local`), or on Ray (`ray`).

With Ray, a stage that can split its inputs (`Stage.parts`) has each part's candidates found by
Ray Data `map_batches` over a pool of actors, each loading the saved stage once; the candidates
come back to this process, where the stage decides the run's facts (its gates are over the whole
run) and they are written through the same provenance path as a local run. A stage that cannot
split runs locally. Nothing is written until every part is back: a worker that dies fails the
run before its graph exists, and the re-run completes. `ray.init` runs here unless a cluster is
already connected (`RAY_ADDRESS`, or `ray.init` by the caller).
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

from .errors import AutoknowError
from .provenance import Fact

__all__ = ["ENGINES", "predict"]

ENGINES = ("local", "ray")


def predict(stage, inputs: Any, engine: str = "local", folder: Path | None = None, workers: int | None = None) -> list[Fact]:
    """The stage's facts for `inputs`, its candidates found by `engine` (see the module);
    `folder` is the saved stage the Ray workers load."""
    if engine not in ENGINES:
        raise AutoknowError(f"unknown engine {engine!r} (one of: {', '.join(ENGINES)})")
    workers = workers or max(1, os.cpu_count() or 1)
    parts = stage.parts(inputs, workers) if engine == "ray" else None
    if not parts:
        return stage.predict(inputs)
    return stage.decide(inputs, _ray_candidates(stage.name, Path(folder), inputs, parts, workers))


class _Finder:
    """A Ray actor: the saved stage, loaded once, finds the candidates of the parts it is given."""

    def __init__(self, name: str, folder: str, shared: list, threads: int):
        import ray
        import torch

        from .stages.registry import stage_class

        torch.set_num_threads(threads)
        self.stage = stage_class(name).open(Path(folder))
        self.inputs, self.parts = ray.get(shared[0]), shared[1]

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        doomed = os.environ.get("AUTOKNOW_TEST_KILL_WORKER")  # tests: a worker dies while this file exists
        if doomed and Path(doomed).exists():
            os._exit(1)
        found = [pickle.dumps(self.stage.candidates(self.inputs, self.parts[int(i)])) for i in batch["part"]]
        return {"part": batch["part"], "found": np.array(found, dtype=object)}


def _ray_candidates(name: str, folder: Path, inputs: Any, parts: list, workers: int) -> list:
    try:
        import ray
    except ImportError:
        raise AutoknowError('--engine ray needs Ray: pip install "ray[data]==2.60.0"') from None
    if not ray.is_initialized():
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    shared = [ray.put(inputs), parts]  # in a list: handed to each actor as a reference, fetched once
    threads = max(1, (os.cpu_count() or 1) // workers)
    with warnings.catch_warnings():
        # Ray Data restarts a dead actor and retries its task forever by default; a dead worker
        # must fail the run instead (max_restarts=0: a remote arg, deprecated for 2.64, pinned 2.60)
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = (ray.data.from_items([{"part": i} for i in range(len(parts))])
                .map_batches(_Finder, fn_constructor_args=(name, str(folder), shared, threads), batch_size=1,
                             compute=ray.data.ActorPoolStrategy(size=min(workers, len(parts))),
                             max_restarts=0, max_task_retries=0)
                .take_all())
    found = {int(r["part"]): pickle.loads(r["found"]) for r in rows}
    if sorted(found) != list(range(len(parts))):
        raise AutoknowError(f"ray: {len(parts) - len(found)} of {len(parts)} parts came back; nothing was written")
    return [c for i in range(len(parts)) for c in found[i]]
