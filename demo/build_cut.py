"""Rebuild the demo cut in demo/data, and the evaluation cut in demo/evaluation, from the full
data sets (../shared/data).

    python demo/build_cut.py ../shared/data

Deterministic: the same input gives byte-identical files. Open data (MIT, Apache-2.0, ODbL)
goes to demo/data/open; research-only or non-commercial slices go to their own folder
demo/data/restricted with their terms, and the demo runs without them.

demo/evaluation holds the first rows of every data set a stage's evaluation reads, laid out as
../shared/data is, so `autoknow evaluate STAGE --data demo/evaluation` runs on a clone. Most of
these data sets are for research use only (each folder's SOURCE.md says); its figures are a
smoke test of the protocol on a few hundred items, not the figures to report.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import sys
from pathlib import Path

OUT = (Path(__file__).resolve().parent / "data").resolve()  # demo/data links to the package resources
EVALUATION = Path(__file__).resolve().parent / "evaluation"
EVAL_ITEMS = 500  # labelled titles per attribute data set; matching pairs per file are 400 and 150
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
    open_dir, restricted = OUT / "open", OUT / "restricted"
    for folder in (open_dir, restricted):  # demo/data/SOURCE.md is written by hand: kept
        if folder.exists():
            shutil.rmtree(folder)
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
    evaluation(shared, EVALUATION)


def head_lines(src: Path, dst: Path, n: int) -> None:
    """The first `n` lines (after a header line for .csv/.tsv files); .gz stays gzipped."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if src.suffix == ".gz" else open
    keep = n + (1 if {".csv", ".tsv"} & set(src.suffixes) else 0)
    with opener(src, "rt", encoding="utf-8", newline="") as fh:
        lines = [line for _, line in zip(range(keep), fh)]
    if src.suffix == ".gz":
        with gzip.GzipFile(dst, "wb", mtime=0) as out:  # mtime 0: byte-identical rebuilds
            out.write("".join(lines).encode("utf-8"))
    else:
        dst.write_text("".join(lines), encoding="utf-8", newline="")


def implicit_split(src: Path, dst: Path, per_domain: dict[str, int]) -> None:
    """The first rows of each domain in each upstream split of ImplicitAVE (its file is ordered
    by split, then domain): every domain is evaluated, not only the first."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    kept: dict[tuple[str, str], int] = {}
    with gzip.open(src, "rt", encoding="utf-8", newline="") as fh:
        header, lines = next(fh), []
        columns = header.rstrip("\n").split("\t")
        split, domain = columns.index("split"), columns.index("domain")
        for line in fh:
            cells = line.rstrip("\n").split("\t")
            key = (cells[split], cells[domain])
            if kept.get(key, 0) < per_domain.get(key[0], 0):
                kept[key] = kept.get(key, 0) + 1
                lines.append(line)
    with gzip.GzipFile(dst, "wb", mtime=0) as out:
        out.write((header + "".join(lines)).encode("utf-8"))


def first_clusters(src: Path, dst: Path, n: int) -> None:
    """Synonym rows (id, lang, synonym, …) of the first `n` ids: whole clusters, never half of one."""
    header, rows = tsv_rows(src)
    ids: dict[str, None] = {}
    for r in rows:
        if len(ids) < n:
            ids.setdefault(r["id"], None)
    write_rows(dst, header, [r for r in rows if r["id"] in ids])


EVALUATION_SOURCE = """# demo/evaluation: a small evaluation folder

Built by `python demo/build_cut.py ../shared/data` (deterministic): the first rows of every data
set that `autoknow evaluate STAGE` reads, in the layout of `../shared/data`, so that
`autoknow evaluate all --data demo/evaluation --profile quick` runs on a clone. Labelled titles:
the first 500 of OA-Mine, AE-110K and WDC-PAVE training files, and the first 400 training and
200 validation ImplicitAVE rows of each domain; matching pairs: the first 400 training and 150
validation pairs of each ER-Magellan and WDC LSPC file; synonyms: whole clusters (the first 3,000 Open Food Facts category ids, 1,000 label
and allergen ids); WordNet, the Google taxonomy and the Open Food Facts category taxonomy whole;
Shopify, Open Food Facts products, ESCI, SubjQA and Instacart as in the demo cut (demo/data), with
Shopify's Shopify→Google mapping rows of the cut's categories.

