"""Typed records that every input adapter yields; `ingest` turns them into facts.

Adapters only parse; one mapping (ingest.facts_of) decides what RDF a record becomes, so the
same kind of input looks the same in the graph whichever data set it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TypeRef", "TypeRecord", "AttributeRecord", "ValueRecord", "ApplicabilityRecord",
    "TypeMatchRecord", "AttributeSpan", "ProductRecord", "TextRecord", "BasketRecord",
    "JudgementRecord", "PairRecord", "Record", "product_ref",
]


def product_ref(ref: str) -> tuple[str, str]:
    """A product reference in generic inputs: `scheme:id`, or a plain id of the `catalogue` scheme.

    >>> product_ref("asin:B00X"), product_ref("p1")
    (('asin', 'B00X'), ('catalogue', 'p1'))
    """
    scheme, sep, ident = ref.partition(":")
    return (scheme, ident) if sep and ident else ("catalogue", ref)


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A product type by (scheme, id); scheme "" means `id` is an absolute IRI."""

    scheme: str
    id: str
    label: str | None = None  # when set, the record also declares the type


@dataclass(frozen=True, slots=True)
class TypeRecord:
    """A taxonomy node: a product type with its parents and synonyms (lang, text)."""

    ref: TypeRef
    parents: tuple[TypeRef, ...]
    line: int
    synonyms: tuple[tuple[str, str], ...] = ()
    label_lang: str | None = None


@dataclass(frozen=True, slots=True)
class AttributeRecord:
    """An attribute (property) with its description and the values its vocabulary allows."""

    name: str
    line: int
    label: str | None = None
    description: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueRecord:
    """A value individual of an attribute, optionally in a hierarchy and with synonyms."""

    attribute: str
    value: str  # the key that names the individual (a label or a vocabulary id)
    line: int
    label: str | None = None
    broader: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ApplicabilityRecord:
    """A source's statement that an attribute applies (or not) to a type."""

    type: TypeRef
    attribute: str
    applicable: bool
    line: int


@dataclass(frozen=True, slots=True)
class TypeMatchRecord:
    """An alignment between types of two taxonomies (skos:closeMatch)."""

    left: TypeRef
    right: TypeRef
    line: int


@dataclass(frozen=True, slots=True)
class AttributeSpan:
    """An attribute value seen on a product, with where it was seen (field, offsets)."""

    attribute: str
    value: str
    field: str | None = None  # "title" | "description" | None (a structured field)
    start: int | None = None
    end: int | None = None
    value_key: str | None = None  # a vocabulary id that names the value individual


@dataclass(frozen=True, slots=True)
class ProductRecord:
    scheme: str
    id: str
    line: int
    title: str | None = None
    description: str | None = None
    types: tuple[TypeRef, ...] = ()
    attributes: tuple[AttributeSpan, ...] = ()
    lang: str | None = None
    gtin: str | None = None


@dataclass(frozen=True, slots=True)
class TextRecord:
    """Customer text: a review or a question about a product, with mined aspects."""

    kind: str  # "review" | "question"
    id: str
    product: tuple[str, str]  # (scheme, id)
    text: str
    line: int
    aspects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BasketRecord:
    """One behaviour event: a product bought (or viewed) in a basket/session."""

    scheme: str
    basket: str
    product: tuple[str, str]
    line: int
    event: str = "purchase"  # "purchase" | "view"


@dataclass(frozen=True, slots=True)
class JudgementRecord:
    """A query and a product with a relevance label (ESCI, or click/purchase after the query)."""

    query: str
    product: tuple[str, str]
    label: str
    line: int
    gain: float | None = None


@dataclass(frozen=True, slots=True)
class PairRecord:
    """A labelled pair of offers from a product-matching benchmark."""

    scheme: str
    split: str
    id: str
    left: ProductRecord
    right: ProductRecord
    match: bool
    line: int


Record = (
    TypeRecord | AttributeRecord | ValueRecord | ApplicabilityRecord | TypeMatchRecord
    | ProductRecord | TextRecord | BasketRecord | JudgementRecord | PairRecord
)
