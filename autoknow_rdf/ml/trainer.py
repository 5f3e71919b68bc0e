"""The one fine-tuning loop and the one predict loop for every MiniLM model of the project
(the taxonomy's span tagger, the imputation's value tagger, the cross-encoders of cleaning and
synonyms).

Training: AdamW (fused: six times faster a step on CPU than the per-tensor loop), linear warm-up
over the first 10% of steps then linear decay, gradients clipped to norm 1, one seeded
`random.Random` for the batch order, forward passes under bfloat16 autocast where the hardware
has native bf16 (`encoder.bf16_autocast`). Batches are padded to their own
longest text (dynamic padding, done by the caller's tokenizer call); with `lengths`, a batch holds
texts of similar length (shuffled as batches), which saves most of the padding on CPU. A model
whose batches must mix lengths (the cleaner: one length is one product and its negatives) passes
none. Predicting runs in length order under `torch.inference_mode` (and bf16 autocast likewise)
and returns results in input order.
"""

from __future__ import annotations

import random
import re
from typing import Any, Callable, Sequence

__all__ = ["fit", "predict_in_buckets", "predict_in_length_order", "prediction_batches", "batches_by_length",
           "freeze_lower_layers"]

WARMUP = 0.1  # share of the steps over which the learning rate rises from 0
CLIP = 1.0  # gradient norm


def batches_by_length(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Indices in batches of similar length (ties broken at random, so equal lengths mix).

    >>> batches_by_length([5, 1, 4, 2], 2, random.Random(0))
    [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda j: (lengths[j], rng.random()))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def freeze_lower_layers(module, layers: int) -> None:
    """Stop gradients into the encoder's embeddings and its lowest `layers` transformer layers:
    backward passes end above them, so a step costs less (on 2 cores, 3 of MiniLM's 6 layers
    frozen: 3.9 -> 2.9 s for 8 batches of 32 pairs)."""
    if layers <= 0:
        return
    for name, p in module.named_parameters():
        m = re.search(r"(?:^|\.)encoder\.layer\.(\d+)\.", name)
        if re.search(r"(?:^|\.)embeddings\.", name) or (m and int(m.group(1)) < layers):
            p.requires_grad_(False)


def fit(module, n: int, loss_of: Callable[[list[int]], Any], *, epochs: int, batch_size: int, seed: int,
        lr: float | None = None, param_groups: list[dict] | None = None, lengths: Sequence[int] | None = None,
        progress: Callable[[int], None] | None = None, frozen_layers: int = 0) -> None:
    """Fine-tune `module` over `n` examples for `epochs`; `loss_of(indices)` returns a batch's loss
    (or None: nothing to learn from in that batch). `param_groups` (each with its own "lr")
    replace `lr` over all trainable parameters; `frozen_layers` as `freeze_lower_layers`."""
    import torch

    from .encoder import autocast

    rng = random.Random(seed)
    freeze_lower_layers(module, frozen_layers)
    groups = param_groups or [{"params": list(module.parameters()), "lr": lr}]
    groups = [{**g, "params": [p for p in g["params"] if p.requires_grad]} for g in groups]
    params = [p for g in groups for p in g["params"]]
    optim = torch.optim.AdamW(groups, fused=True)
    steps = max(1, epochs * ((n + batch_size - 1) // batch_size))
    warm = max(1, int(steps * WARMUP))
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / steps))
    fixed = batches_by_length(lengths, batch_size, rng) if lengths is not None else None
    module.train()
    for _ in range(epochs):
        if fixed is not None:
            rng.shuffle(fixed)
            batches = fixed
        else:
            order = list(range(n))
            rng.shuffle(order)
            batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
        for idx in batches:
            with autocast():
                loss = loss_of(idx)
            if loss is None:
                continue
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, CLIP)
            optim.step()
            sched.step()
            optim.zero_grad()
            if progress is not None:
                progress(len(idx))
    module.eval()


def predict_in_buckets(buckets: Sequence[int], batch_size: int, run: Callable[[list[int], int], list]) -> list:
    """`run(indices, bucket)` over batches whose items share one padded length (their bucket);
    results in input order. An item's padded length then depends on the item alone, not on the
    others in its batch: under bf16 autocast the padded length moves scores by up to 0.03, so a
    batch's neighbours (which products run together, on which worker) would change them.

    >>> predict_in_buckets([32, 16, 32], 2, lambda idx, b: [f"item {i} at {b}" for i in idx])
    ['item 0 at 32', 'item 1 at 16', 'item 2 at 32']
    """
    import torch

    from .encoder import autocast

    order = sorted(range(len(buckets)), key=lambda j: (buckets[j], j))
    out: list = [None] * len(buckets)
    with torch.inference_mode(), autocast():
        i = 0
        while i < len(order):
            b = buckets[order[i]]
            idx = [j for j in order[i:i + batch_size] if buckets[j] == b]
            for j, result in zip(idx, run(idx, b)):
                out[j] = result
            i += len(idx)
    return out


def predict_in_length_order(lengths: Sequence[int], batch_size: int, run: Callable[[list[int]], list]) -> list:
    """`run(indices)` over batches of similar length (little padding); results in input order.

    >>> predict_in_length_order([3, 1, 2], 2, lambda idx: [f"item {i}" for i in idx])
    ['item 0', 'item 1', 'item 2']
    """
    import torch

    from .encoder import autocast

    out: list = [None] * len(lengths)
    with torch.inference_mode(), autocast():
        for idx in prediction_batches(lengths, batch_size):
            for j, result in zip(idx, run(idx)):
                out[j] = result
    return out


def prediction_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """The batches `predict_in_length_order` runs, in order: by length, ties in input order. Work
    split into runs of whole batches, each kept in this order, is batched (padded) exactly as
    the whole: the same scores, to the bit (engine.py's parts).

    >>> prediction_batches([3, 1, 2, 1], 2)
    [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda j: lengths[j])
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
