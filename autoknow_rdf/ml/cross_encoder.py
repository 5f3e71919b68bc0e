"""A fine-tuned MiniLM cross-encoder over two text segments: P(class 1 | first, second).

Shared by the cleaning model (`attribute: value` vs. product text) and the synonym model (term
vs. term, offer vs. offer). Pairs are padded to the batch's longest pair, not to a fixed length
(CPU time), truncated on the longer side; training batches hold pairs of similar length
(shuffled as batches) unless a subclass says otherwise; the project's one trainer (`ml.trainer`).
The stage that owns it saves it into its sealed model folder (`ml.persistence`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, ClassVar

__all__ = ["CrossEncoder"]


class CrossEncoder:
    """Binary sequence-pair classifier on the project's one base encoder."""

    CONFIG_FILE: ClassVar[str] = "cross_encoder.json"
    TRUNCATION: ClassVar[str] = "longest_first"
    # training batches of pairs of similar length (CPU time; the synonym pairs measured no worse)
    LENGTH_BATCHES: ClassVar[bool] = True
    # the embeddings and this many lower layers stay as pre-trained (`trainer.freeze_lower_layers`).
    # The synonym classifier stays unfrozen: frozen 0 -> 2 trained in 89 -> 55 s at demo size with
    # held-in ROC-AUC 0.798 -> 0.766.
    FROZEN_LAYERS: ClassVar[int] = 0

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
        from .trainer import fit

        self._load(encoder_path())

        def loss_of(idx: list[int]):
            enc = self._encode([firsts[j] for j in idx], [seconds[j] for j in idx])
            enc["labels"] = torch.tensor([labels[j] for j in idx])
            return self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).loss

        lengths = _lengths(firsts, seconds) if self.LENGTH_BATCHES else None
        fit(self.model_, len(labels), loss_of, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
            seed=self.seed, lengths=lengths, progress=progress, frozen_layers=self.FROZEN_LAYERS)
        return self

    def predict_texts(self, firsts: list[str], seconds: list[str], batch_size: int = 128) -> list[float]:
        """P(class 1) per pair; pairs are batched by length so padding stays short."""
        from .trainer import predict_in_length_order

        def run(idx: list[int]) -> list[float]:
            enc = self._encode([firsts[j] for j in idx], [seconds[j] for j in idx])
            return self.model_(**{k: v.to(self.device_) for k, v in enc.items()}).logits.float().softmax(-1)[:, 1].cpu().tolist()

        return predict_in_length_order(_lengths(firsts, seconds), batch_size, run)

    @staticmethod
    def prediction_batches(firsts: list[str], seconds: list[str], batch_size: int = 128) -> list[list[int]]:
        """The pairs' indices in the batches `predict_texts` runs: a part made of whole batches,
        kept in this order, scores exactly as in the whole."""
        from .trainer import prediction_batches

        return prediction_batches(_lengths(firsts, seconds), batch_size)

    def save(self, folder: Path) -> None:
        """Weights, tokenizer and config."""
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save_pretrained(folder)
        self.tokenizer_.save_pretrained(folder)
        config = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "max_length": self.max_length,
                  "seed": self.seed}
        (folder / self.CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "CrossEncoder":
        config = json.loads((folder / cls.CONFIG_FILE).read_text(encoding="utf-8"))
        model = cls(**config)
        model._load(str(folder))
        model.model_.eval()
        return model


def _lengths(firsts: list[str], seconds: list[str]) -> list[int]:
    """A pair's length for batching by length: one formula, so `prediction_batches` is the
    batching `predict_texts` does."""
    return [len(a) + len(b) for a, b in zip(firsts, seconds)]
