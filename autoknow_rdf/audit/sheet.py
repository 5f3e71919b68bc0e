"""Audit sheets: the sample as a person reads and judges it, in CSV and JSONL.

A sheet is a table with one row per sampled fact: `item` (its number in the sample), `stage`,
`sample`, `fact` (the reifier IRI the judgement is recorded against), `kind`, what a person reads
(`claim`, `title`, `product types`, `attribute`, `value`, `type path`, `other path`, `evidence`),
and what the person writes (`judgement`: right, wrong, unsure or empty; `annotator`; `judged at`; `note`).
The weights that re-weight the strata sit apart, in `sample.weights.json`, never in the sheet.
Reading a sheet checks its shape: a missing column, a row of another width, an unknown judgement
or a duplicated fact is an error naming the file and line.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..loaders._read import jsonl, table

__all__ = ["COLUMNS", "READ_COLUMNS", "VERDICTS", "write_sheet", "read_sheet", "write_weights", "read_weights",
           "SAMPLE_CSV", "SAMPLE_JSONL", "WEIGHTS_FILE", "judged_path"]

READ_COLUMNS = ("claim", "title", "product types", "attribute", "value", "type path", "other path", "evidence")
COLUMNS = ("item", "stage", "sample", "fact", "kind", *READ_COLUMNS, "judgement", "annotator", "judged at", "note")
REQUIRED = ("item", "fact", "kind", "judgement")
VERDICTS = ("right", "wrong", "unsure")
SAMPLE_CSV, SAMPLE_JSONL, WEIGHTS_FILE = "sample.csv", "sample.jsonl", "sample.weights.json"


def judged_path(folder: Path, annotator: str) -> Path:
    """Where `audit review` keeps one annotator's judgements of the sample in `folder`."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in annotator) or "anonymous"
    return Path(folder) / f"judged-{safe}.jsonl"


def _atomic(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (a killed write leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary file, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_sheet(path: Path, rows: list[dict[str, Any]]) -> None:
    """The rows as CSV (.csv) or JSON lines (anything else), every column in COLUMNS order."""
    path = Path(path)
    clean = [{c: "" if r.get(c) is None else str(r.get(c)) for c in COLUMNS} for r in rows]
    if path.suffix == ".csv":
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(clean)
        _atomic(path, buf.getvalue())
    else:
        _atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in clean))


def read_sheet(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of a sheet, its shape checked; a judgement is lower-cased, empty when blank."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "no such sheet")
    rows: list[tuple[int, dict[str, str]]] = []
    if path.suffix == ".csv":  # the loaders' readers: UTF-8, the header and each row's width checked
        rows = list(table(path, REQUIRED))
    else:
        for line, row in jsonl(path, ("item", "fact", "kind")):
            if "judgement" not in row:
                raise InputError(path, line, "the row lacks judgement")
            rows.append((line, {k: "" if v is None else str(v) for k, v in row.items()}))
    seen: dict[str, int] = {}
    for line, row in rows:
        row["judgement"] = row["judgement"].strip().lower()
        if row["judgement"] not in ("", *VERDICTS):
            raise InputError(path, line, f"judgement {row['judgement']!r} is not one of {', '.join(VERDICTS)} (or empty)")
        if not row["fact"].startswith("https://"):
            raise InputError(path, line, f"fact {row['fact']!r} is not a fact IRI")
        key = row["fact"] + "\t" + row.get("annotator", "")
        if key in seen:
            raise InputError(path, line, f"fact {row['fact']} is on line {seen[key]} already")
        seen[key] = line
    return rows


def write_weights(folder: Path, about: dict[str, Any]) -> None:
    """The sample's strata: its name, stage, run, each kind's facts per bin and each fact's weight."""
    _atomic(Path(folder) / WEIGHTS_FILE, json.dumps(about, indent=1, ensure_ascii=False))


def read_weights(folder: Path) -> dict[str, Any]:
    path = Path(folder) / WEIGHTS_FILE
    if not path.is_file():
        raise InputError(path, None, "no such file; a sheet is imported from the folder `autoknow audit sample` wrote")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, f"not JSON ({exc.msg})") from None
