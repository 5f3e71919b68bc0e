"""The one fine-tuning loop: frozen lower layers stay as pre-trained, the rest learns; prediction
under bf16 autocast agrees with float32."""

from __future__ import annotations

import os

import pytest

from autoknow_rdf.ml import encoder
from autoknow_rdf.stages.cleaning.model import ValueCleaner

FIRSTS = ["flavor: vanilla", "flavor: garlic", "brand: Lipton", "brand: Nescafe"] * 4
SECONDS = ["Vanilla bean ice cream", "Vanilla bean ice cream", "Lipton green tea, 20 bags", "Lipton green tea, 20 bags"] * 4
LABELS = [1, 0, 1, 0] * 4


@pytest.fixture(scope="module")
def trained():
    model = ValueCleaner(epochs=1, batch_size=8, max_length=32, seed=0)
    assert model.FROZEN_LAYERS == 2
    model.fit_texts(FIRSTS, SECONDS, LABELS)
    base = ValueCleaner(seed=0)
    base._load(encoder.encoder_path())
    return model, dict(base.model_.named_parameters())


def test_frozen_layers_keep_their_pretrained_weights_and_the_rest_learns(trained):
    model, base = trained
    import torch

    changed = {n for n, p in model.model_.named_parameters() if n in base and not torch.equal(p, base[n])}
    assert not {n for n in changed if ".embeddings." in n or ".layer.0." in n or ".layer.1." in n}
    assert any(".layer.5." in n for n in changed) and any(".layer.2." in n for n in changed)


def test_bf16_prediction_agrees_with_float32(trained, monkeypatch):
    model, _ = trained
    fast = model.predict_texts(FIRSTS, SECONDS)
    monkeypatch.setitem(os.environ, "AUTOKNOW_PRECISION", "fp32")
    encoder.bf16_autocast.cache_clear()
    try:
        exact = model.predict_texts(FIRSTS, SECONDS)
    finally:
        monkeypatch.delitem(os.environ, "AUTOKNOW_PRECISION")
        encoder.bf16_autocast.cache_clear()
    assert max(abs(a - b) for a, b in zip(fast, exact)) < 0.02
