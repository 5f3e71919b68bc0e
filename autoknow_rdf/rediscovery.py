"""Masked re-discovery: the precision of what the pipeline adds, measured on real data.

`autoknow evaluate pipeline --data DIR` ingests DIR into a scratch store, hides a deterministic
share of the facts it knows (attribute values of products, product types, the parent edges of
leaf types, one English name of a type or value that has several) and plants wrong values into
a share of the remaining attribute facts, then trains and runs the stages at their gates as the
demo does. A hidden name comes back as a term of its own (a type known only by that name, or a
value of the same attribute), which the synonym stage should link to the term it was taken
from. What a stage added is then judged against what was hidden: an imputed value is right when
it is a hidden value of that product and attribute (compared in normal form, values.py: "1 kg"
is "1000 g"), a product type when it is one of the product's hidden types or an ancestor of one
(counted right, and apart as "broader"), a parent edge when it is one of the leaf's hidden parents, a quarantine
when its value was planted (and wrong when it was a value the data set gave), a synonym link of
a split-off name when it joins the term the name came from (and wrong when it joins another
type of that term's curated taxonomy). Added facts the hidden set cannot judge (a value for a
pair that was never hidden, a new type, a relation decision, a link between two terms that were
never split) are counted apart with a sample for a person to read: they are not counted as
wrong; a sample of the wrong ones is printed too. Each kind is scored beside a named baseline in
the same run (dictionary matches for values and types, the head word for parents, "value not in
the text" for cleaning, the closest spelling for synonyms).

Only the scratch store is changed: hiding removes its quads and their reifiers; the data folder
is read, never written.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode, Triple

from .provenance import Fact, ingest_activity, reifier_iri
from .splits import bucket
from .store import KnowledgeStore
from .vocab import AK, ID, OWL, RDF, RDFS, SKOS, graph_iri, scheme_iri, slug, type_iri, value_iri

__all__ = ["Hidden", "mask", "judge", "evaluate_pipeline", "evaluate_rediscovery", "measured_precision"]

HIDE = 20  # percent of products (values, types) and of leaf types (parents) whose facts are hidden
PLANT = 10  # percent of the remaining attribute facts that get a planted wrong value beside them
SAMPLE = 8  # unjudged (and wrong) facts shown per stage and kind
SPLIT_SCHEME = "label"  # a split-off type name becomes a type known only by name, as the taxonomy stage's new types


@dataclass
class Hidden:
    """What was taken out of (or planted into) the scratch store, to judge the stages by."""

    values: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (product, attribute) -> value IRIs
    types: dict[str, set[str]] = field(default_factory=dict)  # product -> type IRIs
    parents: dict[str, set[str]] = field(default_factory=dict)  # leaf type -> parent IRIs
    planted: set[tuple[str, str, str]] = field(default_factory=set)  # wrong (product, attribute, value)
    original: set[tuple[str, str, str]] = field(default_factory=set)  # value facts the data set gave, still there
    labels: dict[str, str] = field(default_factory=dict)  # value IRI -> label
    titles: dict[str, str] = field(default_factory=dict)  # product -> title
    names: dict[str, str] = field(default_factory=dict)  # type -> name
    split: dict[str, str] = field(default_factory=dict)  # term made of a hidden name -> the term it was taken from
    groups: dict[str, str] = field(default_factory=dict)  # term -> taxonomy (types) or attribute (values)
    ancestors: dict[str, set[str]] = field(default_factory=dict)  # hidden product type -> its ancestors, before hiding


def _remove(store: KnowledgeStore, s: NamedNode, p: NamedNode, o: NamedNode) -> int:
    """Remove a triple from every graph it is asserted in, with its reifier there."""
    removed = 0
    for q in list(store.store.quads_for_pattern(s, p, o, None)):
        r = reifier_iri(q.graph_name, Triple(s, p, o))
        for rq in list(store.store.quads_for_pattern(r, None, None, q.graph_name)):
            store.store.remove(rq)
        store.store.remove(q)
        removed += 1
    return removed


def mask(store: KnowledgeStore, hide: int = HIDE, plant: int = PLANT, seed: int = 0) -> Hidden:
    """Hide values, types and parent edges of a deterministic share; plant wrong values."""
    from . import __version__
    from .stages.view import read_view

    hidden = Hidden()
    view = read_view(store)
    hidden.names = dict(view.names)
    taxonomy_types = set(view.names)
    for r in store.select("list_product_titles"):
        p = r["product"].value
        hidden.titles[p] = r["title"].value
        if r["type"] is not None and r["type"].value in taxonomy_types and bucket(f"hide-type{seed}" + p) < hide:
            hidden.types.setdefault(p, set()).add(r["type"].value)
    facts = set()
    for r in store.select("list_value_facts"):
        facts.add((r["product"].value, r["attribute"].value, r["value"].value))
        if r["valueLabel"] is not None:
            hidden.labels[r["value"].value] = r["valueLabel"].value
    facts = sorted(facts)
    for p, a, v in facts:
        if bucket(f"hide-value{seed}" + p + a) < hide:
            hidden.values.setdefault((p, a), set()).add(v)
    for ts in hidden.types.values():
        for t in ts:
            hidden.ancestors.setdefault(t, view.ancestors(t))
    kids = view.children()
    left = {q: len(cs) for q, cs in kids.items()}  # children each type keeps
    for t, ps in sorted(view.parents.items()):
        # a leaf whose every parent keeps another child: a new type comes under existing parents,
        # and a parent left childless would stop being a candidate at all
        if ps and t not in kids and bucket(f"hide-parent{seed}" + t) < hide and all(left[q] > 1 for q in ps):
            hidden.parents[t] = set(ps)
            for q in ps:
                left[q] -= 1
    for (p, a), vs in hidden.values.items():
        for v in vs:
            _remove(store, NamedNode(p), NamedNode(a), NamedNode(v))
    for p, ts in hidden.types.items():
        for t in ts:
            _remove(store, NamedNode(p), RDF.type, NamedNode(t))
    for t, ps in hidden.parents.items():
        for q in ps:
            _remove(store, NamedNode(t), RDFS.subClassOf, NamedNode(q))
    split = _split_names(store, hidden, hide, seed)
    kept = [f for f in facts if (f[0], f[1]) not in hidden.values]
    by_attribute: dict[str, list[str]] = {}
    own: dict[tuple[str, str], set[str]] = {}
    for p, a, v in kept:
        by_attribute.setdefault(a, []).append(v)
        own.setdefault((p, a), set()).add(v)
    rng = random.Random(seed)
    planted = []
    for p, a, v in kept:
        others = sorted(set(by_attribute[a]) - own[(p, a)])
        if others and bucket(f"plant{seed}" + p + a + v) < plant:
            w = rng.choice(others)
            if (p, a, w) not in hidden.planted:
                hidden.planted.add((p, a, w))
                planted.append(Fact(NamedNode(p), NamedNode(a), NamedNode(w)))
    hidden.original = set(kept)
    if split:
        key = hashlib.sha256("\n".join(sorted(hidden.split)).encode()).hexdigest()
        store.write(ingest_activity(Path("masked-evaluation/split-off-names"), key, "split-off-names", __version__), split)
    if planted:
        key = hashlib.sha256("\n".join(" ".join(t) for t in sorted(hidden.planted)).encode()).hexdigest()
        store.write(ingest_activity(Path("masked-evaluation/planted-wrong-values"), key, "planted-wrong-values", __version__),
                    planted)
    store.store.flush()
    return hidden


def _split_names(store: KnowledgeStore, hidden: Hidden, hide: int, seed: int) -> list[Fact]:
    """Take one English alternative name off a share of the types and values that have one and
    return the facts of a new term carrying it: a type in the scheme of types known only by
    name, or a value of the same attribute (what a catalogue with an unlinked synonym looks like)."""
    from pyoxigraph import Literal

    terms: dict[str, dict[str, Any]] = {}
    for r in store.select("list_term_names"):
        t = terms.setdefault(r["term"].value, {"kind": r["kind"].value, "group": r["group"].value, "names": {}})
        hidden.groups[r["term"].value] = r["group"].value
        t["names"][r["name"]] = r["preferred"].value == "true"
    taken = {slug(n.value) for t in terms.values() for n in t["names"]}
    new_terms: set[str] = set()
    facts: list[Fact] = []
    for term, t in sorted(terms.items()):
        if bucket(f"hide-name{seed}" + term) >= hide:
            continue
        preferred = {slug(n.value) for n, pref in t["names"].items() if pref}
        alternatives = sorted((n for n, pref in t["names"].items()
                               if not pref and (n.language or "en") == "en" and slug(n.value) not in preferred),
                              key=lambda n: n.value)
        if not alternatives:
            continue
        name = alternatives[0]
        if t["kind"] == "type":
            new = type_iri(SPLIT_SCHEME, "split-" + slug(name.value))
            shape = [(RDF.type, OWL.Class), (SKOS.inScheme, scheme_iri(SPLIT_SCHEME))]
        else:
            new = value_iri(t["group"].rsplit("/", 1)[-1], name.value)
            shape = [(RDF.type, AK.AttributeValue), (AK.ofAttribute, NamedNode(t["group"]))]
        if new.value in terms or new.value in new_terms or sum(slug(n.value) == slug(name.value) for n in t["names"]) > 1:
            continue
        if t["kind"] == "value" and slug(name.value) in taken - {slug(n.value) for n in t["names"]}:
            continue  # another value already carries the name
        for q in list(store.store.quads_for_pattern(NamedNode(term), SKOS.altLabel, name, None)):
            _remove(store, q.subject, q.predicate, q.object)
        new_terms.add(new.value)
        hidden.split[new.value] = term
        hidden.groups[new.value] = scheme_iri(SPLIT_SCHEME).value if t["kind"] == "type" else t["group"]
        hidden.names[new.value] = name.value
        facts += [Fact(new, p, o) for p, o in shape] + [Fact(new, RDFS.label, Literal(name.value, language="en"))]
    return facts


def added(store: KnowledgeStore, graph: NamedNode) -> list[tuple[str, str, Any]]:
    """The triples a run graph asserts (its reifiers left out)."""
    out = []
    for q in store.store.quads_for_pattern(None, None, None, graph):
        if q.subject.value.startswith(ID + "fact/"):
            continue
        out.append((q.subject.value, q.predicate.value, q.object))
    return out


def judge(stage: str, triples: list[tuple[str, str, Any]], hidden: Hidden) -> dict[str, dict[str, Any]]:
    """Per kind of fact a stage added: added, judged, right, precision, recall (right of the
    hidden facts of the kind) and a sample of the unjudged."""
    kinds: dict[str, dict[str, Any]] = {}

    def count(kind: str, verdict: bool | None, text: str, total: int | None, how: str | None = None) -> None:
        k = kinds.setdefault(kind, {**_empty(), "hidden": total})
        k["added"] += 1
        if how:  # right, but not as hidden: a broader type, a value in another form
            k[how] = k.get(how, 0) + 1
        if verdict is None:
            if len(k["unjudged sample"]) < SAMPLE:
                k["unjudged sample"].append(text)
        else:
            k["judged"] += 1
            k["right"] += int(verdict)
            if not verdict and len(k["wrong sample"]) < SAMPLE:
                k["wrong sample"].append(text)

    def name(term: str) -> str:
        return hidden.names.get(term) or hidden.labels.get(term) or term.rsplit("/", 1)[-1]

    hidden_values = sum(len(v) for v in hidden.values.values())
    for s, p, o in triples:
        if stage == "taxonomy" and p == RDF.type.value and s in hidden.titles:
            verdict, how = None, None
            if s in hidden.types:
                verdict = o.value in hidden.types[s]
                if not verdict and any(o.value in hidden.ancestors.get(t, ()) for t in hidden.types[s]):
                    verdict, how = True, "broader"  # an ancestor of the hidden type is a true, broader type
            count("product typed", verdict, f"{hidden.titles.get(s, s)} → {hidden.names.get(o.value, o.value)}",
                  sum(len(v) for v in hidden.types.values()), how)
        elif stage == "taxonomy" and p == RDFS.subClassOf.value:
            verdict = (o.value in hidden.parents[s]) if s in hidden.parents else None
            count("subClassOf edge", verdict, f"{hidden.names.get(s, s)} ⊑ {hidden.names.get(o.value, o.value)}",
                  sum(len(v) for v in hidden.parents.values()))
        elif stage == "imputation" and s in hidden.titles and isinstance(o, NamedNode) and o.value.startswith(ID + "value/"):
            verdict, how = None, None
            if (s, p) in hidden.values:
                verdict = o.value in hidden.values[(s, p)]
                if not verdict and _normal(o.value, hidden) in {_normal(v, hidden) for v in hidden.values[(s, p)]}:
                    verdict, how = True, "same after normalisation"
            count("attribute value", verdict, f"{hidden.titles[s]} → {p.rsplit('/', 1)[-1]}: {o.value.rsplit('/', 1)[-1]}",
                  hidden_values, how)
        elif stage == "cleaning" and p == AK.quarantines.value and isinstance(o, Triple):
            t = (o.subject.value, o.predicate.value, o.object.value)
            verdict = True if t in hidden.planted else False if t in hidden.original else None
            count("quarantined", verdict, f"{hidden.titles.get(t[0], t[0])} → {t[1].rsplit('/', 1)[-1]}: "
                                         f"{hidden.labels.get(t[2], t[2].rsplit('/', 1)[-1])}", len(hidden.planted))
        elif stage == "synonyms" and p in (OWL.sameAs.value, OWL.equivalentClass.value) and isinstance(o, NamedNode):
            count("sameAs link" if p == OWL.sameAs.value else "equivalentClass link", _link_verdict(s, o.value, hidden),
                  f"{name(s)} ≈ {name(o.value)}", len(hidden.split))
    for k in kinds.values():
        k["precision"] = k["right"] / k["judged"] if k["judged"] else None
        k["recall"] = k["right"] / k["hidden"] if k["hidden"] else None
    return kinds


def _normal(value: str, hidden: Hidden) -> str:
    """A value individual's normal form (values.normal_value of its label, or of its IRI's slug)."""
    from urllib.parse import unquote

    from .values import normal_value

    return normal_value(hidden.labels.get(value) or unquote(value.rsplit("/", 1)[-1]).replace("-", " "))


def _link_verdict(a: str, b: str, hidden: Hidden) -> bool | None:
    """A link of a split-off name is right when it joins the term the name came from, wrong when
    it joins another type of that term's curated taxonomy (whose types are distinct by design);
    a link between terms never split cannot be judged."""
    for new, other in ((a, b), (b, a)):
        if new in hidden.split:
            source = hidden.split[new]
            if other == source:
                return True
            split_scheme = scheme_iri(SPLIT_SCHEME).value
            is_type = hidden.groups.get(new) == split_scheme
            if is_type and hidden.groups.get(other) == hidden.groups.get(source) != split_scheme:
                return False
    return None


def baselines(store: KnowledgeStore, hidden: Hidden) -> dict[str, dict[str, Any]]:
    """The named baselines on the masked store, judged as the stages are."""
    from .values import value_in_text
    from .stages.taxonomy.evaluate_tagging import dictionary_tagger
    from .stages.view import read_view, words

    out: dict[str, dict[str, Any]] = {}
    view = read_view(store)
    vocab: dict[str, set[str]] = {}
    for r in store.select("list_value_facts"):
        if r["valueLabel"] is not None:
            vocab.setdefault(r["attribute"].value, set()).add(r["valueLabel"].value)
    tag = dictionary_tagger({a: vs for a, vs in vocab.items()})
    triples = []
    for (p, a) in sorted(hidden.values):
        for s in tag(hidden.titles.get(p, "")):
            if s.label == a:
                triples.append((p, a, NamedNode(value_iri(a.rsplit("/", 1)[-1], hidden.titles[p][s.start:s.end]).value)))
    out["attribute value"] = judge("imputation", triples, hidden).get("attribute value", _empty())
    by_name = {}
    for t, n in view.names.items():
        by_name.setdefault(n.lower(), t)
    types = dictionary_tagger({"TYPE": set(by_name)})
    triples = [(p, RDF.type.value, NamedNode(by_name[hidden.titles[p][s.start:s.end].lower()]))
               for p in sorted(hidden.types) for s in types(hidden.titles.get(p, "")) if hidden.titles[p][s.start:s.end].lower() in by_name]
    out["product typed"] = judge("taxonomy", triples, hidden).get("product typed", _empty())
    heads: dict[str, list[str]] = {}
    kids = view.children()
    for t, n in sorted(view.names.items()):
        if t in kids:
            heads.setdefault((words(n) or [""])[-1], []).append(t)
    triples = []
    for t in sorted(hidden.parents):
        same = [q for q in heads.get((words(view.names.get(t, "")) or [""])[-1], []) if q != t and view.scheme.get(q) == view.scheme.get(t)]
        if same:
            triples.append((t, RDFS.subClassOf.value, NamedNode(same[0])))
    out["subClassOf edge"] = judge("taxonomy", triples, hidden).get("subClassOf edge", _empty())
    triples = []
    for p, a, v in sorted(hidden.planted | hidden.original):
        label = hidden.labels.get(v, "")
        if label and not value_in_text(label, hidden.titles.get(p, "")):
            triples.append((p, AK.quarantines.value, Triple(NamedNode(p), NamedNode(a), NamedNode(v))))
    out["quarantined"] = judge("cleaning", triples, hidden).get("quarantined", _empty())
    out.update(_closest_spelling(store, hidden))
    return out


def _closest_spelling(store: KnowledgeStore, hidden: Hidden, cutoff: float = 80) -> dict[str, dict[str, Any]]:
    """The synonym baseline: link each split-off name to the term whose English name is spelled
    most alike (types among all types, values within their attribute), when similar enough."""
    from rapidfuzz import process, utils

    names: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (kind, group or "") -> [(name, term)]
    for r in store.select("list_term_names"):
        if (r["name"].language or "en") == "en":
            key = ("type", "") if r["kind"].value == "type" else ("value", r["group"].value)
            names.setdefault(key, []).append((r["name"].value, r["term"].value))
    triples = []
    for new in sorted(hidden.split):
        is_type = hidden.groups.get(new) == scheme_iri(SPLIT_SCHEME).value
        choices = [(n, t) for n, t in names.get(("type", "") if is_type else ("value", hidden.groups.get(new, "")), []) if t != new]
        best = process.extractOne(hidden.names[new], [n for n, _ in choices], processor=utils.default_process, score_cutoff=cutoff)
        if best is not None:
            triples.append((new, (OWL.equivalentClass if is_type else OWL.sameAs).value, NamedNode(choices[best[2]][1])))
    return judge("synonyms", triples, hidden)


def _empty() -> dict[str, Any]:
    return {"added": 0, "judged": 0, "right": 0, "hidden": None, "precision": None, "recall": None, "unjudged sample": [],
            "wrong sample": []}


BASELINES = {"attribute value": "baseline: dictionary (the attribute's known values in the title)",
             "product typed": "baseline: dictionary (a type name in the title)",
             "subClassOf edge": "baseline: head word (a type with children named with the same last word)",
             "quarantined": "baseline: value not in the title",
             "equivalentClass link": "baseline: closest spelling (the most alike English name, if alike enough)",
             "sameAs link": "baseline: closest spelling (the most alike English name, if alike enough)"}


PROFILES = {"quick": {"seeds": (0,)}, "full": {"seeds": (0, 1, 2)}}  # each seed hides and plants other facts


def evaluate_pipeline(data: Path, min_precision: float | None = None, stages: tuple[str, ...] | None = None,
                      replace: dict[str, type] | None = None, workdir: Path | None = None, hide: int = HIDE,
                      plant: int = PLANT, seed: int = 0) -> dict[str, Any]:
    """Ingest `data`, mask it, train and run `stages` (default all, in order; `replace` swaps a
    stage class, e.g. for a random predictor) at their gates, and judge what they added: per
    method (stage or baseline) and kind, the counts `judge` returns."""
    from .ingest import ingest_many, plan
    from .pipeline import run_stage
    from .stages.registry import STAGES, stage_class

    folders = [f for f in (data / "open", data / "restricted") if f.is_dir()] or [data]
    files, _ = plan(folders)
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    gates: dict[str, list] = {}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        store = KnowledgeStore(Path(tmp) / "store")
        try:
            ingest_many(store, files)
            hidden = mask(store, hide, plant, seed)
            for name in stages or tuple(STAGES):
                cls = (replace or {}).get(name) or stage_class(name)
                stage = cls(**{**cls.DEMO_CONFIG, "seed": seed})
                stage.fit(stage.read(store))
                result = run_stage(store, name, min_precision=min_precision, stage=stage)
                gates[name] = list(result.gates)
                for kind, k in judge(name, added(store, graph_iri("run", name, result.run_id)), hidden).items():
                    counts[(name, kind)] = k
            for kind, k in baselines(store, hidden).items():
                counts[(BASELINES[kind], kind)] = k
        finally:
            store.close()
    sizes = {"hidden values": sum(len(v) for v in hidden.values.values()), "hidden product types": sum(len(v) for v in hidden.types.values()),
             "split-off names": len(hidden.split),
             "hidden parent edges": sum(len(v) for v in hidden.parents.values()), "planted wrong values": len(hidden.planted),
             "values the data set gave, still there": len(hidden.original)}
    return {"counts": counts, "sizes": sizes, "gates": gates}


def evaluate_rediscovery(data: Path, test: Path | None = None, model: Path | None = None, profile: str = "full",
                         min_precision: float | None = None, **options) -> dict[str, Any]:
    """`autoknow evaluate pipeline --data DIR`: the masked re-discovery over the profile's seeds,
    counts pooled over seeds (precision = right / judged), with each seed's precision range."""
    import time

    from .errors import AutoknowError
    from .evaluation import PROFILES as ABOUT
    from .ml.gate import DEFAULT_MIN_PRECISION

    if test is not None or model is not None:
        raise AutoknowError("`evaluate pipeline` hides facts of --data itself: it takes neither --test nor --model")
    if profile not in PROFILES:
        raise AutoknowError(f"no evaluation profile {profile!r}; profiles: {', '.join(PROFILES)}")
    start = time.perf_counter()
    pooled: dict[tuple[str, str], dict[str, Any]] = {}
    per_seed: dict[tuple[str, str], list[float]] = {}
    runs = []
    for seed in PROFILES[profile]["seeds"]:
        run = evaluate_pipeline(Path(data), min_precision, seed=seed, **options)
        runs.append({"seed": seed, **run["sizes"], "gates": run["gates"]})
        for key, k in run["counts"].items():
            p = pooled.setdefault(key, {"added": 0, "judged": 0, "right": 0, "hidden": 0, "unjudged sample": [], "wrong sample": []})
            for n in ("added", "judged", "right"):
                p[n] += k[n]
            for n in ("broader", "same after normalisation"):
                p[n] = p.get(n, 0) + k.get(n, 0)
            p["hidden"] += k["hidden"] or 0
            for sample in ("unjudged sample", "wrong sample"):
                p[sample] = (p[sample] + k[sample])[:SAMPLE]
            if k["precision"] is not None:
                per_seed.setdefault(key, []).append(k["precision"])
    rows = []
    for (method, kind), k in sorted(pooled.items(), key=lambda kv: (kv[0][1], kv[0][0].startswith("baseline"), kv[0][0])):
        spread = per_seed.get((method, kind), [])
        rows.append({"kind": kind, "method": method, "added": k["added"], "judged": k["judged"], "right": k["right"],
                     "precision": k["right"] / k["judged"] if k["judged"] else None,
                     "precision range over seeds": f"{min(spread):.3f}-{max(spread):.3f}" if len(spread) > 1 else None,
                     "recall": k["right"] / k["hidden"] if k["hidden"] else None, "unjudged": k["added"] - k["judged"],
                     "of them right as broader or in another form": k.get("broader", 0) + k.get("same after normalisation", 0)})
    return {"tables": {"rediscovery": rows},
            "rediscovery": {"hide %": options.get("hide", HIDE), "plant %": options.get("plant", PLANT),
                            "min precision": min_precision or DEFAULT_MIN_PRECISION, "data": str(data),
                            "date": date.today().isoformat()},
            "seeds": runs, "unjudged samples": {f"{m} / {k}": v["unjudged sample"] for (m, k), v in pooled.items()},
            "wrong samples": {f"{m} / {k}": v["wrong sample"] for (m, k), v in pooled.items()},
            "profile": {"name": profile, "about": ABOUT[profile], "settings": PROFILES[profile],
                        "seconds": round(time.perf_counter() - start, 1)},
            "skipped": ["relations adds facts the hidden set cannot judge (applicability decisions): counted as "
                        "unjudged; their precision is their gates' held-in one"]}


def measured_precision(result: dict[str, Any], stage: str, kind: str) -> float | None:
    """The re-discovered precision of a stage's kind of fact in an `evaluate pipeline` result."""
    row = next((r for r in result.get("tables", {}).get("rediscovery", []) if r["method"] == stage and r["kind"] == kind), None)
    return row["precision"] if row else None
