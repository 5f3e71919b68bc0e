"""Value-tagging throughput: the type-conditioned tagger against the raw MiniLM forward pass on the
same batches of real titles, in the same run (CPU unless CUDA is present).

    python benchmarks/imputation.py [--data ../shared/data | demo/data/open] [--titles 2000]

Trains nothing: the tagger's head is untrained, which costs the same as a trained one. Prints
titles per second and peak resident memory for both sides, and the ratio tagger / encoder (the
price of the type conditioning, the per-attribute head, the decoding and the offsets).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("demo/data/open"))
    ap.add_argument("--titles", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    import torch
    from rich.console import Console
    from rich.table import Table

    from autoknow_rdf.stages.imputation.evaluate import allowed_attributes
    from autoknow_rdf.evaluation.labelled import labelled_products
    from autoknow_rdf.ml.encoder import embed, encoder_path
    from autoknow_rdf.stages.imputation.model import ValueTagger

    products = labelled_products(args.data)
    if not products:
        raise SystemExit(f"{args.data}: no OA-Mine / AE-110K / WDC-PAVE files")
    titles = [p.texts["title"] for p in products][: args.titles]
    keys = [p.type_key for p in products][: args.titles]
    allowed = allowed_attributes(products)
    vectors = dict(zip(sorted(set(keys)), embed([k.split(":", 1)[1] for k in sorted(set(keys))])))
    tagger = ValueTagger(sorted({a for v in allowed.values() for a in v}))
    tagger._load(encoder_path())
    tagger.net_.eval()
    tagger.predict(titles[:args.batch], keys[:args.batch], vectors, allowed)  # warm-up, not timed

    order = sorted(range(len(titles)), key=lambda i: len(titles[i]))  # the same batches as predict
    t = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(order), args.batch):
            enc = tagger.tokenizer_([titles[j] for j in order[i:i + args.batch]], truncation=True,
                                    max_length=tagger.max_length, padding=True, return_tensors="pt")
            tagger.net_.bert(**{k: v.to(tagger.device_) for k, v in enc.items()})
    encoder_s = time.perf_counter() - t
    encoder_mb = peak_mb()

    t = time.perf_counter()
    tagger.predict(titles, keys, vectors, allowed, batch_size=args.batch)
    tagger_s = time.perf_counter() - t
    tagger_mb = peak_mb()  # process peak: what the tagger adds on top of the encoder pass

    table = Table(title=f"Value tagging of {len(titles):,} titles ({tagger.device_}, {torch.get_num_threads()} threads, "
                        f"{len(tagger.attributes)} attributes)")
    for col in ("side", "seconds", "titles/s", "peak RSS MB"):
        table.add_column(col)
    table.add_row("tagger (type-conditioned, decoded spans)", f"{tagger_s:.2f}", f"{len(titles) / tagger_s:,.0f}", f"{tagger_mb:,.0f}")
    table.add_row("baseline: encoder forward only", f"{encoder_s:.2f}", f"{len(titles) / encoder_s:,.0f}", f"{encoder_mb:,.0f}")
    Console().print(table)
    Console().print(f"ratio tagger / encoder throughput: {encoder_s / tagger_s:.2f} (1.0 = the tagger costs nothing beyond the encoder)")


if __name__ == "__main__":
    main()
