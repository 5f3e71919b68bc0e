"""Inference precision for CPUs without bf16: float32 against int8 dynamic quantisation (torch's
`quantize_dynamic` of every Linear layer) and, where the CPU has native bf16, bf16 autocast, on
the saved cleaning cross-encoder over real (title, attribute, value) pairs of a store, in one
process and run.

    autoknow demo && python benchmarks/precision.py --store demo-store --models models

Prints pairs a second per precision and its ratio to float32 (the baseline), and how far each
moves the model's P(wrong) from float32's: the largest and mean absolute difference, and the
share of pairs whose side of 0.5 changes. A precision is worth using for a stage only where its
gate metrics hold as well (`autoknow evaluate cleaning` at that precision): this measures the
first half.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def pairs(store_path: Path, n: int) -> list[tuple[str, str]]:
    """(product title, "attribute: value") of the first `n` value facts with a title, in a stable order."""
    from autoknow_rdf.store import KnowledgeStore

    store = KnowledgeStore(store_path, read_only=True)
    titles = {r["product"].value: r["title"].value for r in store.select("list_product_titles")}
    out = []
    for r in store.select("list_value_facts"):
        title = titles.get(r["product"].value)
        if title and r["valueLabel"] is not None:
            attribute = r["attribute"].value.rsplit("/", 1)[-1]
            out.append((title, f"{attribute}: {r['valueLabel'].value}"))
    return sorted(set(out))[:n]


def run(model, tokenizer, data: list[tuple[str, str]], batch_size: int, bf16: bool = False):
    """P(class 1) per pair and the seconds the forward passes took (tokenising not timed)."""
    import torch

    batches = []
    for i in range(0, len(data), batch_size):
        chunk = data[i:i + batch_size]
        batches.append(tokenizer([a for a, _ in chunk], [b for _, b in chunk], truncation=True, max_length=64,
                                 padding=True, return_tensors="pt"))
    probs, start = [], time.perf_counter()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for enc in batches:
            probs.append(model(**enc).logits.float().softmax(-1)[:, -1])
    return torch.cat(probs), time.perf_counter() - start


def main() -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from autoknow_rdf.ml.encoder import bf16_autocast

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, default=Path("demo-store"))
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--n", type=int, default=1024, help="pairs scored")
    ap.add_argument("--batch-size", type=int, default=128)
    args = ap.parse_args()
    folder = args.models / "cleaning" / "cleaner"
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    data = pairs(args.store, args.n)
    run(model, tokenizer, data[:args.batch_size], args.batch_size)  # warm-up
    base, base_s = run(model, tokenizer, data, args.batch_size)
    variants = {"int8 dynamic": (torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8), False)}
    if bf16_autocast():
        variants["bf16 autocast"] = (model, True)
    print(f"{len(data)} pairs, batch {args.batch_size}, {torch.get_num_threads()} threads; native bf16: {bf16_autocast()}")
    print(f"{'precision':14s} {'pairs/s':>8s} {'x fp32':>7s} {'max |dP|':>9s} {'mean |dP|':>10s} {'flips at 0.5':>13s}")
    print(f"{'float32':14s} {len(data) / base_s:8.1f} {1.0:7.2f} {0:9.4f} {0:10.5f} {0:13.4f}")
    for name, (m, bf16) in variants.items():
        run(m, tokenizer, data[:args.batch_size], args.batch_size, bf16)
        p, s = run(m, tokenizer, data, args.batch_size, bf16)
        d = (p - base).abs()
        flips = ((p >= 0.5) != (base >= 0.5)).float().mean().item()
        print(f"{name:14s} {len(data) / s:8.1f} {base_s / s:7.2f} {d.max().item():9.4f} {d.mean().item():10.5f} {flips:13.4f}")


if __name__ == "__main__":
    main()
