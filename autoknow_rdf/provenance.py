"""Facts with provenance, and the activities that assert them.

Per-fact mechanism: every fact sits in the named graph of the activity that asserted it (one
graph per ingested file, one per stage run) and has an RDF 1.2 reifier in the same graph:

    <fact/…> rdf:reifies <<( s p o )>> ; prov:wasGeneratedBy <activity/…> ;
             ak:sourceLine 12 ; ak:evidenceText "…" ; ak:spanStart 3 ; ak:spanEnd 9 ; ak:confidence 0.93 .

The activity (an ak:Ingest or ak:StageRun, with its source file or model) lives in the
provenance graph, written in the same transaction as the facts. Reifier IRIs are a hash of
(graph, fact), so writing the same fact twice is a no-op. See docs/provenance.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from .vocab import AK, ID, PROV, PROVENANCE_GRAPH, RDF, RDFS, XSD, graph_iri, node_iri

__all__ = ["Evidence", "Fact", "Activity", "ingest_activity", "run_activity", "reifier_iri", "file_checksum"]

Term = NamedNode | BlankNode | Literal | Triple


@dataclass(frozen=True, slots=True)
class Evidence:
    """The text a fact rests on: which field of the subject, and where in it."""

    text: str
    field: NamedNode | None = None
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """One asserted triple plus what it rests on (source line, evidence, confidence)."""

    subject: NamedNode
    predicate: NamedNode
    object: Term
    line: int | None = None
    evidence: Evidence | None = None
    confidence: float | None = None  # None: read verbatim from a source, i.e. 1.0

    @property
    def triple(self) -> Triple:
        return Triple(self.subject, self.predicate, self.object)


def reifier_iri(graph: NamedNode, triple: Triple) -> NamedNode:
    """A stable reifier per (graph, triple): re-asserting a fact mints the same node.

    >>> from pyoxigraph import NamedNode as N, Triple
    >>> g, t = N("http://g"), Triple(N("http://s"), N("http://p"), N("http://o"))
    >>> reifier_iri(g, t) == reifier_iri(g, t)
    True
    """
    digest = hashlib.blake2b(f"{graph}\t{triple}".encode(), digest_size=12).hexdigest()
    return NamedNode(ID + "fact/" + digest)


def file_checksum(path: Path) -> str:
    """sha256 of a file's bytes: a source is the same source when its content is."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _now() -> Literal:
    return Literal(datetime.now(timezone.utc).isoformat(timespec="seconds"), datatype=XSD.dateTime)


@dataclass
class Activity:
    """Something that asserts facts into its own named graph (an ingest or a stage run)."""

    iri: NamedNode
    kind: NamedNode
    graph: NamedNode
    description: list[tuple[NamedNode, NamedNode, Term]] = field(default_factory=list)
    started: Literal = field(default_factory=_now)

    def fact_quads(self, facts: Iterable[Fact]) -> Iterator[Quad]:
        """Each distinct fact once (first occurrence wins), with its reifier, in our graph."""
        g, seen, act = self.graph, set(), self.iri
        reifies, generated, line_p, conf_p = RDF.reifies, PROV.wasGeneratedBy, AK.sourceLine, AK.confidence
        for f in facts:
            t = f.triple
            if t in seen:
                continue
            seen.add(t)
            r = reifier_iri(g, t)
            yield Quad(f.subject, f.predicate, f.object, g)
            yield Quad(r, reifies, t, g)
            yield Quad(r, generated, act, g)
            if f.line is not None:
                yield Quad(r, line_p, Literal(f.line), g)
            if f.confidence is not None:
                yield Quad(r, conf_p, Literal(float(f.confidence)), g)
            ev = f.evidence
            if ev is not None:
                yield Quad(r, AK.evidenceText, Literal(ev.text), g)
                if ev.field is not None:
                    yield Quad(r, AK.evidenceField, ev.field, g)
                if ev.start is not None:
                    yield Quad(r, AK.spanStart, Literal(ev.start), g)
                    yield Quad(r, AK.spanEnd, Literal(ev.end), g)
        self._fact_count = len(seen)

    @property
    def fact_count(self) -> int:
        """Distinct facts fact_quads wrote (0 before it ran): what count_facts_by_kind counts."""
        return getattr(self, "_fact_count", 0)

    def provenance_quads(self) -> list[Quad]:
        """The activity's own description, for the provenance graph (call after fact_quads)."""
        p = PROVENANCE_GRAPH
        quads = [
            Quad(self.iri, RDF.type, self.kind, p),
            Quad(self.iri, RDF.type, PROV.Activity, p),
            Quad(self.iri, AK.graph, self.graph, p),
            Quad(self.iri, PROV.startedAtTime, self.started, p),
            Quad(self.iri, PROV.endedAtTime, _now(), p),
            Quad(self.iri, AK.factCount, Literal(self.fact_count), p),
        ]
        quads += [Quad(s, pr, o, p) for s, pr, o in self.description]
        return quads


