"""Behaviour inputs: generic events CSV, Instacart baskets and products, ESCI judgements."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ._read import require, table
from .records import BasketRecord, JudgementRecord, ProductRecord, TypeRecord, TypeRef, product_ref

INSTACART = "instacart"
EVENTS = ("purchase", "view")



def behaviour_csv(path: Path, scheme: str) -> Iterator[BasketRecord | JudgementRecord]:
    """Generic: `session_id,event,product_id[,query]`; event is purchase, view or click.

    A purchase or view joins the product to the session's basket; with a `query`, the event is
    also recorded as a query judgement (the product was viewed/bought after that query).
    """
    for line, row in table(path, ["session_id", "event", "product_id"]):
        require(path, line, row, "session_id", "event", "product_id")
        event, product = row["event"].strip().lower(), product_ref(row["product_id"].strip())
        if event not in (*EVENTS, "click"):
            raise InputError(path, line, f"event must be one of purchase, view, click; not {row['event']!r}")
        if event in EVENTS:
            yield BasketRecord(scheme, row["session_id"], product, line, event)
        if (row.get("query") or "").strip():
            yield JudgementRecord(row["query"].strip(), product, event, line)


def instacart_orders(path: Path, scheme: str = INSTACART) -> Iterator[BasketRecord]:
    """Instacart order_products__*.csv: one basket line per row."""
    for line, row in table(path, ["order_id", "product_id"]):
        require(path, line, row, "order_id", "product_id")
        yield BasketRecord(INSTACART, row["order_id"], (INSTACART, row["product_id"]), line)


def _names(path: Path, key: str, name: str) -> dict[str, str]:
    return {row[key]: row[name] for _, row in table(path, [key, name])} if path.exists() else {}


def instacart_products(path: Path, scheme: str = INSTACART) -> Iterator[ProductRecord | TypeRecord]:
    """Instacart products.csv, typed by aisle; aisles sit under departments (names from the
    sibling aisles.csv and departments.csv when present)."""
    aisles = _names(path.with_name("aisles.csv"), "aisle_id", "aisle")
    departments = _names(path.with_name("departments.csv"), "department_id", "department")
    declared: set[str] = set()
    for line, row in table(path, ["product_id", "product_name", "aisle_id", "department_id"]):
        require(path, line, row, "product_id", "product_name", "aisle_id", "department_id")
        aisle = TypeRef(INSTACART, "aisle/" + row["aisle_id"], aisles.get(row["aisle_id"]))
        department = TypeRef(INSTACART, "department/" + row["department_id"], departments.get(row["department_id"]))
        if aisle.id not in declared:
            declared.add(aisle.id)
            if department.id not in declared:
                declared.add(department.id)
                yield TypeRecord(department, (), line, label_lang="en")
            yield TypeRecord(aisle, (department,), line, label_lang="en")
        yield ProductRecord(INSTACART, row["product_id"], line, row["product_name"], None, (TypeRef(INSTACART, aisle.id),), (), "en")


def esci(path: Path, scheme: str = "asin") -> Iterator[JudgementRecord]:
    """ESCI judgements: query, ASIN, E/S/C/I with Chorus gain."""
    for line, row in table(path, ["query", "product_id", "esci_label"]):
        require(path, line, row, "query", "product_id", "esci_label")
        try:
            gain = float(row["rating"]) if row.get("rating") else None
        except ValueError:
            raise InputError(path, line, f"rating {row['rating']!r} is not a number") from None
        yield JudgementRecord(row["query"], ("asin", row["product_id"]), row["esci_label"], line, gain)
