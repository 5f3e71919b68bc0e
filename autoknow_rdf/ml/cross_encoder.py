"""A fine-tuned MiniLM cross-encoder over two text segments: P(class 1 | first, second).

Shared by the cleaning model (`attribute: value` vs. product text) and the synonym model (term
vs. term, offer vs. offer). Pairs are padded to the batch's longest pair, not to a fixed length
(CPU time), truncated on the longer side; training batches hold pairs of similar length
(shuffled as batches) unless a subclass says otherwise; AdamW with warm-up and linear decay.
Weights are saved with a sha256 checksum that `load` verifies.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Callable, ClassVar

__all__ = ["CrossEncoder"]


class CrossEncoder:
    """Binary sequence-pair classifier on the project's one base encoder."""

    CONFIG_FILE: ClassVar[str] = "cross_encoder.json"
    TRUNCATION: ClassVar[str] = "longest_first"
    # training batches of pairs of similar length (CPU time; the synonym pairs measured no worse)
    LENGTH_BATCHES: ClassVar[bool] = True

    def __init__(self, epochs: int = 2, batch_size: int = 32, lr: float = 5e-5, max_length: int = 128, seed: int = 0):
        self.epochs, self.batch_size, self.lr, self.max_length, self.seed = epochs, batch_size, lr, max_length, seed

    @property
    def trained(self) -> bool:
        return hasattr(self, "model_")

    def _load(self, path: str) -> None:
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

    def _encode(self, firsts: list[str], seconds: list[str]):
        return self.tokenizer_(firsts, seconds, truncation=self.TRUNCATION, max_length=self.max_length,
                               padding=True, return_tensors="pt")

    def fit_texts(self, firsts: list[str], seconds: list[str], labels: list[int],
                  progress: Callable[[int], None] | None = None) -> "CrossEncoder":
        """Fine-tune from the base encoder on labelled pairs (1 = the positive class)."""
        import torch

        from .encoder import encoder_path

        self._load(encoder_path())
        rng = random.Random(self.seed)
        optim = torch.optim.AdamW(self.model_.parameters(), lr=self.lr)
        steps = self.epochs * ((len(labels) + self.batch_size - 1) // self.batch_size)
        sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / max(1, steps)))
        self.model_.train()
        order = list(range(len(labels)))
        chunks = lambda o: [o[i:i + self.batch_size] for i in range(0, len(o), self.batch_size)]  # noqa: E731
        if self.LENGTH_BATCHES:
            batches = chunks(sorted(order, key=lambda j: (len(firsts[j]) + len(seconds[j]), rng.random())))
        for _ in range(self.epochs):
            if self.LENGTH_BATCHES:
                rng.shuffle(batches)
            else:
                rng.shuffle(order)
                batches = chunks(order)
            for idx in batches:
                enc = self._encode([firsts[j] for j in idx], [seconds[j] for j in idx])
                enc["labels"] = torch.tensor([labels[j] for j in idx])
                loss = self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                optim.step()
                sched.step()
                optim.zero_grad()
                if progress is not None:
                    progress(len(idx))
        self.model_.eval()
        return self

    def predict_texts(self, firsts: list[str], seconds: list[str], batch_size: int = 128) -> list[float]:
        """P(class 1) per pair; pairs are batched by length so padding stays short."""
        import torch

        order = sorted(range(len(firsts)), key=lambda i: len(firsts[i]) + len(seconds[i]))
        out = [0.0] * len(firsts)
        with torch.no_grad():
            for i in range(0, len(order), batch_size):
                idx = order[i:i + batch_size]
                enc = self._encode([firsts[j] for j in idx], [seconds[j] for j in idx])
                p = self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).logits.softmax(-1)[:, 1].cpu().tolist()
                for j, v in zip(idx, p):
                    out[j] = v
        return out

    def save(self, folder: Path) -> str:
        """Weights, tokenizer and config; returns the weights' sha256."""
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(folder)
        self.tokenizer_.save_pretrained(folder)
        checksum = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
        config = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "max_length": self.max_length,
                  "seed": self.seed, "checksum": "sha256:" + checksum}
        (folder / self.CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
        return checksum

    @classmethod
    def load(cls, folder: Path) -> "CrossEncoder":
        config = json.loads((folder / cls.CONFIG_FILE).read_text(encoding="utf-8"))
        if "sha256:" + hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest() != config.pop("checksum"):
            raise ValueError(f"{folder}: weights do not match their checksum")
        model = cls(**config)
        model._load(str(folder))
        model.model_.eval()
        return model
