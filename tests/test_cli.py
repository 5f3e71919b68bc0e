"""The CLI through click's CliRunner on an on-disk store; every command documents itself."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli


@pytest.fixture(scope="module")
def kg(tmp_path_factory, cut):
    path = tmp_path_factory.mktemp("cli") / "kg"
    result = CliRunner().invoke(cli, ["ingest", "--store", str(path), str(cut)])
    assert result.exit_code == 0, result.output
    return path


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_a_summary(command):
    out = run(command, "--help")
    assert cli.commands[command].help and len(cli.commands[command].help.split()) >= 4
    assert "Usage:" in out


def test_init_is_idempotent(tmp_path):
    assert "loaded" in run("init", "--store", tmp_path / "kg")
    assert "already loaded" in run("init", "--store", tmp_path / "kg")


def test_reingest_reports_already_ingested(kg, cut):
    out = run("ingest", "--store", kg, cut)
    assert "already ingested" in out and "records" not in out


def test_query_named_text_and_file_in_three_formats(kg, tmp_path):
    rows = json.loads(run("query", "--store", kg, "count_summary", "--output", "json"))
    assert rows[0]["products"] > 0
    csv_out = run("query", "--store", kg, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--output", "csv")
    assert csv_out.splitlines()[0] == "n" and int(csv_out.splitlines()[1]) > 0
    rq = tmp_path / "q.rq"
    rq.write_text("ASK { ?s a ak:Product }", encoding="utf-8")
    assert run("query", "--store", kg, rq).strip() == "true"
    assert "products" in run("query", "--store", kg, "count_summary")


def test_query_binds_values_by_substitution(kg):
    out = json.loads(run("query", "--store", kg, "list_types", "--bind", "scheme=https://w3id.org/autoknow/id/scheme/shopify", "--output", "json"))
    assert out and all(r["scheme"].endswith("/scheme/shopify") for r in out)


def test_bad_bind_and_bad_sparql_are_clear_errors(kg):
    r = CliRunner().invoke(cli, ["query", "--store", str(kg), "list_types", "--bind", "scheme"])
    assert r.exit_code != 0 and "expected VAR=IRI" in str(r.exception)
    r = CliRunner().invoke(cli, ["query", "--store", str(kg), "SELECT WHERE {"])
    assert r.exit_code != 0 and "syntax" in str(r.exception).lower()


@pytest.mark.parametrize("fmt", ["turtle", "trig", "nquads", "jsonld"])
def test_export_every_format(kg, tmp_path, fmt):
    out = tmp_path / f"kg.{fmt}"
    assert "wrote" in run("export", "--store", kg, "--format", fmt, "--out", out)
    assert out.stat().st_size > 1000


def test_stats_and_listings(kg):
    assert "Per graph" in run("stats", "--store", kg)
    shown = run("stats", "--store", kg, "--limit", "2")
    assert "more rows (use --limit 0 for all)" in shown and "more rows" not in run("stats", "--store", kg, "--limit", "0")
    assert "oa-mine" in run("formats")
    assert "list_product_attributes" in run("queries")


def test_serve_refuses_non_loopback_without_allow_remote(kg):
    r = CliRunner().invoke(cli, ["serve", "--store", str(kg), "--host", "0.0.0.0"])
    assert r.exit_code != 0 and "not a loopback address" in str(r.exception)


def test_tables_in_a_log_are_plain_columns_with_whole_headers(kg):
    """Not a TTY (CliRunner, CI logs): one line per row, every header whole on the header line."""
    out = run("query", "--store", kg, "count_facts_by_graph", "--limit", "0")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("graph"))
    names = lines[header].split()
    assert len(names) >= 3 and all(len(n) > 1 for n in names), lines[header]
    assert not any(ch in out for ch in "│┃━"), "a rich box in a log"
    rows = json.loads(run("query", "--store", kg, "count_facts_by_graph", "--output", "json"))
    assert len(lines) - header - 1 == len(rows)
