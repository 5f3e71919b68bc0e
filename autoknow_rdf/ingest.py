"""Ingest: records from an input adapter become facts in the file's own named graph.

One file → one ak:Ingest activity → one graph, written in one transaction. The graph is keyed by
the file's content checksum and adapter, so ingesting the same file again is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch
from pathlib import Path
from typing import Callable, Iterable, Iterator

from pyoxigraph import Literal, NamedNode

from . import __version__
from .errors import InputError
from .loaders import Adapter, detect
from .loaders.catalogue import LABEL_SCHEME
from .loaders.records import (
    ApplicabilityRecord, AttributeRecord, BasketRecord, JudgementRecord, PairRecord,
    ProductRecord, TextRecord, TypeMatchRecord, TypeRecord, TypeRef, ValueRecord,
)
from .provenance import Evidence, Fact, file_checksum, ingest_activity
from .store import KnowledgeStore
from .vocab import (
    AK, OWL, RDF, RDFS, SCHEMA, SKOS, applicability_iri, attribute_iri, node_iri, product_iri, scheme_iri,
    type_iri, value_iri,
)

__all__ = ["IngestResult", "ingest_file", "facts_of"]

FIELDS = {"title": SCHEMA.name, "description": SCHEMA.description}


@dataclass(frozen=True)
class IngestResult:
    path: Path
    adapter: str
    graph: NamedNode
    records: int
    quads: int  # 0 when the file was already ingested
    warnings: tuple[str, ...] = ()  # `file:line: problem` of what was read but looks wrong
    type_refs: tuple[tuple[NamedNode, int, str], ...] = ()  # product types given by a taxonomy id: (type, line, id)

    @property
    def skipped(self) -> bool:
        return self.quads == 0


def ingest_file(store: KnowledgeStore, path: Path, adapter: Adapter | None = None, scheme: str | None = None,
                on_record: Callable[[int], None] | None = None) -> IngestResult:
    """Read `path` with its adapter and write its facts with provenance, all or nothing."""
    path = Path(path)
    adapter = adapter or detect(path)
    if not path.is_file():
        raise InputError(path, None, "no such file" if not path.exists() else "not a file")
    activity = ingest_activity(path, file_checksum(path), adapter.name, __version__)
    if store.is_committed(activity):
        return IngestResult(path, adapter.name, activity.graph, 0, 0)
    scheme = scheme or adapter.scheme(path)
    count = 0
    refs: dict[NamedNode, tuple[NamedNode, int, str]] = {}

    def facts() -> Iterator[Fact]:
        nonlocal count
        for record in adapter.read(path, scheme):
            count += 1
            if on_record is not None and count % 1000 == 0:
                on_record(count)
            if isinstance(record, ProductRecord):
                for t in record.types:
                    if t.scheme not in ("", LABEL_SCHEME) and not t.label and type_node(t) not in refs:
                        refs[type_node(t)] = (type_node(t), record.line, f"{t.scheme}:{t.id}")
            yield from facts_of(record)
        if count == 0:  # raised inside the write, so it is rolled back like any bad record
            raise InputError(path, None, f"no records found for adapter {adapter.name!r}")

    written = store.write(activity, facts())
    return IngestResult(path, adapter.name, activity.graph, count, written, type_refs=tuple(refs.values()))


def undefined_types(store: KnowledgeStore, result: IngestResult) -> IngestResult:
    """`result` with a warning for each product type it gave by a taxonomy id that no ingested
    taxonomy defines (no label anywhere in the store): the type is kept, known only by its id."""
    warnings = [f"{result.path}:{line}: type {ident} is defined by no ingested taxonomy (kept as a type known only by its id)"
                for node, line, ident in result.type_refs if not any(store.quads_for_pattern(node, RDFS.label, None))]
    return IngestResult(result.path, result.adapter, result.graph, result.records, result.quads,
                        result.warnings + tuple(warnings), result.type_refs)


# ---- the one mapping from records to facts ------------------------------------------------

def _lit(text: str, lang: str | None = None) -> Literal:
    if lang:
        try:
            return Literal(text, language=lang)
        except ValueError:
            pass
    return Literal(text)


def type_node(ref: TypeRef) -> NamedNode:
    return NamedNode(ref.id) if ref.scheme == "" else type_iri(ref.scheme, ref.id)


def _declare_type(ref: TypeRef, line: int, lang: str | None = None) -> Iterator[Fact]:
    t = type_node(ref)
    yield Fact(t, RDF.type, OWL.Class, line)
    if ref.label:
        yield Fact(t, RDFS.label, _lit(ref.label, lang), line)
    if ref.scheme:
        yield Fact(t, SKOS.inScheme, scheme_iri(ref.scheme), line)
        yield Fact(t, AK.sourceId, Literal(ref.id), line)


def _declare_attribute(name: str, line: int, label: str | None = None) -> Iterator[Fact]:
    a = attribute_iri(name)
    yield Fact(a, RDF.type, OWL.ObjectProperty, line)
    yield Fact(a, RDFS.subPropertyOf, AK.hasAttributeValue, line)
    yield Fact(a, RDFS.label, Literal(label or name), line)


def _declare_value(attribute: str, key: str, label: str, line: int) -> Iterator[Fact]:
    v = value_iri(attribute, key)
    yield Fact(v, RDF.type, AK.AttributeValue, line)
    yield Fact(v, AK.ofAttribute, attribute_iri(attribute), line)
    yield Fact(v, RDFS.label, Literal(label), line)


@singledispatch
def facts_of(record: object) -> Iterable[Fact]:
    raise TypeError(f"no RDF mapping for {type(record).__name__}")


@facts_of.register
def _(r: TypeRecord) -> Iterator[Fact]:
    t = type_node(r.ref)
    yield from _declare_type(r.ref, r.line, r.label_lang)
    for p in r.parents:
        yield Fact(t, RDFS.subClassOf, type_node(p), r.line)
    if not r.parents:
        yield Fact(t, RDFS.subClassOf, AK.Product, r.line)
    if r.ref.label:
        yield Fact(t, SKOS.prefLabel, _lit(r.ref.label, r.label_lang), r.line)
    for lang, text in r.synonyms:
        yield Fact(t, SKOS.altLabel, _lit(text, lang), r.line)


@facts_of.register
def _(r: AttributeRecord) -> Iterator[Fact]:
    a = attribute_iri(r.name)
    yield from _declare_attribute(r.name, r.line, r.label)
    if r.description:
        yield Fact(a, RDFS.comment, Literal(r.description), r.line)
    for v in r.values:
        yield Fact(a, AK.allowedValue, value_iri(r.name, v), r.line)


@facts_of.register
def _(r: ValueRecord) -> Iterator[Fact]:
    v = value_iri(r.attribute, r.value)
    yield from _declare_value(r.attribute, r.value, r.label or r.value, r.line)
    if r.label and r.label != r.value:
        yield Fact(v, AK.sourceId, Literal(r.value), r.line)
    for b in r.broader:
        yield Fact(v, SKOS.broader, value_iri(r.attribute, b), r.line)
    for lang, text in r.synonyms:
        yield Fact(v, SKOS.altLabel, _lit(text, lang), r.line)


@facts_of.register
def _(r: ApplicabilityRecord) -> Iterator[Fact]:
    t = type_node(r.type)
    node = applicability_iri(t, attribute_iri(r.attribute))
    yield Fact(node, RDF.type, AK.Applicability, r.line)
    yield Fact(node, AK.forType, t, r.line)
    yield Fact(node, AK.forAttribute, attribute_iri(r.attribute), r.line)
    yield Fact(node, AK.applicable, Literal(r.applicable), r.line)


@facts_of.register
def _(r: TypeMatchRecord) -> Iterator[Fact]:
    yield Fact(type_node(r.left), SKOS.closeMatch, type_node(r.right), r.line)


@facts_of.register
def _(r: ProductRecord) -> Iterator[Fact]:
    p = product_iri(r.scheme, r.id)
    yield Fact(p, RDF.type, AK.Product, r.line)
    yield Fact(p, AK.sourceId, Literal(r.id), r.line)
    if r.title:
        yield Fact(p, SCHEMA.name, _lit(r.title, r.lang), r.line)
    if r.description:
        yield Fact(p, SCHEMA.description, _lit(r.description, r.lang), r.line)
    if r.gtin:
        yield Fact(p, SCHEMA.gtin, Literal(r.gtin), r.line)
    for ref in r.types:
        if ref.label:
            yield from _declare_type(ref, r.line)
            yield Fact(type_node(ref), RDFS.subClassOf, AK.Product, r.line)
        yield Fact(p, RDF.type, type_node(ref), r.line)
    for s in r.attributes:
        key = s.value_key or s.value
        yield from _declare_attribute(s.attribute, r.line)
        yield from _declare_value(s.attribute, key, s.value, r.line)
        field = FIELDS.get(s.field) if s.field else None
        evidence = Evidence(s.value, field, s.start, s.end)
        yield Fact(p, attribute_iri(s.attribute), value_iri(s.attribute, key), r.line, evidence)


@facts_of.register
def _(r: TextRecord) -> Iterator[Fact]:
    node = node_iri(r.kind, r.id)
    yield Fact(node, RDF.type, AK.Review if r.kind == "review" else AK.Question, r.line)
    yield Fact(node, SCHEMA.text, Literal(r.text), r.line)
    yield Fact(node, SCHEMA.about, product_iri(*r.product), r.line)
    for a in r.aspects:
        yield Fact(node, AK.mentionsAspect, Literal(a), r.line)


@facts_of.register
def _(r: BasketRecord) -> Iterator[Fact]:
    b = node_iri("basket", r.scheme, r.basket)
    yield Fact(b, RDF.type, AK.Basket, r.line)
    yield Fact(b, AK.containsProduct if r.event == "purchase" else AK.viewedProduct, product_iri(*r.product), r.line)


@facts_of.register
def _(r: JudgementRecord) -> Iterator[Fact]:
    q = node_iri("query", r.query)
    product = product_iri(*r.product)
    j = node_iri("judgement", r.query, product.value, r.label)
    yield Fact(q, RDF.type, AK.Query, r.line)
    yield Fact(q, AK.queryText, Literal(r.query), r.line)
    yield Fact(j, RDF.type, AK.QueryJudgement, r.line)
    yield Fact(j, AK.judgedQuery, q, r.line)
    yield Fact(j, AK.judgedProduct, product, r.line)
    yield Fact(j, AK.relevance, Literal(r.label), r.line)
    if r.gain is not None:
        yield Fact(j, AK.gain, Literal(float(r.gain)), r.line)


@facts_of.register
def _(r: PairRecord) -> Iterator[Fact]:
    pair = node_iri("pair", r.scheme, r.split, r.id)
    yield from facts_of(r.left)
    yield from facts_of(r.right)
    yield Fact(pair, RDF.type, AK.MatchPair, r.line)
    yield Fact(pair, AK.leftItem, product_iri(r.left.scheme, r.left.id), r.line)
    yield Fact(pair, AK.rightItem, product_iri(r.right.scheme, r.right.id), r.line)
    yield Fact(pair, AK.isMatch, Literal(r.match), r.line)
    yield Fact(pair, AK.split, Literal(r.split), r.line)


def plan(targets: list[Path], format: str | None = None) -> tuple[list[tuple[Path, Adapter]], list[Path]]:
    """Files to ingest (folders expanded, adapters chosen) and files skipped as unrecognised."""
    from .loaders import ADAPTERS, files_in

    if format is not None and format not in ADAPTERS:
        raise InputError(format, None, "unknown format; choose one of: " + ", ".join(ADAPTERS))
    chosen, skipped = [], []
    for target in map(Path, targets):
        if target.is_dir():
            found, skip = files_in(target)
            chosen += [(p, ADAPTERS[format] if format else a) for p, a in found]
            skipped += skip
        elif not target.exists():
            raise InputError(target, None, "no such file or folder")
        else:
            chosen.append((target, ADAPTERS[format] if format else detect(target)))
    return chosen, skipped


def ingest_many(store: KnowledgeStore, files: list[tuple[Path, Adapter]], scheme: str | None = None) -> list[IngestResult]:
    """Ingest each file in turn with a rich progress bar; each file is its own transaction."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .ontology import load_ontology

    load_ontology(store)
    results = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[records]} records"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("ingest", total=len(files), records=0)
        for path, adapter in files:
            progress.update(task, description=f"{adapter.name}: {path.name}", records=0)
            results.append(ingest_file(store, path, adapter, scheme, on_record=lambda n: progress.update(task, records=n)))
            progress.advance(task)
    # checked once every file is in: a taxonomy may come after the products that use it
    return [undefined_types(store, r) for r in results]
