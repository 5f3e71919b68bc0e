"""Rebuild this example catalogue ("your own products JSONL and taxonomy CSV", as the README's
walkthrough uses them) from the demo cut's real Open Food Facts data:

    python examples/my-shop/build.py

products.jsonl: the English food products that have categories, in the generic catalogue format
(id, title, type, attributes brand / quantity / label). taxonomy.csv: the generic taxonomy format
(id, label, parent, synonyms) holding those products' categories and all their ancestors, with
their English names and synonyms from the Open Food Facts category taxonomy.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent.parent / "autoknow_rdf/resources/demo_data/open"
SCHEME = "my-shop"  # ingest both files with --scheme my-shop: a type `my-shop:teas` is the taxonomy's `teas`


def english(node: dict, field: str):
    """The English entry of a per-language field (the taxonomy spells the key "en" or "En")."""
    values = {k.lower(): v for k, v in (node.get(field) or {}).items()}
    return values.get("en")


def main() -> None:
    with gzip.open(DEMO / "openfoodfacts_categories/categories.full.jsonl.gz", "rt", encoding="utf-8") as f:
        nodes = {n["id"].lower(): n for n in map(json.loads, f) if n["id"].lower().startswith("en:") and english(n, "name")}
    products, used = [], set()
    with gzip.open(DEMO / "openfoodfacts_products/off_products.jsonl.gz", "rt", encoding="utf-8") as f:
        for p in map(json.loads, f):
            cats = [c for c in p.get("categories_hierarchy") or [] if c in nodes]
            if p.get("lang") != "en" or not p.get("product_name") or not cats:
                continue
            leaves = [c for c in cats if not any(c in nodes[o].get("parents", []) for o in cats if o != c)]
            attributes = {"brand": p.get("brands"), "quantity": p.get("quantity"),
                          "label": [english(nodes[t], "name") for t in p.get("labels_tags") or [] if t in nodes] or None}
            products.append({"id": p["code"], "title": p["product_name"], "type": [SCHEME + ":" + c[3:] for c in leaves],
                             "attributes": {k: v for k, v in attributes.items() if v}})
            used.update(leaves)
    todo, keep = list(used), set()
    while todo:
        c = todo.pop()
        if c not in keep:
            keep.add(c)
            todo.extend(x for x in nodes[c].get("parents", []) if x in nodes)
    with open(HERE / "taxonomy.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "label", "parent", "synonyms"])
        for c in sorted(keep):
            name = english(nodes[c], "name")
            parents = "|".join(x[3:] for x in nodes[c].get("parents", []) if x in keep)
            w.writerow([c[3:], name, parents, "|".join(s for s in english(nodes[c], "synonyms") or [] if s != name)])
    with open(HERE / "products.jsonl", "w", encoding="utf-8") as f:
        for p in products:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"{len(products)} products, {len(keep)} types")


if __name__ == "__main__":
    main()