def ingest_activity(path: Path, checksum: str, adapter: str, version: str) -> Activity:
    """The activity of ingesting one file with one adapter; keyed by content, not path."""
    key = f"{adapter}-{checksum[:16]}"
    iri = node_iri("activity", "ingest", key)
    source = node_iri("source", checksum[:16])
    agent = node_iri("agent", "autoknow-rdf", version)
    description = [
        (iri, PROV.used, source),
        (iri, AK.adapter, Literal(adapter)),
        (iri, PROV.wasAssociatedWith, agent),
        (agent, RDF.type, PROV.SoftwareAgent),
        (source, RDF.type, AK.SourceFile),
        (source, AK.checksum, Literal("sha256:" + checksum)),
        (source, PROV.atLocation, Literal(str(path))),
    ]
    return Activity(iri, AK.Ingest, graph_iri("source", key), description)


def run_activity(stage: str, run_id: str, model_name: str, model_version: str, model_checksum: str, version: str,
                 min_precision: float | None = None) -> Activity:
    """The activity of one stage run: its graph, the model it used (name, version, checksum) and
    the held-in precision its facts had to reach (`min_precision`)."""
    iri = node_iri("activity", "run", stage, run_id)
    model = node_iri("model", model_name, model_version, model_checksum.removeprefix("sha256:")[:16])
    agent = node_iri("agent", "autoknow-rdf", version)
    description = [
        (iri, AK.stage, Literal(stage)),
        (iri, AK.runId, Literal(run_id)),
        (iri, PROV.used, model),
        (iri, PROV.wasAssociatedWith, agent),
        (agent, RDF.type, PROV.SoftwareAgent),
        (model, RDF.type, AK.Model),
        (model, AK.modelName, Literal(model_name)),
        (model, AK.modelVersion, Literal(model_version)),
        (model, AK.checksum, Literal(model_checksum)),
    ]
    if min_precision is not None:
        description.append((iri, AK.minPrecision, Literal(float(min_precision))))
    return Activity(iri, AK.StageRun, graph_iri("run", stage, run_id), description)


def review_activity(quarantine: NamedNode, decision: str, reviewer: str, version: str) -> Activity:
    """A person's decision on one quarantined fact: its own activity and graph, nothing deleted.

    >>> review_activity(NamedNode("https://w3id.org/autoknow/id/quarantine/ab"), "released", "ana", "0.1").graph.value
    'https://w3id.org/autoknow/id/graph/run/review/ab-released'
    """
    key = f"{quarantine.value.rsplit('/', 1)[-1]}-{decision}"
    iri = node_iri("activity", "review", key)
    agent = node_iri("agent", "person", reviewer)
    description = [
        (iri, AK.stage, Literal("review")),
        (iri, AK.runId, Literal(key)),
        (iri, PROV.used, quarantine),
        (iri, PROV.wasAssociatedWith, agent),
        (agent, RDF.type, PROV.Person),
        (agent, RDFS.label, Literal(reviewer)),
        (iri, PROV.wasAssociatedWith, node_iri("agent", "autoknow-rdf", version)),
    ]
    return Activity(iri, AK.QuarantineReview, graph_iri("run", "review", key), description)
