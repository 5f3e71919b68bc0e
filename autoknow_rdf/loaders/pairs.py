"""Product-matching pairs (ER-Magellan / DeepMatcher and WDC LSPC): `label, ltable_*, rtable_*`."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ._read import lines, table
from .catalogue import text_id
from .records import AttributeSpan, PairRecord, ProductRecord

TITLE_COLUMNS = ("title", "name", "beer_name")


def _offer(scheme: str, line: int, columns: dict[str, str]) -> ProductRecord:
    title = next((v for k, v in columns.items() if k.lower() in TITLE_COLUMNS and v), None)
    description = columns.get("description") or None
    attrs = tuple(AttributeSpan(k, v) for k, v in columns.items() if v and k.lower() not in (*TITLE_COLUMNS, "description"))
    key = "\t".join(f"{k}={v}" for k, v in sorted(columns.items()))
    return ProductRecord(scheme, text_id(key), line, title, description, (), attrs)


def match_pairs(path: Path, scheme: str) -> Iterator[PairRecord]:
    """One pair per row; offers get content ids, so identical offers meet across rows."""
    header = next(lines(path))[1].split(",")
    left = [c.removeprefix("ltable_") for c in header if c.startswith("ltable_")]
    if not left:
        raise InputError(path, 1, "no ltable_* columns: not a matching-pairs file")
    split = path.stem.split("_")[0]
    for line, row in table(path, ["label", *(f"ltable_{c}" for c in left), *(f"rtable_{c}" for c in left)]):
        if row["label"] not in ("0", "1"):
            raise InputError(path, line, f"label must be 0 or 1, not {row['label']!r}")
        l = _offer(scheme, line, {c: row[f"ltable_{c}"] for c in left})
        r = _offer(scheme, line, {c: row[f"rtable_{c}"] for c in left})
        yield PairRecord(scheme, split, row.get("id") or str(line), l, r, row["label"] == "1", line)
