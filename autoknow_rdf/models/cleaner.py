"""A MiniLM cross-encoder that scores whether an attribute value is wrongly assigned to a product.

Input: `attribute: value` as the first segment and the product's text (title, then description)
as the second, truncated on the text side and padded to the batch's longest pair, not to a
fixed length (CPU time). Output: the probability that the value is wrong. Training pairs are
made by `negatives`: each valid value is kept as a positive and replaced, for the negatives, by a
random word, a random n-gram of the title, or another attribute's value (AutoKnow's recipe).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ValuePair", "negatives", "ValueCleaner", "KINDS"]

KINDS = ("random word", "title n-gram", "other attribute's value")
_WORD = re.compile(r"[^\W_][\w'-]*", re.UNICODE)


@dataclass(frozen=True)
class ValuePair:
    text: str  # title (+ description)
    attribute: str  # attribute name, as a person would read it
    value: str
    wrong: int = 0  # 1: the value is not the product's
    kind: str = "valid"  # which negative recipe made it, or "valid"
    type_key: str = ""


def negatives(pair: ValuePair, rng: random.Random, vocabulary: list[str], other_values: list[str]) -> list[ValuePair]:
    """One negative of each kind for a valid pair (a kind is skipped when it cannot be made).

    >>> p = ValuePair("Lavazza Espresso Dark Roast Coffee 12 oz", "Brand", "Lavazza")
    >>> [(n.kind, n.value != "Lavazza") for n in negatives(p, random.Random(0), ["shampoo"], ["Dark Roast"])]
    [('random word', True), ('title n-gram', True), ("other attribute's value", True)]
    """
    out = []
    low = pair.value.lower()
    words = [w for w in vocabulary if w.lower() not in pair.text.lower()]
    if words:
        out.append(ValuePair(pair.text, pair.attribute, rng.choice(words), 1, KINDS[0], pair.type_key))
    tokens = _WORD.findall(pair.text)
    grams = [" ".join(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)]
    grams = [g for g in grams if g.lower() not in low and low not in g.lower()]
    if grams:
        out.append(ValuePair(pair.text, pair.attribute, rng.choice(grams), 1, KINDS[1], pair.type_key))
    others = [v for v in other_values if v.lower() != low]
    if others:
        out.append(ValuePair(pair.text, pair.attribute, rng.choice(others), 1, KINDS[2], pair.type_key))
    return out


class ValueCleaner:
    """Fine-tuned cross-encoder: P(value is wrong | attribute, value, product text)."""

    def __init__(self, epochs: int = 2, batch_size: int = 32, lr: float = 5e-5, max_length: int = 128, seed: int = 0):
        self.epochs, self.batch_size, self.lr, self.max_length, self.seed = epochs, batch_size, lr, max_length, seed

    def _load(self, path: str):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from .encoder import device

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        torch.manual_seed(self.seed)
        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        self.model_ = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2, ignore_mismatched_sizes=True)
        self.device_ = device()
        self.model_.to(self.device_)

    def _encode(self, pairs: list[ValuePair]):
        return self.tokenizer_([f"{p.attribute}: {p.value}" for p in pairs], [p.text for p in pairs],
                               truncation="only_second", max_length=self.max_length, padding=True, return_tensors="pt")

    def fit(self, pairs: list[ValuePair], progress=None) -> "ValueCleaner":
        import torch

        from .encoder import encoder_path

        self._load(encoder_path())
        rng = random.Random(self.seed)
        optim = torch.optim.AdamW(self.model_.parameters(), lr=self.lr)
        steps = self.epochs * ((len(pairs) + self.batch_size - 1) // self.batch_size)
        sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / max(1, steps)))
        self.model_.train()
        order = list(range(len(pairs)))
        for _ in range(self.epochs):
            rng.shuffle(order)
            for i in range(0, len(order), self.batch_size):
                batch = [pairs[j] for j in order[i:i + self.batch_size]]
                enc = self._encode(batch)
                enc["labels"] = torch.tensor([p.wrong for p in batch])
                loss = self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                optim.step()
                sched.step()
                optim.zero_grad()
                if progress is not None:
                    progress(len(batch))
        self.model_.eval()
        return self

    def predict(self, pairs: list[ValuePair], batch_size: int = 128) -> list[float]:
        """P(wrong) per pair; pairs are batched by length so padding stays short."""
        import torch

        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].text) + len(pairs[i].value))
        out = [0.0] * len(pairs)
        with torch.no_grad():
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                enc = self._encode([pairs[j] for j in idx])
                p = self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).logits.softmax(-1)[:, 1].cpu().tolist()
                for j, v in zip(idx, p):
                    out[j] = v
        return out

    def save(self, folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(folder)
        self.tokenizer_.save_pretrained(folder)
        checksum = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
        config = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "max_length": self.max_length,
                  "seed": self.seed, "checksum": "sha256:" + checksum}
        (folder / "cleaner.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        return checksum

    @classmethod
    def load(cls, folder: Path) -> "ValueCleaner":
        config = json.loads((folder / "cleaner.json").read_text(encoding="utf-8"))
        if "sha256:" + hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest() != config.pop("checksum"):
            raise ValueError(f"{folder}: weights do not match their checksum")
        cleaner = cls(**config)
        cleaner._load(str(folder))
        cleaner.model_.eval()
        return cleaner
