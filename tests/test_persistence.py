"""Model folders: one checksum over every file, verified before loading; a killed `train` never
leaves a model that looks current."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from autoknow_rdf.errors import ModelError
from autoknow_rdf.ml.persistence import MANIFEST, replace_folder, seal, verify
from autoknow_rdf.pipeline import is_current, run_stage, train_stage
from autoknow_rdf.stages.registry import stage_class
from autoknow_rdf.store import KnowledgeStore

from .conftest import fill


def test_every_file_is_covered(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "weights.bin").write_bytes(b"w" * 10)
    (tmp_path / "sub" / "threshold.json").write_text("0.5")
    checksum = seal(tmp_path, "m", "1")
    assert verify(tmp_path) == checksum
    (tmp_path / "sub" / "threshold.json").write_text("0.4")  # a threshold file is part of the model too
    with pytest.raises(ModelError, match=r"sub/threshold.json: changed"):
        verify(tmp_path)
    (tmp_path / "sub" / "threshold.json").unlink()
    with pytest.raises(ModelError, match=r"sub/threshold.json: missing"):
        verify(tmp_path)


def test_an_added_file_or_no_manifest_is_refused(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"w")
    with pytest.raises(ModelError, match="no trained model here"):
        verify(tmp_path)
    seal(tmp_path, "m", "1")
    (tmp_path / "extra.pkl").write_bytes(b"x")
    with pytest.raises(ModelError, match="extra.pkl: not part of the saved model"):
        verify(tmp_path)


def test_a_failed_write_keeps_the_previous_model(tmp_path):
    target = tmp_path / "model"
    with replace_folder(target) as tmp:
        (tmp / "weights.bin").write_bytes(b"old")
        seal(tmp, "m", "1")
    with pytest.raises(RuntimeError):
        with replace_folder(target) as tmp:
            (tmp / "weights.bin").write_bytes(b"new, half")
            raise RuntimeError("killed mid-save")
    assert (target / "weights.bin").read_bytes() == b"old"
    verify(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folder left


def test_a_changed_stage_model_is_refused_naming_the_file(cut_models, tmp_path):
    import shutil

    models, _ = cut_models
    shutil.copytree(models / "relations", tmp_path / "relations")
    stage_class("relations").open(tmp_path / "relations")
    manifest = json.loads((tmp_path / "relations" / MANIFEST).read_text())
    victim = tmp_path / "relations" / sorted(manifest["files"])[0]
    victim.write_bytes(victim.read_bytes() + b" ")
    with pytest.raises(ModelError, match=victim.name):
        stage_class("relations").open(tmp_path / "relations")
    assert not is_current(tmp_path, "relations")


@pytest.mark.slow
def test_sigkill_mid_train_never_leaves_a_model_that_looks_current(cut_files, tmp_path):
    """`autoknow train` killed at several points: the model folder is the previous model (which
    verifies and runs) or absent, and the next training completes."""
    path = tmp_path / "kg"
    fill(KnowledgeStore(path), cut_files).close()
    models = tmp_path / "models"
    command = [sys.executable, "-m", "autoknow_rdf.cli", "train", "relations", "--store", str(path), "--models", str(models)]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    full = time.perf_counter() - start
    first = verify(models / "relations")
    for share in (0.6, 0.9, 0.98):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(full * share)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        folder = models / "relations"
        if folder.exists():
            assert is_current(models, "relations")
            assert verify(folder) in (first, verify(folder))
    store = KnowledgeStore(path)
    try:
        info = train_stage(store, "relations", models)
        assert verify(models / "relations") == info.checksum
        assert [p.name for p in models.iterdir()] == ["relations"]  # stale temporary folders removed
        assert run_stage(store, "relations", models).facts > 0
    finally:
        store.close()