Its figures come from a few hundred items a data set: a smoke test of the protocol, not the
figures to report. Each folder keeps its data set's SOURCE.md (origin, licence, held-out
splits). Most of these data sets are for research use only (AE-110K, WDC-PAVE, ImplicitAVE,
SubjQA, ER-Magellan, WDC LSPC) and Instacart is non-commercial: use this folder for evaluating
this project, not in a product.
"""


def evaluation(shared: Path, out: Path) -> None:
    """Small cuts of every data set the five stages' evaluations read (see the module docstring)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "SOURCE.md").write_text(EVALUATION_SOURCE, encoding="utf-8")
    for folder in ("shopify_product_taxonomy", "openfoodfacts_products", "esci_judgments_sample"):
        shutil.copytree(OUT / "open" / folder, out / folder)
    for folder in ("subjqa_grocery", "instacart_baskets"):
        shutil.copytree(OUT / "restricted" / folder, out / folder)
    ids = {r["id"] for r in tsv_rows(out / "shopify_product_taxonomy/categories.tsv")[1]}
    header, rows = tsv_rows(shared / "shopify_product_taxonomy/shopify_to_google.tsv")  # the alignment's silver labels
    write_rows(out / "shopify_product_taxonomy/shopify_to_google.tsv", header, [r for r in rows if r["shopify_category_id"] in ids])
    for folder, name in (("oa_mine_attributes", "oa_mine_train.jsonl"), ("ae_110k_attributes", "ae_110k_train.jsonl"),
                         ("wdc_pave_attributes", "wdc_pave_train.jsonl")):
        head_lines(shared / folder / name, out / folder / name, EVAL_ITEMS)
    implicit_split(shared / "implicitave_attributes/implicitave_trainval.tsv.gz",
                   out / "implicitave_attributes/implicitave_trainval.tsv.gz", {"train": 400, "val": 200})
    copy(shared / "implicitave_attributes/implicitave_value_options.json", out / "implicitave_attributes/implicitave_value_options.json")
    copy(shared / "openfoodfacts_categories/categories.full.jsonl.gz", out / "openfoodfacts_categories/categories.full.jsonl.gz")
    first_clusters(shared / "openfoodfacts_categories/synonyms.tsv", out / "openfoodfacts_categories/synonyms.tsv", 3000)
    for name in ("labels", "allergens"):
        first_clusters(shared / f"openfoodfacts_value_taxonomies/{name}.synonyms.tsv",
                       out / f"openfoodfacts_value_taxonomies/{name}.synonyms.tsv", 1000)
    for name in ("synsets.tsv", "hypernyms.tsv", "WORDNET_LICENSE.txt"):
        copy(shared / "wordnet_consumables" / name, out / "wordnet_consumables" / name)
    copy(shared / "google_product_taxonomy/taxonomy-with-ids.en-US.tsv", out / "google_product_taxonomy/taxonomy-with-ids.en-US.tsv")
    for folder in ("er_magellan_products", "wdc_lspc_v2_products"):
        for part in sorted(p for p in (shared / folder).iterdir() if p.is_dir()):
            for f in sorted(part.glob("*.csv")):
                head_lines(f, out / folder / part.name / f.name, 400 if f.name.startswith("train") else 150)
    for folder in sorted(p.name for p in out.iterdir() if p.is_dir()):
        if not (out / folder / "SOURCE.md").exists():
            copy(shared / folder / "SOURCE.md", out / folder / "SOURCE.md")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
