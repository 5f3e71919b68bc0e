"""Refuse a test folder that overlaps the training folder: a test score is only worth something
on items the model never saw.

Both folders are laid out like ../shared/data (one folder per data set). For every data file of
the test folder, each record's item id (within the same data set) and its normalised text (in
any data set) are looked up among the training records; the first clashes are reported as
`file:line` pairs. Row numbers of matching-pair files are not item ids and are not compared.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path
from typing import Iterator

from ..errors import AutoknowError

__all__ = ["records", "find_overlap", "check_disjoint"]

ID_FIELDS = ("id", "product_id", "asin", "synset_offset", "code", "item_id")
TEXT_FIELDS = ("title", "input", "product_name", "name", "text", "question", "query", "lemmas", "synonym")
SUFFIXES = (".jsonl", ".csv", ".tsv", ".jsonl.gz", ".csv.gz", ".tsv.gz")


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    opener = gzip.open if path.suffix == ".gz" else open
    name = path.name.removesuffix(".gz")
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        if name.endswith(".jsonl"):
            for line, text in enumerate(fh, start=1):
                if text.strip():
                    try:
                        yield line, json.loads(text)
                    except json.JSONDecodeError:
                        continue
        else:
            reader = csv.DictReader(fh, delimiter="\t" if name.endswith(".tsv") else ",")
            for i, row in enumerate(reader, start=2):
                yield i, row


def records(path: Path) -> Iterator[tuple[int, str | None, str | None]]:
    """(line, item id, normalised text) per record of a data file.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"; _ = p.write_text('{"id": "7", "title": "Half & Half"}\\n')
    >>> list(records(p))
    [(1, '7', 'half half')]
    """
    pairs = None
    for line, row in _rows(path):
        if not isinstance(row, dict):
            continue
        if pairs is None:
            pairs = any(str(k).startswith("ltable_") for k in row)
        if pairs:
            left = next((row[k] for k in row if k.startswith("ltable_") and k[7:].lower() in TEXT_FIELDS), "") or ""
            right = next((row[k] for k in row if k.startswith("rtable_") and k[7:].lower() in TEXT_FIELDS), "") or ""
            yield line, None, _norm(f"{left} || {right}") or None
            continue
        ident = next((str(row[k]) for k in ID_FIELDS if row.get(k) not in (None, "")), None)
        text = next((row[k] for k in TEXT_FIELDS if isinstance(row.get(k), str) and row[k].strip()), None)
        yield line, ident, _norm(text) if text and len(_norm(text)) >= 8 else None  # short names recur by nature


def _files(folder: Path, patterns: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)
                  and any(p.relative_to(folder).match(pat) for pat in patterns))


def find_overlap(train: Path, test: Path, patterns: tuple[str, ...] = ("*",), limit: int = 5) -> list[str]:
    """Up to `limit` clashes, each 'test-file:line has the same <id|text> as train-file:line', among
    the files matching `patterns` (the labelled data a stage is scored on, not shared taxonomies)."""
    ids: dict[tuple[str, str], str] = {}
    texts: dict[str, str] = {}
    for f in _files(train, patterns):
        dataset = f.relative_to(train).parts[0]
        for line, ident, text in records(f):
            where = f"{f}:{line}"
            if ident is not None:
                ids.setdefault((dataset, ident), where)
            if text is not None:
                texts.setdefault(text, where)
    clashes = []
    for f in _files(test, patterns):
        dataset = f.relative_to(test).parts[0]
        for line, ident, text in records(f):
            if ident is not None and (dataset, ident) in ids:
                clashes.append(f"{f}:{line} has the same item id {ident!r} as {ids[(dataset, ident)]}")
            elif text is not None and text in texts:
                clashes.append(f"{f}:{line} has the same text as {texts[text]}")
            if len(clashes) >= limit:
                return clashes
    return clashes


def check_disjoint(train: Path, test: Path, patterns: tuple[str, ...] = ("*",)) -> None:
    """Raise AutoknowError naming the first clashes when the folders share items or texts."""
    if Path(train).resolve() == Path(test).resolve():
        raise AutoknowError(f"--test {test} is the training folder")
    clashes = find_overlap(Path(train), Path(test), patterns)
    if clashes:
        raise AutoknowError("the test folder overlaps the training data (a score on it would be inflated):\n  "
                            + "\n  ".join(clashes))
