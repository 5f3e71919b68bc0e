"""Value-extraction throughput: the value tagger, the QA extractor and the one-pass extractor, each
against the raw MiniLM forward pass over the same inputs, in the same run (CPU unless CUDA is present).

    python benchmarks/imputation.py [--data ../shared/data | demo/data/open] [--titles 2000]

Trains nothing: untrained heads cost the same as trained ones. The tagger reads a title once for
all its type's attributes; the QA extractor reads it once per applicable attribute (a question
each), so its baseline is the encoder over the same (question, title) pairs; the one-pass extractor
reads it once with every attribute named in one question (its baseline: the encoder over those
pairs). Prints products per
second over their applicable attributes and the process's peak resident memory after each side
(sides run in the order shown), and each model's throughput as a share of its encoder pass.
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
    from autoknow_rdf.stages.imputation.joint import JointExtractor, joint_question
    from autoknow_rdf.stages.imputation.qa import QAExtractor, key_words

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

    def encoder_pass(firsts: list[str], seconds: list[str] | None, max_length: int) -> float:
        """The raw encoder over the inputs in length order and the models' batches."""
        order = sorted(range(len(firsts)), key=lambda i: len(firsts[i]) + len(seconds[i] if seconds else ""))
        t = time.perf_counter()
        with torch.inference_mode():
            for i in range(0, len(order), args.batch):
                idx = order[i:i + args.batch]
                enc = tagger.tokenizer_([firsts[j] for j in idx], [seconds[j] for j in idx] if seconds else None,
                                        truncation=True, max_length=max_length, padding=True, return_tensors="pt")
                tagger.net_.bert(**{k: v.to(tagger.device_) for k, v in enc.items()})
        return time.perf_counter() - t

    rows = []
    seconds = encoder_pass(titles, None, tagger.max_length)
    rows.append(("baseline: encoder over the titles", seconds, peak_mb()))
    t = time.perf_counter()
    tagger.predict(titles, keys, vectors, allowed, batch_size=args.batch)
    rows.append(("value tagger (one pass per title, decoded spans)", time.perf_counter() - t, peak_mb()))

    qa = QAExtractor(tagger.attributes)
    qa._load(encoder_path())
    qa.net_.eval()
    pairs = [(qa._question(key_words(k), a), title) for title, k in zip(titles, keys) for a in sorted(allowed.get(k, ()))]
    seconds = encoder_pass([q for q, _ in pairs], [t for _, t in pairs], qa.max_length)
    rows.append((f"baseline: encoder over the {len(pairs):,} (question, title) pairs", seconds, peak_mb()))
    t = time.perf_counter()
    qa.predict(titles, keys, None, allowed, batch_size=args.batch)
    rows.append(("QA extractor (one question per applicable attribute)", time.perf_counter() - t, peak_mb()))

    joint = JointExtractor(tagger.attributes)
    joint._load(encoder_path())
    joint.net_.eval()
    asks = [(joint_question(key_words(k), chunk)[0], title) for title, k in zip(titles, keys)
            for chunk in joint._asks(sorted(allowed.get(k, ()))) if chunk]
    seconds = encoder_pass([q for q, _ in asks], [t for _, t in asks], joint.max_length)
    rows.append((f"baseline: encoder over the {len(asks):,} one-pass (question, title) pairs", seconds, peak_mb()))
    t = time.perf_counter()
    joint.predict(titles, keys, None, allowed, batch_size=args.batch)
    rows.append(("one-pass extractor (every applicable attribute in one question)", time.perf_counter() - t, peak_mb()))

    table = Table(title=f"Value extraction from {len(titles):,} titles ({tagger.device_}, {torch.get_num_threads()} threads, "
                        f"{len(pairs) / len(titles):.1f} applicable attributes a title)")
    for col in ("side", "seconds", "products/s", "peak RSS MB"):
        table.add_column(col)
    for side, secs, mb in rows:
        table.add_row(side, f"{secs:.2f}", f"{len(titles) / secs:,.1f}", f"{mb:,.0f}")
    Console().print(table)
    Console().print(f"tagger / its encoder pass: {rows[0][1] / rows[1][1]:.2f} of the encoder's throughput; "
                    f"QA extractor / its encoder pass: {rows[2][1] / rows[3][1]:.2f}; "
                    f"QA extractor / tagger: {rows[1][1] / rows[3][1]:.3f}; "
                    f"one-pass extractor / its encoder pass: {rows[4][1] / rows[5][1]:.2f}; "
                    f"one-pass extractor / tagger: {rows[1][1] / rows[5][1]:.3f}")


if __name__ == "__main__":
    main()
