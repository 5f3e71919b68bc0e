"""Customer text inputs: generic reviews/questions JSONL and SubjQA (grocery)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ._read import jsonl, require, table
from .records import TextRecord, product_ref



def customer_text_jsonl(path: Path, scheme: str) -> Iterator[TextRecord]:
    """Generic: `{"id", "kind": "review"|"question", "product", "text", "aspects"?: [..]}`.

    `product` is `scheme:id` (e.g. `asin:B00…`, `gtin:…`) or a plain id of the `catalogue` scheme.
    """
    for line, obj in jsonl(path, ["id", "kind", "product", "text"]):
        if obj["kind"] not in ("review", "question"):
            raise InputError(path, line, f"kind must be 'review' or 'question', not {obj['kind']!r}")
        yield TextRecord(obj["kind"], str(obj["id"]), product_ref(str(obj["product"])), obj["text"], line, tuple(obj.get("aspects") or ()))


def subjqa(path: Path, scheme: str = "asin") -> Iterator[TextRecord]:
    """SubjQA rows repeat per annotator: each review and each question is kept once."""
    seen: set[tuple[str, str]] = set()
    for line, row in table(path, ["item_id", "review_id", "review", "question"]):
        require(path, line, row, "item_id", "review_id")
        product = ("asin", row["item_id"])
        review = row["review"].removesuffix("ANSWERNOTFOUND").strip()
        if ("review", row["review_id"]) not in seen and review:
            seen.add(("review", row["review_id"]))
            yield TextRecord("review", row["review_id"], product, review, line, tuple(a for a in [row.get("nn_asp")] if a))
        qid = hashlib.sha1(f"{row['item_id']}\t{row['question']}".encode()).hexdigest()[:16]
        if ("question", qid) not in seen and row["question"].strip():
            seen.add(("question", qid))
            yield TextRecord("question", qid, product, row["question"].strip(), line, tuple(a for a in [row.get("query_asp")] if a))
