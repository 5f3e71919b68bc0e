"""The masked re-discovery evaluation on the real cut: what is hidden, and that it can fail (a
random predictor in a stage's place scores a low precision; the dictionary baseline does better)."""

from __future__ import annotations

import random

from pyoxigraph import NamedNode

from autoknow_rdf.provenance import Fact
from autoknow_rdf.rediscovery import BASELINES, evaluate_pipeline, mask
from autoknow_rdf.stages.imputation.stage import ImputationStage
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.vocab import RDF, RDFS, value_iri

from .conftest import fill


class RandomImputation(ImputationStage):
    """A stage that learns nothing: a random known value of each applicable attribute a product lacks."""

    def fit(self, inputs, embed=None):
        self.vocabulary_ = {}
        for values in inputs.values.values():
            for a, labels in values.items():
                self.vocabulary_.setdefault(a, set()).update(labels)
        return self

    def predict(self, inputs):
        rng = random.Random(0)
        facts = []
        for p in sorted(inputs.texts):
            for a in sorted(inputs.allowed(inputs.type_key(p)) - set(inputs.values.get(p, {}))):
                if self.vocabulary_.get(a):
                    v = value_iri(a.rsplit("/", 1)[-1], rng.choice(sorted(self.vocabulary_[a])))
                    facts.append(Fact(NamedNode(p), NamedNode(a), v, confidence=1.0))
        return facts


def test_masking_hides_facts_from_the_store_and_plants_wrong_values(cut_files):
    store = fill(KnowledgeStore(), cut_files)
    before = {(r["product"].value, r["attribute"].value, r["value"].value) for r in store.select("list_value_facts")}
    hidden = mask(store)
    after = {(r["product"].value, r["attribute"].value, r["value"].value) for r in store.select("list_value_facts")}
    gone = {(p, a, v) for (p, a), vs in hidden.values.items() for v in vs}
    assert gone and gone <= before and not gone & after  # hidden values are out, with their reifiers
    assert hidden.planted and hidden.planted <= after and not hidden.planted & before
    assert 0.05 < len(hidden.planted) / len(hidden.original) < 0.15  # about 10% of the remaining facts
    for p, ts in hidden.types.items():
        assert not any(list(store.store.quads_for_pattern(NamedNode(p), RDF.type, NamedNode(t), None)) for t in ts)
    for t, ps in hidden.parents.items():
        assert not any(list(store.store.quads_for_pattern(NamedNode(t), RDFS.subClassOf, NamedNode(q), None)) for q in ps)
    assert store.ask("find_facts_without_provenance") is False  # nothing half-removed


def test_a_random_predictor_scores_low_and_the_baseline_beside_it(demo_cut):
    run = evaluate_pipeline(demo_cut, stages=("imputation",), replace={"imputation": RandomImputation})
    random_values = run["counts"][("imputation", "attribute value")]
    baseline = run["counts"][(BASELINES["attribute value"], "attribute value")]
    assert random_values["judged"] >= 20 and random_values["precision"] < 0.3
    assert baseline["judged"] >= 5 and baseline["precision"] > random_values["precision"]
    assert random_values["added"] >= random_values["judged"]  # values for never-hidden pairs are counted apart



def test_masking_splits_off_names_as_terms_of_their_own(cut_files):
    store = fill(KnowledgeStore(), cut_files)
    hidden = mask(store)
    assert hidden.split, "the cut's values have English alternative names"
    names = {(r["term"].value, r["name"].value) for r in store.select("list_term_names")}
    for new, source in hidden.split.items():
        assert (new, hidden.names[new]) in names  # the name is a term of its own now
        assert (source, hidden.names[new]) not in names  # and no longer a name of its source
        assert hidden.groups[new] == hidden.groups[source]  # a value stays in its attribute
    assert store.ask("find_facts_without_provenance") is False


def test_a_synonym_link_is_right_to_its_source_wrong_to_a_curated_sibling_and_else_unjudged():
    from autoknow_rdf.rediscovery import SPLIT_SCHEME, Hidden, judge
    from autoknow_rdf.vocab import OWL, scheme_iri

    off, label = "https://w3id.org/autoknow/id/scheme/off", scheme_iri(SPLIT_SCHEME).value
    new, source, sibling, stranger = (f"https://w3id.org/autoknow/id/type/{x}" for x in ("label/split-crisps", "off/chips", "off/nuts", "gs1/snacks"))
    hidden = Hidden(split={new: source}, groups={new: label, source: off, sibling: off, stranger: "gs1"},
                    names={new: "Crisps", source: "Chips", sibling: "Nuts", stranger: "Snacks"})
    links = [(new, source), (source, new), (new, sibling), (new, stranger), (stranger, source)]
    verdicts = judge("synonyms", [(a, OWL.equivalentClass.value, NamedNode(b)) for a, b in links], hidden)["equivalentClass link"]
    assert (verdicts["added"], verdicts["judged"], verdicts["right"]) == (5, 3, 2)
    assert verdicts["wrong sample"] == ["Crisps ≈ Nuts"]
    assert verdicts["unjudged sample"] == ["Crisps ≈ Snacks", "Snacks ≈ Chips"]


def test_a_broader_type_is_right_and_counted_apart_a_sibling_is_wrong():
    from autoknow_rdf.rediscovery import Hidden, judge

    t = "https://w3id.org/autoknow/id/type/off/"
    p = "https://w3id.org/autoknow/id/product/x/1"
    hidden = Hidden(types={p: {t + "whole-milks"}}, titles={p: "Organic Whole Milk"},
                    ancestors={t + "whole-milks": {t + "milks", t + "dairies"}})
    added = [(p, RDF.type.value, NamedNode(t + x)) for x in ("whole-milks", "dairies", "yogurts")]
    verdicts = judge("taxonomy", added, hidden)["product typed"]
    assert (verdicts["judged"], verdicts["right"], verdicts["broader"]) == (3, 2, 1)
    assert verdicts["wrong sample"] == ["Organic Whole Milk → " + t + "yogurts"]


def test_a_value_in_another_form_is_right():
    from autoknow_rdf.rediscovery import Hidden, judge

    p, a = "https://w3id.org/autoknow/id/product/x/1", "https://w3id.org/autoknow/id/attribute/net-content"
    hidden = Hidden(values={(p, a): {value_iri("net-content", "1 kg").value}}, titles={p: "Nutella 1kg"})
    added = [(p, a, value_iri("net-content", v)) for v in ("1000 Gramm", "1 kg", "500 g")]
    verdicts = judge("imputation", added, hidden)["attribute value"]
    assert (verdicts["judged"], verdicts["right"], verdicts["same after normalisation"]) == (3, 2, 1)
