"""Rebuild the demo cut in demo/data from the full data sets (../shared/data).

    python demo/build_cut.py ../shared/data

Deterministic: the same input gives byte-identical files. Open data (MIT, Apache-2.0, ODbL)
goes to demo/data/open; research-only or non-commercial slices go to their own folder
demo/data/restricted with their terms, and the demo runs without them.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data"
VERTICALS = ("fb", "hb", "bt")  # Food & Beverages, Health & Beauty, Baby & Toddler: AutoKnow's domains
INSTACART_ORDERS = 1500


def tsv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t" if path.suffix == ".tsv" else ",")
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, delimiter="\t" if path.suffix == ".tsv" else ",", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def shopify(src: Path, dst: Path) -> None:
    header, cats = tsv_rows(src / "categories.tsv")
    cats = [r for r in cats if r["vertical_id"] in VERTICALS]
    write_rows(dst / "categories.tsv", header, cats)
    ids = {r["id"] for r in cats}
    header, links = tsv_rows(src / "category_attributes.tsv")
    links = [r for r in links if r["category_id"] in ids]
    write_rows(dst / "category_attributes.tsv", header, links)
    used = {r["attribute_friendly_id"] for r in links}
    attrs = [json.loads(l) for l in open(src / "attributes.jsonl", encoding="utf-8")]
    attrs = [a for a in attrs if a["friendly_id"] in used]
    with open(dst / "attributes.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(a, ensure_ascii=False) + "\n" for a in attrs)
    values = {v for a in attrs for v in a.get("values") or ()}
    header, rows = tsv_rows(src / "values.tsv")
    write_rows(dst / "values.tsv", header, [r for r in rows if r["friendly_id"] in values])


def instacart(src: Path, dst: Path) -> None:
    header, lines = tsv_rows(src / "order_products__train.csv")
    orders: list[str] = []
    for r in lines:
        if r["order_id"] not in orders[-1:]:
            orders.append(r["order_id"])
    keep = set(orders[:INSTACART_ORDERS])
    lines = [r for r in lines if r["order_id"] in keep]
    write_rows(dst / "order_products__train.csv", header, lines)
    products = {r["product_id"] for r in lines}
    header, rows = tsv_rows(src / "products.csv")
    write_rows(dst / "products.csv", header, [r for r in rows if r["product_id"] in products])
    for name in ("aisles.csv", "departments.csv", "SOURCE.md"):
        copy(src / name, dst / name)


def main(shared: Path) -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    open_dir, restricted = OUT / "open", OUT / "restricted"
    shopify(shared / "shopify_product_taxonomy", open_dir / "shopify_product_taxonomy")
    for folder, files in {
        "shopify_product_taxonomy": ["SOURCE.md"],
        "openfoodfacts_categories": ["categories.full.jsonl.gz", "SOURCE.md"],
        "openfoodfacts_value_taxonomies": ["labels.nodes.jsonl.gz", "allergens.nodes.jsonl.gz", "SOURCE.md"],
        "openfoodfacts_products": ["off_products.jsonl.gz", "obf_products.jsonl.gz", "SOURCE.md"],
        "oa_mine_attributes": ["oa_mine_train.jsonl", "SOURCE.md"],
        "esci_judgments_sample": ["esci_judgments.tsv", "SOURCE.md"],
    }.items():
        for name in files:
            copy(shared / folder / name, open_dir / folder / name)
    for name in ("subjqa_grocery_dev.csv", "SOURCE.md"):
        copy(shared / "subjqa_grocery" / name, restricted / "subjqa_grocery" / name)
    instacart(shared / "instacart_baskets", restricted / "instacart_baskets")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
