"""Taxonomy inputs: generic CSV and OWL/SKOS Turtle, Shopify, Google and Open Food Facts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

from pyoxigraph import NamedNode, RdfFormat, parse

from ..errors import InputError
from ..vocab import OWL, RDF, RDFS, SKOS
from ._read import checked_iri, check_file, jsonl, looks_like_iri, require, table
from .records import (
    ApplicabilityRecord, AttributeRecord, TypeMatchRecord, TypeRecord, TypeRef, ValueRecord,
)


def checked_taxonomy(path: Path, records: list[TypeRecord]) -> list[TypeRecord]:
    """Reject an id defined twice with different labels, unknown parent ids and cycles, naming
    the line of the offending node. An id repeated with the same label is one node: its rows'
    parents and synonyms are merged."""
    key = lambda ref: (ref.scheme, ref.id)  # noqa: E731 - a label does not change identity
    by_key: dict[tuple[str, str], TypeRecord] = {}
    for r in records:
        first = by_key.get(key(r.ref))
        if first is None:
            by_key[key(r.ref)] = r
        elif first.ref.label != r.ref.label:
            raise InputError(path, r.line, f"id {r.ref.id!r} is defined again with another label: {r.ref.label!r} "
                                           f"(line {first.line} says {first.ref.label!r})")
        else:
            by_key[key(r.ref)] = replace(first, parents=tuple(dict.fromkeys(first.parents + r.parents)),
                                         synonyms=tuple(dict.fromkeys(first.synonyms + r.synonyms)))
    records = list(by_key.values())
    for r in records:
        for p in r.parents:
            if key(p) not in by_key:
                raise InputError(path, r.line, f"unknown parent id {p.id!r} of {r.ref.id!r}")
    state: dict[tuple[str, str], int] = {}  # 1 = on the current path, 2 = done
    for start in records:
        if state.get(key(start.ref)):
            continue
        stack = [(key(start.ref), iter(start.parents))]
        state[key(start.ref)] = 1
        while stack:
            node, parents = stack[-1]
            nxt = next(parents, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(key(nxt)) == 1:
                path_ids = [n for n, _ in stack]
                cycle = [n[1] for n in path_ids[path_ids.index(key(nxt)):]] + [nxt.id]
                raise InputError(path, by_key[node].line, "cycle in taxonomy: " + " > ".join(cycle))
            elif not state.get(key(nxt)):
                state[key(nxt)] = 1
                stack.append((key(nxt), iter(by_key[key(nxt)].parents)))
    return records


def _split(cell: str) -> list[str]:
    return [x.strip() for x in cell.split("|") if x.strip()]


def taxonomy_csv(path: Path, scheme: str) -> Iterator[TypeRecord]:
    """Generic taxonomy: `id,label,parent[,synonyms]`; several parents/synonyms split by `|`.

    Ids may be absolute IRIs (kept as the class IRI) or local ids (minted under `scheme`).
    """
    def ref(line: int, ident: str, label: str | None = None) -> TypeRef:
        if looks_like_iri(ident):
            checked_iri(path, line, ident)
            return TypeRef("", ident, label)
        return TypeRef(scheme, ident, label)

    records = []
    for line, row in table(path, ["id", "label"]):
        require(path, line, row, "id", "label")
        parents = tuple(ref(line, p) for p in _split(row.get("parent") or ""))
        syns = tuple(("en", s) for s in _split(row.get("synonyms") or ""))
        records.append(TypeRecord(ref(line, row["id"].strip(), row["label"].strip()), parents, line, syns))
    yield from checked_taxonomy(path, records)


def taxonomy_turtle(path: Path, scheme: str) -> Iterator[TypeRecord]:
    """OWL classes (rdfs:subClassOf) or SKOS concepts (skos:broader) with their labels."""
    check_file(path)
    nodes: dict[str, dict] = {}
    try:
        with open(path, "rb") as fh:
            for t in parse(fh, format=RdfFormat.TURTLE):  # no base: a relative IRI is an error
                if not isinstance(t.subject, NamedNode):
                    continue
                n = nodes.setdefault(t.subject.value, {"label": None, "parents": [], "syn": [], "is": False})
                if t.predicate == RDF.type and t.object in (OWL.Class, SKOS.Concept):
                    n["is"] = True
                elif t.predicate in (RDFS.subClassOf, SKOS.broader) and isinstance(t.object, NamedNode):
                    n["is"] = True
                    n["parents"].append(t.object.value)
                elif t.predicate in (RDFS.label, SKOS.prefLabel) and n["label"] is None:
                    n["label"] = t.object.value
                elif t.predicate == SKOS.altLabel:
                    n["syn"].append((getattr(t.object, "language", None) or "en", t.object.value))
    except SyntaxError as exc:
        raise InputError(path, getattr(exc, "lineno", None), f"invalid Turtle: {exc}") from None
    classes = {k: v for k, v in nodes.items() if v["is"]}
    if not classes:
        raise InputError(path, None, "no owl:Class or skos:Concept found (is this a taxonomy?)")
    records = []
    for number, (iri, n) in enumerate(sorted(classes.items()), start=1):
        parents = tuple(TypeRef("", p) for p in n["parents"] if p in classes)
        label = n["label"] or iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        records.append(TypeRecord(TypeRef("", iri, label), parents, number, tuple(n["syn"])))
    yield from checked_taxonomy(path, records)


def _id_name_parent(path: Path, scheme: str) -> Iterator[TypeRecord]:
    """A TSV of `id, name, parent_id` (roots have no parent), as Shopify and Google publish."""
    records = []
    for line, row in table(path, ["id", "name", "parent_id"]):
        require(path, line, row, "id", "name")
        parents = (TypeRef(scheme, row["parent_id"]),) if row["parent_id"] else ()
        records.append(TypeRecord(TypeRef(scheme, row["id"], row["name"]), parents, line, label_lang="en"))
    yield from checked_taxonomy(path, records)


def shopify_categories(path: Path, scheme: str = "shopify") -> Iterator[TypeRecord]:
    """Shopify categories.tsv: id, name, parent_id."""
    return _id_name_parent(path, scheme)


def google_taxonomy(path: Path, scheme: str = "google") -> Iterator[TypeRecord]:
    """Google taxonomy-with-ids TSV: id, name, parent_id."""
    return _id_name_parent(path, scheme)


def _lang(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _names(obj: dict) -> tuple[str | None, str | None, tuple[tuple[str, str], ...]]:
    """(label, its language, all synonyms) of an Open Food Facts taxonomy node; English first."""
    names = obj.get("name") or {}
    lang = "en" if "en" in names else (sorted(names)[0] if names else None)
    label = names.get(lang) if lang else None
    syns = tuple((_lang(l), s) for l, words in sorted((obj.get("synonyms") or {}).items()) for s in words if s != names.get(l))
    return label, (_lang(lang) if lang else None), syns


def off_categories(path: Path, scheme: str = "off") -> Iterator[TypeRecord]:
    """Open Food Facts categories.full.jsonl(.gz): multi-parent DAG with multilingual synonyms."""
    records = []
    for line, obj in jsonl(path, ["id"]):
        label, lang, syns = _names(obj)
        parents = tuple(TypeRef(scheme, p) for p in obj.get("parents") or ())
        records.append(TypeRecord(TypeRef(scheme, obj["id"], label or obj["id"]), parents, line, syns, lang))
    yield from checked_taxonomy(path, records)


def off_values(path: Path, scheme: str = "") -> Iterator[ValueRecord]:
    """Open Food Facts value taxonomies (labels, allergens, ingredients) as value individuals."""
    attribute = path.name.split(".")[0]  # labels.nodes.jsonl.gz -> labels
    for line, obj in jsonl(path, ["id"]):
        label, _, syns = _names(obj)
        yield ValueRecord(attribute, obj["id"], line, label or obj["id"], tuple(obj.get("parents") or ()), syns)


def shopify_attributes(path: Path, scheme: str = "shopify") -> Iterator[AttributeRecord]:
    """Shopify attributes.jsonl: attributes with descriptions and allowed value ids."""
    for line, obj in jsonl(path, ["friendly_id", "name"]):
        values = tuple(v.split("__", 1)[-1] for v in obj.get("values") or ())
        yield AttributeRecord(obj["friendly_id"], line, obj["name"], obj.get("description"), values)


def shopify_values(path: Path, scheme: str = "shopify") -> Iterator[ValueRecord]:
    """Shopify values.tsv: `<attribute>__<value>` friendly ids with display names."""
    for line, row in table(path, ["friendly_id", "name"]):
        require(path, line, row, "friendly_id", "name")
        attribute, sep, key = row["friendly_id"].partition("__")
        if not sep:
            raise InputError(path, line, f"friendly_id {row['friendly_id']!r} is not <attribute>__<value>")
        yield ValueRecord(attribute, key, line, row["name"])


def shopify_category_attributes(path: Path, scheme: str = "shopify") -> Iterator[ApplicabilityRecord]:
    """Shopify category_attributes.tsv: attributes Shopify declares applicable to a category."""
    for line, row in table(path, ["category_id", "attribute_friendly_id"]):
        require(path, line, row, "category_id", "attribute_friendly_id")
        yield ApplicabilityRecord(TypeRef(scheme, row["category_id"]), row["attribute_friendly_id"], True, line)


def shopify_google_mapping(path: Path, scheme: str = "shopify") -> Iterator[TypeMatchRecord]:
    """Shopify → Google category alignment (silver: skos:closeMatch, not equivalence)."""
    for line, row in table(path, ["shopify_category_id", "google_category_id"]):
        require(path, line, row, "shopify_category_id", "google_category_id")
        yield TypeMatchRecord(TypeRef("shopify", row["shopify_category_id"]), TypeRef("google", row["google_category_id"]), line)
