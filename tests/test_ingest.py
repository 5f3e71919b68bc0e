"""Ingest of every adapter on real data: records become facts, re-ingest is a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal

from autoknow_rdf.console import plain
from autoknow_rdf.ingest import ingest_file, plan
from autoknow_rdf.loaders import ADAPTERS, detect
from autoknow_rdf.vocab import AK, RDFS, SCHEMA, SKOS, product_iri, type_iri

from .conftest import DEMO, SHARED, head, quad_set

# adapter -> real file (relative to shared/data), cut to its first lines
SHARED_SAMPLES = {
    "google-taxonomy": "google_product_taxonomy/taxonomy-with-ids.en-US.tsv",
    "ae-110k": "ae_110k_attributes/ae_110k_train.jsonl",
    "wdc-pave": "wdc_pave_attributes/wdc_pave_train.jsonl",
    "implicitave": "implicitave_attributes/implicitave_trainval.tsv.gz",
    "match-pairs": "er_magellan_products/abt_buy/train.csv",
    "shopify-google": "shopify_product_taxonomy/shopify_to_google.tsv",
    "off-values": "openfoodfacts_value_taxonomies/ingredients.nodes.jsonl.gz",
}
DEMO_SAMPLES = {
    "shopify-categories": "open/shopify_product_taxonomy/categories.tsv",
    "shopify-attributes": "open/shopify_product_taxonomy/attributes.jsonl",
    "shopify-values": "open/shopify_product_taxonomy/values.tsv",
    "shopify-category-attributes": "open/shopify_product_taxonomy/category_attributes.tsv",
    "off-categories": "open/openfoodfacts_categories/categories.full.jsonl.gz",
    "off-products": "open/openfoodfacts_products/obf_products.jsonl.gz",
    "oa-mine": "open/oa_mine_attributes/oa_mine_train.jsonl",
    "esci": "open/esci_judgments_sample/esci_judgments.tsv",
    "subjqa": "restricted/subjqa_grocery/subjqa_grocery_dev.csv",
    "instacart-orders": "restricted/instacart_baskets/order_products__train.csv",
}


def sample(adapter: str, tmp_path: Path) -> Path:
    if adapter in DEMO_SAMPLES:
        src = DEMO / DEMO_SAMPLES[adapter]
        if adapter in ("off-categories", "shopify-categories", "shopify-values"):
            return src  # taxonomies must be whole (parents), and are small enough
        return head(src, tmp_path / src.name, 300)
    src = SHARED / SHARED_SAMPLES[adapter]
    if not src.exists():
        pytest.skip(f"{src} not available (needs ../shared)")
    if adapter == "google-taxonomy":
        return src
    return head(src, tmp_path / src.parent.name / src.name, 300)


@pytest.mark.parametrize("adapter", sorted(set(DEMO_SAMPLES) | set(SHARED_SAMPLES)))
def test_each_real_data_adapter_ingests_with_provenance_and_idempotently(adapter, tmp_path, empty_store):
    path = sample(adapter, tmp_path)
    assert detect(path).name == adapter
    result = ingest_file(empty_store, path)
    assert result.records > 0 and result.quads > result.records
    assert not empty_store.ask("find_facts_without_provenance")
    before = quad_set(empty_store)
    again = ingest_file(empty_store, path)
    assert again.skipped and quad_set(empty_store) == before


def test_every_adapter_is_covered_by_a_real_sample_or_a_generic_test():
    generic = {"taxonomy-csv", "taxonomy-turtle", "products", "customer-text", "behaviour", "instacart-products"}
    assert set(ADAPTERS) == set(DEMO_SAMPLES) | set(SHARED_SAMPLES) | generic


def test_shopify_taxonomy_becomes_owl_classes_under_their_parents(empty_store):
    ingest_file(empty_store, DEMO / "open/shopify_product_taxonomy/categories.tsv")
    s = empty_store.store
    child, parent = type_iri("shopify", "fb-1-3"), type_iri("shopify", "fb-1")
    assert any(s.quads_for_pattern(child, RDFS.subClassOf, parent, None))
    roots = list(s.quads_for_pattern(type_iri("shopify", "fb"), RDFS.subClassOf, AK.Product, None))
    assert len(roots) == 1


def test_open_food_facts_types_keep_several_parents_and_multilingual_synonyms(empty_store):
    ingest_file(empty_store, DEMO / "open/openfoodfacts_categories/categories.full.jsonl.gz")
    rows = empty_store.run("SELECT ?c (COUNT(?p) AS ?n) WHERE { ?c rdfs:subClassOf ?p } GROUP BY ?c HAVING (COUNT(?p) > 1) LIMIT 1")
    assert len(list(rows)) == 1
    langs = {q.object.language for q in empty_store.store.quads_for_pattern(None, SKOS.altLabel, None, None)}
    assert {"en", "fr", "de"} <= langs


def test_instacart_products_are_typed_by_aisle_under_department(tmp_path, empty_store):
    folder = DEMO / "restricted/instacart_baskets"
    ingest_file(empty_store, folder / "products.csv")
    first_id = (folder / "products.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    rows = empty_store.run(
        "SELECT ?id ?dl WHERE { ?p ak:sourceId ?id ; a ?aisle . ?aisle skos:inScheme ?s ; rdfs:subClassOf ?dep . ?dep rdfs:label ?dl }",
        id=Literal(first_id),
    )
    labels = {plain(r["dl"]) for r in rows}
    assert labels <= {"pantry", "frozen", "other", "bakery", "produce", "alcohol", "international", "beverages", "pets",
                      "dry goods pasta", "bulk", "personal care", "meat seafood", "breakfast", "canned goods",
                      "dairy eggs", "household", "babies", "snacks", "deli", "missing"}
    assert len(labels) == 1


def test_generic_formats_round_trip_through_the_store(tmp_path, empty_store):
    (tmp_path / "taxonomy.csv").write_text("id,label,parent,synonyms\nfood,Food,,\ntea,Tea,food,Thé|Teas\n", encoding="utf-8")
    (tmp_path / "products.jsonl").write_text(
        '{"id": "p1", "title": "Green Tea 20 bags", "type": "tea", "attributes": {"flavor": "green", "count": 20},'
        ' "spans": [{"attribute": "flavor", "value": "Green", "start": 0, "end": 5}]}\n', encoding="utf-8")
    (tmp_path / "customer_text.jsonl").write_text('{"id": "r1", "kind": "review", "product": "catalogue:p1", "text": "Lovely tea", "aspects": ["taste"]}\n', encoding="utf-8")
    (tmp_path / "behaviour.csv").write_text("session_id,event,product_id,query\ns1,view,p1,green tea\ns1,purchase,p1,\n", encoding="utf-8")
    files, skipped = plan([tmp_path])
    assert [a.name for _, a in files] == ["behaviour", "customer-text", "products", "taxonomy-csv"] and not skipped
    for p, a in files:
        ingest_file(empty_store, p, a, scheme="catalogue" if a.name != "taxonomy-csv" else "shop")
    assert not empty_store.ask("find_facts_without_provenance")
    p1 = product_iri("catalogue", "p1")
    attrs = {(plain(r["attributeLabel"]), plain(r["evidence"]), plain(r["start"])) for r in empty_store.select("list_product_attributes", product=p1)}
    assert attrs == {("flavor", "Green", 0), ("count", "20", None)}
    assert any(empty_store.store.quads_for_pattern(p1, SCHEMA.name, Literal("Green Tea 20 bags"), None))
    summary = empty_store.select("count_summary")[0]
    assert plain(summary["customerTexts"]) == 1 and plain(summary["behaviourEvents"]) == 3
