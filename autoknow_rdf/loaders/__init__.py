"""Input adapters by name: each reads one kind of file into typed records (loaders.records).

`detect(path)` picks the adapter from the file name; `autoknow ingest --format NAME` overrides it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InputError
from ..vocab import slug
from . import behaviour, catalogue, customer, pairs, taxonomy
from .records import Record

__all__ = ["Adapter", "ADAPTERS", "detect", "files_in"]


@dataclass(frozen=True)
class Adapter:
    name: str
    read: Callable[[Path, str], Iterator[Record]]
    patterns: tuple[str, ...]
    summary: str
    scheme: Callable[[Path], str] = lambda p: slug(p.name.split(".")[0])


def _parent(p: Path) -> str:
    return slug(p.parent.name)


ADAPTERS: dict[str, Adapter] = {a.name: a for a in [
    Adapter("taxonomy-csv", taxonomy.taxonomy_csv, ("*taxonomy*.csv",), "generic taxonomy CSV: id,label,parent[,synonyms]"),
    Adapter("taxonomy-turtle", taxonomy.taxonomy_turtle, ("*.ttl",), "OWL classes / SKOS concepts in Turtle"),
    Adapter("products", catalogue.products_jsonl, ("*products*.jsonl", "*catalogue*.jsonl"), "generic products JSONL: id,title,description,type,attributes,spans"),
    Adapter("customer-text", customer.customer_text_jsonl, ("*customer*.jsonl", "*reviews*.jsonl"), "generic reviews/questions JSONL: id,kind,product,text,aspects"),
    Adapter("behaviour", behaviour.behaviour_csv, ("*behaviour*.csv", "*events*.csv"), "generic behaviour CSV: session_id,event,product_id[,query]"),
    Adapter("shopify-categories", taxonomy.shopify_categories, ("categories.tsv",), "Shopify categories.tsv", lambda p: "shopify"),
    Adapter("shopify-attributes", taxonomy.shopify_attributes, ("attributes.jsonl",), "Shopify attributes.jsonl", lambda p: "shopify"),
    Adapter("shopify-values", taxonomy.shopify_values, ("values.tsv",), "Shopify values.tsv", lambda p: "shopify"),
    Adapter("shopify-category-attributes", taxonomy.shopify_category_attributes, ("category_attributes.tsv",), "Shopify category→attribute links", lambda p: "shopify"),
    Adapter("shopify-google", taxonomy.shopify_google_mapping, ("shopify_to_google.tsv",), "Shopify→Google category mapping", lambda p: "shopify"),
    Adapter("google-taxonomy", taxonomy.google_taxonomy, ("taxonomy-with-ids*.tsv",), "Google product taxonomy TSV", lambda p: "google"),
    Adapter("off-categories", taxonomy.off_categories, ("categories.full.jsonl*",), "Open Food Facts categories", lambda p: "off"),
    Adapter("off-values", taxonomy.off_values, ("*.nodes.jsonl*",), "Open Food Facts labels/allergens/ingredients", lambda p: "off"),
    Adapter("off-products", catalogue.off_products, ("off_products.jsonl*", "obf_products.jsonl*"), "Open Food/Beauty Facts products", lambda p: "gtin"),
    Adapter("oa-mine", catalogue.extractgpt_titles, ("oa_mine_*.jsonl",), "OA-Mine titles with attribute spans", lambda p: "oa-mine"),
    Adapter("ae-110k", catalogue.extractgpt_titles, ("ae_110k_*.jsonl",), "AE-110K titles with attribute spans", lambda p: "ae-110k"),
    Adapter("wdc-pave", catalogue.wdc_pave, ("wdc_pave_train.jsonl",), "WDC-PAVE offers with annotated values", lambda p: "wdc-pave"),
    Adapter("implicitave", catalogue.implicitave, ("implicitave_*.tsv*",), "ImplicitAVE titles with implied values", lambda p: "asin"),
    Adapter("subjqa", customer.subjqa, ("subjqa_*.csv",), "SubjQA reviews and questions", lambda p: "asin"),
    Adapter("instacart-products", behaviour.instacart_products, ("products.csv",), "Instacart products typed by aisle", lambda p: "instacart"),
    Adapter("instacart-orders", behaviour.instacart_orders, ("order_products__*.csv",), "Instacart basket lines", lambda p: "instacart"),
    Adapter("esci", behaviour.esci, ("esci_judgments*.tsv",), "ESCI query-product judgements", lambda p: "asin"),
    Adapter("match-pairs", pairs.match_pairs, ("train.csv", "valid.csv", "train_medium.csv", "valid_medium.csv", "*pairs*.csv"), "product matching pairs: label,ltable_*,rtable_*", _parent),
]}


def detect(path: Path) -> Adapter:
    """The adapter whose file-name pattern matches; an InputError lists the choices otherwise."""
    for adapter in ADAPTERS.values():
        if any(fnmatch.fnmatch(path.name, pat) for pat in adapter.patterns):
            return adapter
    raise InputError(path, None, "unknown file kind; pass --format, one of: " + ", ".join(ADAPTERS))


def files_in(folder: Path) -> tuple[list[tuple[Path, Adapter]], list[Path]]:
    """Recognised files under a folder (recursively, sorted) and the ones skipped."""
    found, skipped = [], []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            found.append((path, detect(path)))
        except InputError:
            skipped.append(path)
    return found, skipped
