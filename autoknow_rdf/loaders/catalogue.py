"""Catalogue inputs: the generic products JSONL and the labelled-title data sets.

Product types named only by a label (OA-Mine's "Coffee", ImplicitAVE's "Tea & Infusions")
become classes in the shared `label` scheme, so equal names from different sources meet.
"""

from __future__ import annotations

import hashlib
import json
import html
from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError
from ..vocab import slug
from ._read import checked_iri, jsonl, looks_like_iri
from .records import AttributeSpan, ProductRecord, TypeRef

LABEL_SCHEME = "label"


def label_type(name: str) -> TypeRef:
    """A type known only by its name.

    >>> label_type("Breakfast Cereal")
    TypeRef(scheme='label', id='breakfast-cereal', label='Breakfast Cereal')
    """
    return TypeRef(LABEL_SCHEME, slug(name), name)


def text_id(text: str) -> str:
    """A stable id for a product that has none: a hash of its title."""
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _type_ref(path: Path, line: int, value: str, own_scheme: str) -> TypeRef:
    """`type` in products JSONL: an absolute IRI, `scheme:id` of an ingested taxonomy (a public
    one, or the scheme this file is ingested under, as a taxonomy CSV ingested with the same
    `--scheme`), or a name.

    >>> _type_ref(Path("p.jsonl"), 1, "my-shop:teas", "my-shop"), _type_ref(Path("p.jsonl"), 1, "Tea: green", "my-shop").scheme
    (TypeRef(scheme='my-shop', id='teas', label=None), 'label')
    """
    if looks_like_iri(value):
        checked_iri(path, line, value)
        return TypeRef("", value)
    scheme, sep, ident = value.partition(":")
    if sep and scheme in ("shopify", "google", "off", "instacart", own_scheme) and ident:
        return TypeRef(scheme, ident)
    return label_type(value)


def products_jsonl(path: Path, scheme: str) -> Iterator[ProductRecord]:
    """Generic catalogue: one product per line.

    `{"id", "title", "description"?, "type"? (str or list), "attributes"? {name: value or [values]},
      "spans"? [{"attribute", "value", "start", "end", "field"?}], "lang"?}`

    An id given twice is an error naming both lines when the two lines differ (a product would
    get both titles); an identical line repeated is read once.
    """
    seen: dict[str, tuple[int, str]] = {}
    for line, obj in jsonl(path, ["id", "title"]):
        key, body = str(obj["id"]), json.dumps(obj, sort_keys=True, ensure_ascii=False)
        if key in seen:
            first, before = seen[key]
            if before != body:
                raise InputError(path, line, f"product id {key!r} is on line {first} already, with other fields")
            continue
        seen[key] = (line, body)
        types = obj.get("type") or []
        types = [types] if isinstance(types, str) else types
        if not all(isinstance(t, str) for t in types):
            raise InputError(path, line, "`type` must be a string or a list of strings")
        attrs = obj.get("attributes") or {}
        if not isinstance(attrs, dict):
            raise InputError(path, line, "`attributes` must be an object {name: value}")
        spans = _spans(path, line, obj, obj["title"], obj.get("description") or "")
        spanned = {(s.attribute, s.value) for s in spans}
        for name, values in attrs.items():
            for v in values if isinstance(values, list) else [values]:
                if not isinstance(v, (str, int, float)) or isinstance(v, bool):
                    raise InputError(path, line, f"attribute {name!r}: value must be text or a number")
                if (name, str(v)) not in spanned:
                    spans.append(AttributeSpan(name, str(v)))
        yield ProductRecord(
            scheme, str(obj["id"]), line, obj["title"], obj.get("description") or None,
            tuple(_type_ref(path, line, t, scheme) for t in types), tuple(spans), obj.get("lang"),
        )


