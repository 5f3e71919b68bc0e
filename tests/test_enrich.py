"""`autoknow enrich` refuses a folder that holds no store (the README's own-catalogue
walkthrough, tests/test_readme.py, runs it on a real one: training, runs, report, a no-op re-run)."""

from __future__ import annotations

from click.testing import CliRunner

from autoknow_rdf.cli import cli


def test_enrich_refuses_a_folder_that_is_no_store(tmp_path):
    result = CliRunner().invoke(cli, ["enrich", "--store", str(tmp_path / "nothing")])
    assert result.exit_code != 0 and "no store here" in str(result.exception)
    assert not (tmp_path / "nothing").exists()
