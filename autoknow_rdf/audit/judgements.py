"""Judgements into the store: each a fact with provenance, in the graph of one ak:Audit.

`import_sheets` checks every row of every sheet before anything is written (an unknown fact,
a sheet out of shape or a fact of another stage is an error naming its file and line), then
writes the judgements in one transaction. A judgement keeps what its fact was when judged
(the triple it asserted, stage, kind, model, confidence, sample weight), so it speaks for that model after the run is
gone: `export_audit` writes the audit graphs as TriG (the demo's frozen audit, demo/audit/) and
`load_audit` loads such a file into another store, all or nothing, once.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat

from .. import __version__
from ..errors import InputError
from ..provenance import Activity, Fact
from ..store import KnowledgeStore
from ..vocab import AK, PROV, PROVENANCE_GRAPH, RDF, RDFS, XSD, graph_iri, node_iri
from ..ml.audit_gate import from_rows, latest
from .sample import AUDITED_KINDS
from .sheet import read_sheet, read_weights

__all__ = ["GUIDELINE_VERSION", "ImportResult", "import_sheets", "judgements", "export_audit", "load_audit"]

GUIDELINE_VERSION = "1"  # docs/audit-guide.md: raise it when the guide changes what is right


@dataclass
class ImportResult:
    judged: int  # rows with a verdict
    written: int  # judgements new to the store
    skipped: int  # rows without a verdict
    graph: str | None


def _person(name: str) -> NamedNode:
    return node_iri("agent", "person", name)


def import_sheets(store: KnowledgeStore, sheets: list[Path], annotator: str | None = None,
                  guideline: str = GUIDELINE_VERSION) -> ImportResult:
    """Record the verdicts of `sheets` (each in the folder `audit sample` wrote, beside its
    sample.weights.json) as judgements by `annotator` (or each row's `annotator`)."""
    now = Literal(datetime.now(timezone.utc).isoformat(timespec="seconds"), datatype=XSD.dateTime)
    facts: list[Fact] = []
    people, judged, skipped, written = set(), 0, 0, 0
    known: dict[str, dict[str, Any]] = {}
    described: set[NamedNode] = set()
    for sheet in sheets:
        weights = read_weights(Path(sheet).parent)
        for line, row in read_sheet(sheet):
            if not row["judgement"]:
                skipped += 1
                continue
            judged += 1
            who = (row.get("annotator") or "").strip() or annotator
            if not who:
                raise InputError(sheet, line, "no annotator (give --annotator or fill the annotator column)")
            if row["kind"] not in AUDITED_KINDS:
                raise InputError(sheet, line, f"kind {row['kind']!r} is not one the audit judges ({', '.join(AUDITED_KINDS)})")
            fact = row["fact"]
            if fact not in known:
                found = store.select("list_fact_origin", fact=NamedNode(fact))
                if not found:
                    raise InputError(sheet, line, f"unknown fact {fact}: no stage run in this store asserted it")
                known[fact] = found[0]
            about = known[fact]
            if about["stage"].value != weights.get("stage"):
                raise InputError(sheet, line, f"fact {fact} was added by stage {about['stage'].value}, "
                                 f"the sample is of stage {weights.get('stage')}")
            if fact not in weights.get("weights", {}):
                raise InputError(sheet, line, f"fact {fact} is not in sample {weights.get('sample')!r}")
            sample, verdict = weights["sample"], row["judgement"]
            key = hashlib.blake2b(f"{sample}\t{fact}\t{who}\t{verdict}".encode(), digest_size=12).hexdigest()
            j = node_iri("judgement", key)
            if any(store.quads_for_pattern(j, AK.verdict, None)):
                continue  # imported before
            written += 1
            people.add(who)
            model = about["model"]
            facts += [Fact(j, RDF.type, AK.Judgement), Fact(j, AK.judges, NamedNode(fact)),
                      Fact(j, AK.verdict, Literal(verdict)), Fact(j, AK.judgedStage, Literal(about["stage"].value)),
                      Fact(j, AK.factKind, Literal(row["kind"])), Fact(j, AK.judgedModel, model),
                      Fact(j, AK.judgedTriple, about["t"]),
                      Fact(j, AK.sampleWeight, Literal(float(weights["weights"][fact]))),
                      Fact(j, PROV.wasAttributedTo, _person(who)), Fact(j, PROV.generatedAtTime, now),
                      Fact(j, AK.guidelineVersion, Literal(guideline)), Fact(j, AK.auditSample, Literal(sample))]
            if about["confidence"] is not None:
                facts.append(Fact(j, AK.confidence, about["confidence"]))
            if model not in described:  # the model's description once, beside the judgements that name it
                described.add(model)
                facts += [Fact(model, p, o) for p, o in _model_description(store, model)]
    if not facts:
        return ImportResult(judged, 0, skipped, None)
    for who in sorted(people):
        facts += [Fact(_person(who), RDF.type, PROV.Person), Fact(_person(who), RDFS.label, Literal(who))]
    key = hashlib.sha256("\n".join(sorted(str(f.triple) for f in facts if f.predicate != PROV.generatedAtTime)).encode()).hexdigest()[:16]
    iri = node_iri("activity", "audit", key)
    description = [(iri, PROV.wasAssociatedWith, _person(who)) for who in sorted(people)]
    description += [(iri, PROV.wasAssociatedWith, node_iri("agent", "autoknow-rdf", __version__)),
                    (iri, AK.guidelineVersion, Literal(guideline))]
    activity = Activity(iri, AK.Audit, graph_iri("audit", key), description)
    store.write(activity, facts)
    return ImportResult(judged, written, skipped, activity.graph.value)


def _model_description(store: KnowledgeStore, model: NamedNode) -> list[tuple[NamedNode, Any]]:
    """The model's type, name, version and checksum, copied beside the judgements that name it."""
    out = [(RDF.type, AK.Model)]
    for p in (AK.modelName, AK.modelVersion, AK.checksum):
        q = next(iter(store.quads_for_pattern(model, p, None, PROVENANCE_GRAPH)), None)
        if q is not None:
            out.append((p, q.object))
    return out


def judgements(store: KnowledgeStore, stage: str | None = None) -> list[dict[str, Any]]:
    """Every judgement (of `stage`) as plain values, the latest verdict of each annotator on each
    fact of each sample."""
    return latest(from_rows(store.select("list_audit_judgements", **({"stage": Literal(stage)} if stage else {}))))


def export_audit(store: KnowledgeStore, out: Path) -> int:
    """The audit graphs and their activities' provenance as TriG (gzipped when `out` ends in
    .gz); returns the quads written."""
    quads = []
    for r in store.select("list_activities"):
        if r["kind"].value == AK.Audit.value:
            quads += list(store.quads_for_pattern(None, None, None, r["graph"]))
            quads += [q for q in store.quads_for_pattern(r["activity"], None, None, PROVENANCE_GRAPH)]
            for q in list(store.quads_for_pattern(r["activity"], PROV.wasAssociatedWith, None, PROVENANCE_GRAPH)):
                quads += list(store.quads_for_pattern(q.object, None, None, PROVENANCE_GRAPH))
    from pyoxigraph import serialize

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    quads = sorted(set(quads), key=str)
    data = serialize(quads, format=RdfFormat.TRIG)
    Path(out).write_bytes(gzip.compress(data, mtime=0) if str(out).endswith(".gz") else data)
    return len(quads)


def load_audit(store: KnowledgeStore, path: Path) -> int:
    """Load an exported audit (TriG, or gzipped TriG: .gz) whose activities the store lacks, all or nothing; returns
    the quads added (0 when every activity is there already). An activity the store holds already
    and the export brings again (exported later, with more in its graph) keeps the export's record
    only, so a count that grew stays one count; its old record goes after the new one is in."""
    from pyoxigraph import parse

    try:
        data = Path(path).read_bytes()
        quads = list(parse(gzip.decompress(data) if str(path).endswith(".gz") else data, format=RdfFormat.TRIG))
    except (SyntaxError, OSError, EOFError) as exc:
        raise InputError(path, None, f"not an audit export: {exc}") from None
    audits = {q.subject for q in quads if q.predicate == RDF.type and q.object == AK.Audit and q.graph_name == PROVENANCE_GRAPH}
    if not audits:
        raise InputError(path, None, "no ak:Audit activity in it")
    present = {a for a in audits if any(store.quads_for_pattern(a, RDF.type, AK.Audit, PROVENANCE_GRAPH))}
    if present == audits:
        return 0
    store.store.extend([Quad(q.subject, q.predicate, q.object, q.graph_name) for q in quads])
    record = {q for q in quads if q.subject in present and q.graph_name == PROVENANCE_GRAPH}
    for a in sorted(present, key=str):
        for q in list(store.quads_for_pattern(a, None, None, PROVENANCE_GRAPH)):
            if Quad(q.subject, q.predicate, q.object, q.graph_name) not in record:
                store.store.remove(q)
    if store.path is not None:
        store.store.flush()
    return len(quads)
