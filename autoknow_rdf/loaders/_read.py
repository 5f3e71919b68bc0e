"""Line-numbered reading of CSV/TSV/JSONL (optionally gzipped) with file:line errors."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from pyoxigraph import NamedNode

from ..errors import InputError

csv.field_size_limit(1 << 24)


def check_file(path: Path) -> None:
    """Fail early, naming the path, for a missing, unreadable or empty file."""
    if not path.exists():
        raise InputError(path, None, "no such file")
    if not path.is_file():
        raise InputError(path, None, "not a file")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:  # includes a .gz that is not gzip
        raise InputError(path, None, f"cannot read: {exc}") from exc
    if not head.strip():
        raise InputError(path, None, "empty file")


def lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, decoded text without newline); bad UTF-8 names its line."""
    check_file(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(path, number, f"not valid UTF-8 (byte {raw[exc.start]:#04x} at column {exc.start + 1})") from None
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip("\r\n")


def jsonl(path: Path, required: Iterable[str] = ()) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) per non-blank line; malformed JSON or missing fields name the line."""
    required = tuple(required)
    for number, text in lines(path):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, number, f"malformed JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(obj, dict):
            raise InputError(path, number, f"expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in required if obj.get(k) in (None, "")]
        if missing:
            raise InputError(path, number, f"missing required field(s): {', '.join(missing)}")
        yield number, obj


def table(path: Path, required: Iterable[str], delimiter: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for a CSV/TSV with a header; checks the header and each row's width."""
    if delimiter is None:
        name = path.name.removesuffix(".gz")
        delimiter = "\t" if name.endswith((".tsv", ".txt")) else ","
    source = (text + "\n" for _, text in lines(path))
    reader = csv.reader(source, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputError(path, 1, f"malformed header: {exc}") from None
    missing = [c for c in required if c not in header]
    if missing:
        shown = ", ".join(header[:8]) + (" …" if len(header) > 8 else "")
        raise InputError(path, 1, f"missing column(s) {', '.join(missing)}; the header has: {shown}")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(path, reader.line_num, f"malformed row: {exc}") from None
        if not row or row == [""]:
            continue
        if len(row) != len(header):
            raise InputError(path, reader.line_num, f"expected {len(header)} fields, found {len(row)}")
        yield reader.line_num, dict(zip(header, row))


def require(path: Path, line: int, row: dict[str, Any], *fields: str) -> None:
    """Required fields of one row must be present and non-empty."""
    missing = [f for f in fields if not str(row.get(f) or "").strip()]
    if missing:
        raise InputError(path, line, f"missing required field(s): {', '.join(missing)}")


def checked_iri(path: Path, line: int, text: str) -> NamedNode:
    """An absolute IRI from input, or an InputError saying why it is not one."""
    try:
        return NamedNode(text)
    except ValueError as exc:
        raise InputError(path, line, f"invalid IRI {text!r}: {exc}") from None


def looks_like_iri(text: str) -> bool:
    """True for `http(s)://…`, `urn:…` and other `scheme://…` strings (not `en:teas` ids)."""
    head, sep, _ = text.partition(":")
    return bool(sep) and (text[len(head) + 1:].startswith("//") or head.lower() in ("urn", "mailto"))