def _spans(path: Path, line: int, obj: dict[str, Any], title: str, description: str) -> list[AttributeSpan]:
    out = []
    for s in obj.get("spans") or ():
        field = s.get("field", "title")
        text = title if field == "title" else description
        start, end, value = s.get("start"), s.get("end"), s.get("value")
        if not isinstance(start, int) or not isinstance(end, int) or not (0 <= start < end <= len(text)):
            raise InputError(path, line, f"span {s!r} lies outside the {field}")
        if text[start:end] != value:
            raise InputError(path, line, f"span {start}:{end} of the {field} reads {text[start:end]!r}, not {value!r}")
        out.append(AttributeSpan(s["attribute"], value, field, start, end))
    return out


def extractgpt_titles(path: Path, scheme: str) -> Iterator[ProductRecord]:
    """OA-Mine / AE-110K (ExtractGPT packaging): title, category, gold values with spans."""
    for line, obj in jsonl(path, ["input", "category"]):
        title = obj["input"]
        spans = _spans(path, line, obj, title, "")
        seen = {(s.attribute, s.value) for s in spans}
        for attribute, values in (obj.get("target_scores") or {}).items():
            for value in values:
                if value != "n/a" and (attribute, value) not in seen:  # n/a: known absent
                    spans.append(AttributeSpan(attribute, value, "title"))
        yield ProductRecord(scheme, text_id(title), line, title, None, (label_type(obj["category"]),), tuple(spans))


def wdc_pave(path: Path, scheme: str = "wdc-pave") -> Iterator[ProductRecord]:
    """WDC-PAVE offers: title + description, values cited by paragraph (0 title, 1 description)."""
    for line, obj in jsonl(path, ["id", "input_title", "category"]):
        title = html.unescape(obj["input_title"])
        description = html.unescape(obj.get("input_description") or "")
        spans = []
        types = [label_type(obj["category"])]
        for attribute, values in (obj.get("target_scores") or {}).items():
            for value, info in values.items():
                if value == "n/a":
                    continue
                for pid in (info.get("pid") or [None]) if isinstance(info, dict) else [None]:
                    field, text = ("title", title) if pid == 0 else ("description", description) if pid == 1 else (None, "")
                    start = text.find(value) if field else -1
                    if start >= 0:
                        spans.append(AttributeSpan(attribute, value, field, start, start + len(value)))
                    else:
                        spans.append(AttributeSpan(attribute, value, field))
        yield ProductRecord(scheme, str(obj["id"]), line, title, description or None, tuple(types), tuple(spans))


def implicitave(path: Path, scheme: str = "asin") -> Iterator[ProductRecord]:
    """ImplicitAVE: Amazon titles with one implied value each (usually not a span of the title)."""
    from ._read import table

    for line, row in table(path, ["id", "category", "texts", "attribute_names", "attribute_values"]):
        title = row["texts"].removeprefix("[Title] ").strip()
        if not title:
            raise InputError(path, line, "empty title")
        value = row["attribute_values"]
        start = title.find(value)
        span = AttributeSpan(row["attribute_names"], value, "title", *((start, start + len(value)) if start >= 0 else (None, None)))
        yield ProductRecord(scheme, row["id"], line, title, None, (label_type(row["category"]),), (span,))


def off_products(path: Path, scheme: str = "off") -> Iterator[ProductRecord]:
    """Open Food / Beauty Facts products: name, category path, brands, quantity, labels, allergens."""
    for line, obj in jsonl(path, ["code"]):
        lang = obj.get("lang") or None
        title = obj.get("product_name_en") or obj.get("product_name")
        if obj.get("product_name_en"):
            lang = "en"
        types = tuple(TypeRef("off", c) for c in obj.get("categories_hierarchy") or ())
        attrs = [AttributeSpan("brand", b.strip()) for b in (obj.get("brands") or "").split(",") if b.strip()]
        if obj.get("quantity"):
            attrs.append(AttributeSpan("quantity", str(obj["quantity"]).strip()))
        attrs += [AttributeSpan("labels", t, value_key=t) for t in obj.get("labels_tags") or ()]
        attrs += [AttributeSpan("allergens", t, value_key=t) for t in obj.get("allergens_tags") or ()]
        yield ProductRecord("gtin", obj["code"], line, title, None, types, tuple(attrs), lang, obj["code"])
