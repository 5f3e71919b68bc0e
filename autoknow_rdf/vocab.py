"""RDF terms of autoknow-rdf as NamedNodes, and the only place data IRIs are minted.

The `AK` namespace is closed: a term that ontology/autoknow.ttl does not define raises
AttributeError at the point of use (a test keeps both in step), so a typo cannot silently
create a new predicate.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import quote

from pyoxigraph import NamedNode

from .resources import ONTOLOGY_DIR

__all__ = [
    "AK", "RDF", "RDFS", "OWL", "XSD", "SKOS", "PROV", "SCHEMA", "SH", "DCT", "PREFIXES",
    "ONTOLOGY_DIR", "ONTOLOGY_FILE", "ID", "slug", "type_iri", "product_iri", "attribute_iri",
    "value_iri", "is_attribute_iri", "quarantine_iri", "statement_iri", "scheme_iri", "scheme_name", "node_iri", "graph_iri", "ONTOLOGY_GRAPH", "PROVENANCE_GRAPH",
]

ONTOLOGY_FILE = ONTOLOGY_DIR / "autoknow.ttl"
ID = "https://w3id.org/autoknow/id/"


class Namespace:
    """A namespace of NamedNodes; closed when `terms` is given (unknown names raise)."""

    def __init__(self, base: str, terms: tuple[str, ...] | None = None):
        self._base, self._terms = base, frozenset(terms) if terms else None

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._terms is not None and name not in self._terms:
            raise AttributeError(f"{self._base}{name} is not defined in {ONTOLOGY_FILE.name}")
        return NamedNode(self._base + name)

    def __getitem__(self, name: str) -> NamedNode:
        return getattr(self, name)

    def __str__(self) -> str:
        return self._base

    def terms(self) -> frozenset[str]:
        return self._terms or frozenset()


AK_TERMS = (
    "Product", "AttributeValue", "hasAttributeValue", "ofAttribute", "allowedValue", "sourceId",
    "Applicability", "forType", "forAttribute", "applicable", "probability", "importance",
    "Review", "Question", "mentionsAspect",
    "Basket", "containsProduct", "viewedProduct", "Query", "queryText", "QueryJudgement",
    "judgedQuery", "judgedProduct", "relevance", "gain",
    "MatchPair", "leftItem", "rightItem", "isMatch", "split",
    "Quarantine", "quarantines", "score", "reason", "QuarantineReview", "decision", "canonical",
    "Ingest", "StageRun", "SourceFile", "Model", "graph", "adapter", "checksum", "modelName",
    "modelVersion", "minPrecision", "stage", "runId", "factCount", "sourceLine", "confidence", "evidenceText",
    "evidenceField", "spanStart", "spanEnd",
    "Audit", "Judgement", "judges", "verdict", "judgedStage", "factKind", "judgedTriple", "judgedModel", "sampleWeight",
    "guidelineVersion", "auditSample",
)
AK = Namespace("https://w3id.org/autoknow/ontology#", AK_TERMS)
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")
DCT = Namespace("http://purl.org/dc/terms/")

PREFIXES = {
    "ak": str(AK), "akid": ID, "rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL),
    "xsd": str(XSD), "skos": str(SKOS), "prov": str(PROV), "schema": str(SCHEMA),
    "sh": str(SH), "dct": str(DCT),
}

ONTOLOGY_GRAPH = NamedNode(ID + "graph/ontology")
PROVENANCE_GRAPH = NamedNode(ID + "graph/provenance")

_NON_WORD = re.compile(r"[^0-9a-z]+")


def slug(text: str) -> str:
    """A lower-case ASCII slug: the normal form that makes equal-looking names one IRI.

    >>> slug("Net Content"), slug("Crème brûlée"), slug("dietary_preferences")
    ('net-content', 'creme-brulee', 'dietary-preferences')
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out = _NON_WORD.sub("-", ascii_text).strip("-")
    if out:
        return out
    # Names with no Latin letters (e.g. Chinese) keep a stable, readable-enough identity.
    return "u-" + hashlib.sha1(text.encode()).hexdigest()[:12]


def _local(identifier: str) -> str:
    return quote(identifier, safe="")


def node_iri(kind: str, *parts: str) -> NamedNode:
    """IRI of a data node: `akid:<kind>/<part>/...`, each part percent-encoded.

    >>> node_iri("review", "a b").value
    'https://w3id.org/autoknow/id/review/a%20b'
    """
    return NamedNode(ID + "/".join([kind, *(_local(p) for p in parts)]))


def scheme_iri(scheme: str) -> NamedNode:
    return node_iri("scheme", scheme)


def scheme_name(iri: str) -> str:
    """A taxonomy's short name, as `scheme_iri` was given it.

    >>> scheme_name(scheme_iri("off").value)
    'off'
    """
    return iri.rstrip("/").rsplit("/", 1)[-1]


def type_iri(scheme: str, identifier: str) -> NamedNode:
    """A product type class of a taxonomy or catalogue (`scheme`), by its source id.

    >>> type_iri("off", "en:teas").value
    'https://w3id.org/autoknow/id/type/off/en%3Ateas'
    """
    return node_iri("type", scheme, identifier)


def product_iri(scheme: str, identifier: str) -> NamedNode:
    return node_iri("product", scheme, identifier)


def attribute_iri(name: str) -> NamedNode:
    """Attributes are shared across sources by their slug: "Net content" = "net_content".

    >>> attribute_iri("Net content").value
    'https://w3id.org/autoknow/id/attribute/net-content'
    """
    return node_iri("attribute", slug(name))


def applicability_iri(type_: NamedNode, attribute: NamedNode) -> NamedNode:
    """The one node per (type, attribute) that ingest (declared) and relations (predicted) describe.

    >>> applicability_iri(type_iri("shopify", "fb-1"), attribute_iri("Flavor")).value
    'https://w3id.org/autoknow/id/applicability/https%3A%2F%2Fw3id.org%2Fautoknow%2Fid%2Ftype%2Fshopify%2Ffb-1/flavor'
    """
    return node_iri("applicability", type_.value, attribute.value.rsplit("/", 1)[-1])


def is_attribute_iri(node: NamedNode) -> bool:
    """Whether a predicate is an attribute (a sub-property of ak:hasAttributeValue minted here).

    >>> is_attribute_iri(attribute_iri("Flavor")), is_attribute_iri(RDF.type)
    (True, False)
    """
    return node.value.startswith(ID + "attribute/")


def value_iri(attribute: str, value: str) -> NamedNode:
    """A value individual: one per (attribute, normalised value), so "Red" and "red" meet.

    >>> value_iri("Color", "Rose Gold") == value_iri("color", "rose gold")
    True
    """
    return node_iri("value", slug(attribute), slug(value))


def quarantine_iri(triple) -> NamedNode:
    """One quarantine node per suspect triple, whichever run found it (so a re-run adds nothing).

    >>> from pyoxigraph import Triple
    >>> t = Triple(NamedNode("http://p"), attribute_iri("Brand"), value_iri("Brand", "Acme"))
    >>> quarantine_iri(t) == quarantine_iri(t)
    True
    """
    return node_iri("quarantine", hashlib.blake2b(str(triple).encode(), digest_size=12).hexdigest())


def statement_iri(triple) -> NamedNode:
    """An RDF 1.1 statement node for a triple term (exports without RDF 1.2 triple terms)."""
    return node_iri("statement", hashlib.blake2b(str(triple).encode(), digest_size=12).hexdigest())


def graph_iri(kind: str, *parts: str) -> NamedNode:
    return node_iri("graph/" + kind, *parts)
