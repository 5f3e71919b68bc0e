"""Inference throughput per stage: `predict` over a real store against the raw MiniLM forward pass
over exactly the token batches that predict ran, in the same process and run.

    autoknow demo && python benchmarks/inference.py --store demo-store --models models

Each stage runs in a fresh child process: it opens the store read-only, loads the stage's saved
model, runs `read` (not timed) and `predict` (timed) while recording every batch that reaches a
BERT encoder (the span tagger, the value tagger, the cross-encoders, sentence embeddings), then
replays those batches through a plain MiniLM encoder (timed). Items are the sequences encoded.
The ratio, predict items/s over encoder items/s, is the share of predict's time that is the
encoder itself (1.0: nothing but the forward pass; the aim is at least 0.7). The embedding cache
is off by default, so every text is encoded (`--cache` measures a warm second run instead).
Prints peak resident memory per stage.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def child(store_path: Path, models: Path, name: str) -> dict:
    import torch
    from transformers import AutoModel
    from transformers.models.bert import modeling_bert

    from autoknow_rdf.ml.encoder import autocast, bf16_autocast, device, encoder_path
    from autoknow_rdf.stages.registry import stage_class
    from autoknow_rdf.store import KnowledgeStore

    batches: list[tuple] = []
    forward = modeling_bert.BertModel.forward

    def recording(self, input_ids=None, attention_mask=None, *args, **kwargs):
        if input_ids is not None:
            batches.append((input_ids.detach().cpu(), None if attention_mask is None else attention_mask.detach().cpu()))
        return forward(self, input_ids, attention_mask, *args, **kwargs)

    store = KnowledgeStore(store_path, read_only=True)
    stage = stage_class(name).open(models / name)
    inputs = stage.read(store)
    modeling_bert.BertModel.forward = recording
    start = time.perf_counter()
    facts = stage.predict(inputs)
    predict_s = time.perf_counter() - start
    modeling_bert.BertModel.forward = forward
    items = sum(len(ids) for ids, _ in batches)
    raw_s = 0.0
    if batches:
        encoder = AutoModel.from_pretrained(encoder_path()).to(device()).eval()
        start = time.perf_counter()
        # the precision predict runs at (bf16 autocast where the CPU has native bf16), so the ratio is fair
        with torch.inference_mode(), autocast():
            for ids, mask in batches:
                encoder(input_ids=ids.to(device()), attention_mask=None if mask is None else mask.to(device()))
        raw_s = time.perf_counter() - start
    return {"stage": name, "facts": len(facts), "sequences": items, "batches": len(batches),
            "predict s": round(predict_s, 2), "encoder s": round(raw_s, 2),
            "predict items/s": items / predict_s if items else None, "encoder items/s": items / raw_s if raw_s else None,
            "ratio": raw_s / predict_s if raw_s else None,
            "bf16": bf16_autocast(), "peak MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=Path("demo-store"))
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--stage", action="append", help="only these stages (default: all)")
    ap.add_argument("--cache", action="store_true", help="keep the embedding cache on (a warm second run)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.store, args.models, args.child)))
        return

    from rich.console import Console
    from rich.table import Table

    from autoknow_rdf.stages.registry import STAGES

    env = dict(os.environ, **({} if args.cache else {"AUTOKNOW_CACHE": "off"}))
    rows = []
    for name in args.stage or list(STAGES):
        out = subprocess.run([sys.executable, __file__, "--store", str(args.store), "--models", str(args.models),
                              "--child", name], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            raise SystemExit(f"{name}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    table = Table(title=f"inference on {args.store} (embedding cache {'on' if args.cache else 'off'})")
    for col in rows[0]:
        table.add_column(col)
    for r in rows:
        table.add_row(*("" if v is None else f"{v:,.2f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
                        for v in r.values()))
    Console(width=200).print(table)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
