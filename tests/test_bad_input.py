"""Bad input: a clear file:line error, a non-zero exit, and a store left exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli
from autoknow_rdf.errors import InputError
from autoknow_rdf.ingest import ingest_file
from autoknow_rdf.loaders import ADAPTERS
from autoknow_rdf.store import KnowledgeStore


GOOD_TAXONOMY = "id,label,parent\nfood,Food,\ndairy,Dairy,food\n"

CASES = {
    # name: (file name, bytes, adapter or None, expected line, message fragment)
    "malformed csv row": ("taxonomy.csv", GOOD_TAXONOMY + "cheese,Cheese,dairy,extra\n", None, 4, "expected 3 fields, found 4"),
    "unterminated quote": ("taxonomy.csv", GOOD_TAXONOMY + 'milk,"Milk,dairy\n', None, None, "malformed row"),
    "wrong encoding": ("taxonomy.csv", (GOOD_TAXONOMY + "creme,Crème,dairy\n").encode("latin-1"), None, 4, "not valid UTF-8"),
    "missing required field": ("taxonomy.csv", GOOD_TAXONOMY + "yogurt,,dairy\n", None, 4, "missing required field(s): label"),
    "missing column": ("taxonomy.csv", "id,name\nfood,Food\n", None, 1, "missing column(s) label"),
    "unknown parent id": ("taxonomy.csv", GOOD_TAXONOMY + "cheese,Cheese,dairies\n", None, 4, "unknown parent id 'dairies'"),
    "cycle": ("taxonomy.csv", "id,label,parent\na,A,c\nb,B,a\nc,C,b\n", None, None, "cycle in taxonomy"),
    "invalid IRI": ("taxonomy.csv", "id,label,parent\nhttp://ex.org/a b,A,\n", None, 2, "invalid IRI"),
    "empty file": ("taxonomy.csv", "", None, None, "empty file"),
    "header only": ("taxonomy.csv", "id,label,parent\n", None, None, "no records found"),
    "bad record late in a file": ("products.jsonl", '{"id": "1", "title": "Tea"}\n' * 3000 + '{"id": "x"}\n', None, 3001, "missing required field(s): title"),
    "malformed json": ("products.jsonl", '{"id": "1", "title": "Tea"}\n{"id": "2", "title": \n', None, 2, "malformed JSON"),
    "json missing field": ("products.jsonl", '{"id": "1", "title": "Tea"}\n{"id": "2"}\n', None, 2, "missing required field(s): title"),
    "span not in title": ("products.jsonl", '{"id": "1", "title": "Green Tea", "spans": [{"attribute": "flavor", "value": "mint", "start": 0, "end": 4}]}\n', None, 1, "reads 'Gree'"),
    "invalid type IRI": ("products.jsonl", '{"id": "1", "title": "Tea", "type": "http://ex.org/a b"}\n', None, 1, "invalid IRI"),
    "wrong format": ("taxonomy.csv", '{"id": "1", "title": "Tea"}\n', None, 1, "missing column(s)"),
    "jsonl given csv": ("data.csv", GOOD_TAXONOMY, "products", 1, "malformed JSON"),
    "product id twice, other fields": ("products.jsonl", '{"id": "1", "title": "Tea"}\n{"id": "2", "title": "Milk"}\n'
                                       '{"id": "1", "title": "Green Tea"}\n', None, 3, "product id '1' is on line 1 already"),
    "bad event": ("behaviour.csv", "session_id,event,product_id\ns1,buy,p1\n", None, 2, "event must be one of"),
    "duplicate id, another label": ("taxonomy.csv", GOOD_TAXONOMY + "dairy,Milk products,food\n", None, 4, "defined again with another label"),
    "relative IRI without a base": ("taxonomy.ttl", "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<http://ex.org/a> a owl:Class .\n<b> a owl:Class .\n", None, 3, "invalid Turtle"),
    "bad turtle": ("taxonomy.ttl", "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<http://ex.org/a> a owl:Class\n<b> .\n", None, None, "invalid Turtle"),
}


@pytest.fixture
def disk_store(tmp_path, cut_files) -> Path:
    """An on-disk store already holding real data, so 'unchanged' means something."""
    path = tmp_path / "kg"
    s = KnowledgeStore(path)
    from autoknow_rdf.ontology import load_ontology

    load_ontology(s)
    ingest_file(s, cut_files[0])
    s.close()
    return path


def snapshot(path: Path) -> tuple[int, set[str]]:
    s = KnowledgeStore(path, read_only=True)
    return len(s), {str(q) for q in s.quads()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_file_and_line_and_leaves_store_unchanged(case, tmp_path, disk_store):
    name, content, adapter, line, fragment = CASES[case]
    bad = tmp_path / "in" / name
    bad.parent.mkdir()
    bad.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    before = snapshot(disk_store)
    args = ["ingest", "--store", str(disk_store), str(bad)] + (["--format", adapter] if adapter else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    err = result.exception
    assert isinstance(err, InputError), result.output
    assert err.path == str(bad)
    if line is not None:
        assert err.line == line and f"{bad}:{line}:" in str(err)
    assert fragment in str(err)
    assert snapshot(disk_store) == before


def test_non_existent_path_is_an_error_and_changes_nothing(tmp_path, disk_store):
    before = snapshot(disk_store)
    result = CliRunner().invoke(cli, ["ingest", "--store", str(disk_store), str(tmp_path / "missing.csv")])
    assert result.exit_code != 0 and "no such file" in str(result.exception)
    assert snapshot(disk_store) == before


def test_cli_main_prints_one_line_and_exits_2(tmp_path, disk_store):
    import subprocess
    import sys

    bad = tmp_path / "taxonomy.csv"
    bad.write_text(GOOD_TAXONOMY + "x,X,nowhere\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "autoknow_rdf.cli", "ingest", "--store", str(disk_store), str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}:4: unknown parent id 'nowhere' of 'x'"


def test_unknown_format_lists_the_adapters(tmp_path):
    f = tmp_path / "mystery.bin"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="pass --format"):
        ingest_file(KnowledgeStore(), f)
    assert "taxonomy-csv" in ADAPTERS


def test_an_id_repeated_with_the_same_label_is_one_type_with_both_parents(tmp_path):
    from autoknow_rdf.loaders.taxonomy import taxonomy_csv

    f = tmp_path / "taxonomy.csv"
    f.write_text("id,label,parent\nfood,Food,\ndrink,Drink,\nmilk,Milk,food\nmilk,Milk,drink\n", encoding="utf-8")
    records = list(taxonomy_csv(f, "t"))
    (milk,) = [r for r in records if r.ref.id == "milk"]
    assert [p.id for p in milk.parents] == ["food", "drink"] and len(records) == 3


def test_a_type_id_no_taxonomy_defines_is_a_warning_naming_file_line_and_id(tmp_path):
    """The product keeps its type (known only by its id), and the ingest says so; a type the
    taxonomy defines, even in a file ingested after the products, is not warned about."""
    products = tmp_path / "products.jsonl"
    products.write_text('{"id": "1", "title": "Milk", "type": "my-shop:dairy"}\n'
                        '{"id": "2", "title": "Tea", "type": ["my-shop:does-not-exist"]}\n'
                        '{"id": "2", "title": "Tea", "type": ["my-shop:does-not-exist"]}\n', encoding="utf-8")
    taxonomy = tmp_path / "taxonomy.csv"
    taxonomy.write_text(GOOD_TAXONOMY, encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", "--store", str(tmp_path / "kg"), "--scheme", "my-shop", str(products), str(taxonomy)])
    assert result.exit_code == 0, result.output
    assert "1 warnings" in result.output
    assert f"warning: {products}:2: type my-shop:does-not-exist is defined by no ingested taxonomy" in result.output
    assert "my-shop:dairy" not in result.output
    store = KnowledgeStore(tmp_path / "kg", read_only=True)
    assert len(store.select("list_product_titles")) == 2  # the repeated identical line is read once
