"""Model folders: every file a model loads is covered by one checksum, and a folder only ever
appears whole.

A stage writes its files into a temporary folder beside the target; `seal` then records the
sha256 of every file in `manifest.json` (with the model's name and version) and the folder is
renamed into place. A `train` killed at any point leaves either the previous model or none, never
a folder that looks current and fails later. `verify` runs before anything is unpickled or
loaded and names the file that is missing, changed or unexpected.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import ModelError
from ..provenance import file_checksum

__all__ = ["MANIFEST", "seal", "verify", "manifest", "replace_folder"]

MANIFEST = "manifest.json"


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): file_checksum(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MANIFEST}


def _checksum(files: dict[str, str]) -> str:
    return "sha256:" + hashlib.sha256("".join(f"{k}\t{v}\n" for k, v in sorted(files.items())).encode()).hexdigest()


def seal(folder: Path, name: str, version: str) -> str:
    """Write the manifest over every file in `folder`; returns the model checksum.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "weights.bin").write_bytes(b"w")
    >>> seal(d, "m", "1") == verify(d)
    True
    """
    files = _files(folder)
    checksum = _checksum(files)
    (folder / MANIFEST).write_text(json.dumps({"name": name, "version": version, "checksum": checksum, "files": files},
                                              indent=2), encoding="utf-8")
    return checksum


def manifest(folder: Path) -> dict:
    """The manifest of a sealed folder (name, version, checksum, files)."""
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelError(f"{folder}: no trained model here ({MANIFEST} is missing); train it first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelError(f"{path}: not a readable manifest ({e})") from e


def verify(folder: Path) -> str:
    """The model checksum, after checking every file against the manifest (before anything is loaded).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "weights.bin").write_bytes(b"w"); _ = seal(d, "m", "1")
    >>> _ = (d / "weights.bin").write_bytes(b"x")
    >>> verify(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    autoknow_rdf.errors.ModelError: .../weights.bin: changed since the model was saved (checksum mismatch)
    """
    saved = manifest(folder)
    found = _files(folder)
    for rel in sorted(saved["files"]):
        if rel not in found:
            raise ModelError(f"{folder / rel}: missing (the model saved it and loads it)")
        if found[rel] != saved["files"][rel]:
            raise ModelError(f"{folder / rel}: changed since the model was saved (checksum mismatch)")
    extra = sorted(set(found) - set(saved["files"]))
    if extra:
        raise ModelError(f"{folder / extra[0]}: not part of the saved model (added after it was saved)")
    if _checksum(found) != saved["checksum"]:
        raise ModelError(f"{folder / MANIFEST}: its checksum does not match its file list")
    return saved["checksum"]


@contextmanager
def replace_folder(target: Path) -> Iterator[Path]:
    """A fresh temporary folder beside `target`, renamed onto it when the block succeeds and
    removed when it fails; leftovers of a killed earlier attempt are removed first."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.rename(target, old)  # between the two renames there is no model, never a half one
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
