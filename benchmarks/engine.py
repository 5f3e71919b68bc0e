"""A stage's model work in this process against Ray workers, in the same run: products per second.

    python benchmarks/engine.py --store demo-store --models models [--stage imputation] [--workers 2]

Reads the stage's inputs from the store once (read-only), then times its prediction locally
(torch on every core) and with `--engine ray` (`--workers` actors, each loading the saved stage
once and using cores / workers threads; Ray's start is timed apart). Both must give the same
facts. Prints products/s for each and the ratio ray / local.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--models", default=Path("models"), type=Path)
    parser.add_argument("--stage", default="imputation")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--min-precision", type=float, default=0.5,
                        help="the gate of both runs (0.5: on a store the stage already ran on, the 0.9 gates pass little)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import ray

    from autoknow_rdf.engine import predict
    from autoknow_rdf.stages.registry import stage_class
    from autoknow_rdf.store import KnowledgeStore

    stage = stage_class(args.stage).open(args.models / args.stage)
    stage.min_precision = args.min_precision
    inputs = stage.read(KnowledgeStore(args.store, read_only=True))
    products = len(getattr(inputs, "texts", {})) or None
    t = time.perf_counter()
    local = predict(stage, inputs, "local")
    local_s = time.perf_counter() - t
    t = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    start_s = time.perf_counter() - t
    t = time.perf_counter()
    distributed = predict(stage, inputs, "ray", folder=args.models / args.stage, workers=args.workers)
    ray_s = time.perf_counter() - t
    ray.shutdown()
    same = sorted(map(repr, local)) == sorted(map(repr, distributed))
    out = {"stage": args.stage, "products": products, "facts": len(local), "same facts": same, "workers": args.workers,
           "local seconds": round(local_s, 1), "ray seconds": round(ray_s, 1), "ray start seconds": round(start_s, 1),
           "local products/s": round(products / local_s, 1) if products else None,
           "ray products/s": round(products / ray_s, 1) if products else None, "ray / local": round(local_s / ray_s, 3)}
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
