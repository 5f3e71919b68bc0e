"""An installed wheel (not the checkout) finds its ontology, named queries, JSON-LD context and
demo cut: built and installed here into a folder of its own, then run from elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    """(the folder the wheel was installed into, an environment that imports it from there)."""
    tmp = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp / "dist"), str(ROOT)],
                   check=True, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("autoknow_rdf-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(tmp / "site"), str(wheel)], check=True, cwd=tmp)
    env = {**os.environ, "PYTHONPATH": str(tmp / "site"), "AUTOKNOW_CACHE": "off"}
    return tmp, env


def autoknow(installed, *args: str) -> str:
    tmp, env = installed
    done = subprocess.run([sys.executable, "-c", "from autoknow_rdf.cli import main; main()", *args],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_wheel_is_what_runs(installed):
    tmp, env = installed
    where = subprocess.run([sys.executable, "-c", "import autoknow_rdf; print(autoknow_rdf.__file__)"],
                           cwd=tmp, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(tmp / "site"), where


def test_the_installed_wheel_runs_its_commands_and_a_query(installed):
    tmp, _ = installed
    assert "Usage:" in autoknow(installed, "demo", "--help")
    assert "list_product_attributes" in autoknow(installed, "queries")
    autoknow(installed, "init", "--store", str(tmp / "kg"))  # reads the packaged ontology
    out = autoknow(installed, "query", "--store", str(tmp / "kg"), "count_summary", "--output", "json")
    assert '"products": 0' in out
    site = tmp / "site" / "autoknow_rdf" / "resources"
    assert (site / "ontology" / "context.jsonld").is_file() and (site / "demo_data" / "SOURCE.md").is_file()
