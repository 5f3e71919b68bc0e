"""A MiniLM BIO span tagger for titles: product type and attribute spans, with char offsets.

Fine-tunes all-MiniLM-L6-v2 (BERT) for token classification. Batches are padded to their own
longest title, not to a fixed length: CPU time matters (2 cores: ~60 titles/s training).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ...ml.spans import Span, snap_to_words

__all__ = ["TitleExample", "SpanTagger", "label_of", "type_spans"]


@dataclass(frozen=True)
class TitleExample:
    text: str
    spans: tuple[Span, ...]


def _bio(offsets, spans: tuple[Span, ...], label_id: dict[str, int]) -> list[int]:
    """Token tags from char spans: B- on a span's first token, I- after; special tokens -100.

    >>> ids = {"O": 0, "B-TYPE": 1, "I-TYPE": 2}
    >>> _bio([(0, 0), (0, 3), (4, 9), (10, 15), (0, 0)], (Span("TYPE", 4, 15),), ids)
    [-100, 0, 1, 2, -100]
    """
    out, prev = [], None
    for a, b in offsets:
        if a == b:
            out.append(-100)
            continue
        hit = next((s for s in spans if a < s.end and b > s.start), None)  # first span wins overlaps
        out.append(label_id["O"] if hit is None else label_id[("I-" if prev is hit else "B-") + hit.label])
        prev = hit
    return out



class SpanTagger:
    """Token classifier over BIO tags for `labels` (e.g. TYPE, BRAND, FLAVOR)."""

    def __init__(self, labels: list[str], epochs: int = 3, batch_size: int = 16, lr: float = 5e-5,
                 max_length: int = 64, seed: int = 0):
        self.labels, self.epochs, self.batch_size, self.lr = sorted(labels), epochs, batch_size, lr
        self.max_length, self.seed = max_length, seed
        self.tags = ["O"] + [f"{p}-{l}" for l in self.labels for p in ("B", "I")]

    def _load(self, path: str):
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from ...ml.encoder import device

        hf_logging.set_verbosity_error()  # the new classifier head is expected, not news
        hf_logging.disable_progress_bar()

        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        self.model_ = AutoModelForTokenClassification.from_pretrained(
            path, num_labels=len(self.tags), id2label=dict(enumerate(self.tags)),
            label2id={t: i for i, t in enumerate(self.tags)}, ignore_mismatched_sizes=True)
        self.device_ = device()
        self.model_.to(self.device_)
        torch.manual_seed(self.seed)

    def fit(self, examples: list[TitleExample], progress=None) -> "SpanTagger":
        import torch

        from ...ml.encoder import encoder_path
        from ...ml.trainer import fit

        self._load(encoder_path())
        label_id = {t: i for i, t in enumerate(self.tags)}

        def loss_of(idx: list[int]):
            batch = [examples[j] for j in idx]
            enc = self.tokenizer_([e.text for e in batch], return_offsets_mapping=True, truncation=True,
                                  max_length=self.max_length, padding=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping").tolist()
            enc["labels"] = torch.tensor([_bio(o, e.spans, label_id) for o, e in zip(offsets, batch)])
            return self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).loss

        fit(self.model_, len(examples), loss_of, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
            seed=self.seed, lengths=[len(e.text) for e in examples], progress=progress)
        return self

    @staticmethod
    def batches(texts: list[str], batch_size: int = 64) -> list[list[int]]:
        """The texts' indices in the batches `predict` runs: a part made of whole batches, kept
        in this order, is tagged exactly as in the whole (padding changes the scores' last bits)."""
        from ...ml.trainer import prediction_batches

        return prediction_batches([len(t) for t in texts], batch_size)

    def predict(self, texts: list[str], batch_size: int = 64) -> list[list[Span]]:
        """Spans per text with char offsets and a confidence (mean tag probability)."""
        from ...ml.trainer import predict_in_length_order

        def run(idx: list[int]) -> list[list[Span]]:
            chunk = [texts[j] for j in idx]
            enc = self.tokenizer_(chunk, return_offsets_mapping=True, truncation=True,
                                  max_length=self.max_length, padding=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping").tolist()
            probs = self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).logits.float().softmax(-1).cpu()
            return [self._decode(text, offs, p) for text, offs, p in zip(chunk, offsets, probs)]

        return predict_in_length_order([len(t) for t in texts], batch_size, run)

    def _decode(self, text: str, offsets, probs) -> list[Span]:
        spans, cur = [], None
        best = probs.argmax(-1).tolist()
        for (a, b), t, row in zip(offsets, best, probs):
            if a == b:
                continue
            tag = self.tags[t]
            if tag == "O":
                if cur:
                    spans.append(cur)
                cur = None
                continue
            kind, label = tag.split("-", 1)
            if cur and label == cur[0] and (kind == "I" or a == cur[2]):
                cur = (label, cur[1], b, cur[3] + [float(row[t])])
            else:
                if cur:
                    spans.append(cur)
                cur = (label, a, b, [float(row[t])])
        if cur:
            spans.append(cur)
        return snap_to_words(text, [Span(l, s, e, sum(ps) / len(ps)) for l, s, e, ps in spans])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(folder)
        self.tokenizer_.save_pretrained(folder)
        config = {"labels": self.labels, "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                  "max_length": self.max_length, "seed": self.seed}
        (folder / "tagger.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "SpanTagger":
        config = json.loads((folder / "tagger.json").read_text(encoding="utf-8"))
        tagger = cls(config["labels"], config["epochs"], config["batch_size"], config["lr"], config["max_length"], config["seed"])
        tagger._load(str(folder))
        tagger.model_.eval()
        return tagger


def label_of(attribute: str) -> str:
    """A tag label from an attribute name.

    >>> label_of("Item Form")
    'ITEM_FORM'
    """
    return re.sub(r"[^A-Z0-9]+", "_", attribute.upper()).strip("_")


def type_spans(title: str, names: Iterable[str]) -> list[Span]:
    """Distant TYPE spans: the longest occurrence of one of the product's own type names."""
    best = None
    for n in sorted(set(names), key=len, reverse=True):
        m = re.search(r"(?<![A-Za-z0-9])" + re.escape(n) + r"(?:e?s)?(?![A-Za-z0-9])", title, re.I)
        if m and (best is None or (m.end() - m.start()) > (best.end - best.start)):
            best = Span("TYPE", m.start(), m.end())
    return [best] if best else []



def swap_type_names(examples: list[TitleExample], names: list[str], share: float, seed: int = 0) -> list[TitleExample]:
    """Copies of a `share` of the examples with one TYPE span, its text replaced by another type
    name (the other spans shifted to match): a tagger that has seen only a catalogue's own type
    names learns that the type slot of a title holds names it never saw.

    >>> e = TitleExample("Acme Green Tea 20 bags", (Span("BRAND", 0, 4), Span("TYPE", 5, 14), Span("SIZE", 15, 22)))
    >>> [e.text[s.start:s.end] for e in swap_type_names([e], ["Oat Milk"], 1.0) for s in e.spans]
    ['Acme', 'Oat Milk', '20 bags']
    """
    import random

    rng = random.Random(seed)
    pool = sorted({n.strip() for n in names if n.strip()})
    out = []
    for e in examples:
        types = [s for s in e.spans if s.label == "TYPE"]
        if len(types) != 1 or not pool or rng.random() >= share:
            continue
        t, name = types[0], rng.choice(pool)
        shift = len(name) - (t.end - t.start)
        spans = tuple(s if s.end <= t.start else Span(s.label, s.start + shift, s.end + shift, s.score) if s.start >= t.end
                      else Span("TYPE", t.start, t.start + len(name), s.score) for s in e.spans
                      if s is t or s.end <= t.start or s.start >= t.end)
        out.append(TitleExample(e.text[:t.start] + name + e.text[t.end:], spans))
    return out
