"""The README's shell blocks (and those of docs/*.md) work as written, against the demo cut.

The quick blocks run verbatim in a sandbox laid out like a checkout beside `../shared` (where
`../shared/data` is the cut and `models/` holds stages trained on it): the CLI tour, the SPARQL
endpoint with its curl example, and the own-catalogue walkthrough of `autoknow enrich`. Every
other `autoknow` line (full-size training and evaluation: hours) is parsed by the CLI itself, so a
renamed command or option, or a path that is not there, fails here. The install lines must be the
ones CI runs, and every benchmark the README names must exist.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from autoknow_rdf.cli import cli
from autoknow_rdf.store import KnowledgeStore
from autoknow_rdf.stages.registry import STAGES

from .conftest import quad_set
from .test_serve import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RUN = ("## CLI", "## Your own catalogue: `autoknow enrich`")  # sections whose blocks run verbatim

pytestmark = pytest.mark.slow


DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]  # the front page and the pages it links


def blocks() -> list[tuple[str, str]]:
    """(section heading, text) of every ```bash block of README.md and docs/*.md, in order."""
    out = []
    for page in DOCS:
        heading = ""
        for m in re.finditer(r"(?ms)^(#+ [^\n]*)$|^```bash\n(.*?)^```", page.read_text(encoding="utf-8")):
            if m.group(1):
                heading = m.group(1)
            else:
                out.append((heading, m.group(2)))
    return out


def test_the_readme_is_a_front_page_and_its_links_resolve():
    """At most about 200 lines; every relative link of README and docs/ names a file that exists."""
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200
    for page in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: link to {target} goes nowhere"


def commands(text: str) -> list[str]:
    """Command lines of a block: continuations joined, comments cut, `&&` chains split."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = []
    for line in joined.splitlines():
        line = re.split(r"\s+#\s", line)[0].strip()
        if line and not line.startswith("#"):
            lines += [c.strip() for c in line.split(" && ")]
    return lines


def parse(args: list[str]) -> None:
    """Let click parse `autoknow ARGS` down to the command (types and paths checked), not run it."""

    def rest(ctx: click.Context) -> list[str]:
        with warnings.catch_warnings():  # click 8.2+ warns of protected_args (pinned 8.5: still the subcommand's name)
            warnings.simplefilter("ignore", DeprecationWarning)
            return [*ctx.protected_args, *ctx.args]

    ctx = cli.make_context("autoknow", list(args))
    command: click.Command = cli
    while isinstance(command, click.Group):
        name, command, remaining = command.resolve_command(ctx, rest(ctx))
        ctx = command.make_context(name, remaining, parent=ctx)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, cut, demo_cut, cut_models) -> Path:
    """A working directory like a checkout, `../shared/data` beside it (the cut)."""
    top = tmp_path_factory.mktemp("readme")
    work = top / "autoknow-rdf"
    (top / "shared").mkdir()
    (top / "shared" / "data").symlink_to(cut)
    (work / "demo").mkdir(parents=True)
    (work / "demo" / "data").symlink_to(demo_cut)
    (work / "demo" / "evaluation").symlink_to(ROOT / "demo" / "evaluation")
    (work / "examples").symlink_to(ROOT / "examples")
    (work / "benchmarks").symlink_to(ROOT / "benchmarks")
    shutil.copytree(cut_models[0], work / "models")
    shutil.rmtree(work / "models" / "relations")  # so the walkthrough's enrich trains one stage itself
    for placeholder in ("my-labelled", "old-taxonomy", "new-taxonomy", "runs"):
        (work / placeholder).mkdir()
    return work


def autoknow(line: str) -> str:
    result = CliRunner().invoke(cli, shlex.split(line)[1:])
    assert result.exit_code == 0, (line, result.output, result.exception)
    return result.output


def test_the_cli_tour_and_the_endpoint_run_as_written(sandbox, monkeypatch):
    monkeypatch.chdir(sandbox)
    (tour, curl), = [(b, n) for (h, b), (_, n) in zip(blocks(), blocks()[1:]) if h == "## CLI" and "autoknow init" in b]
    lines = commands(tour)
    serve = [line for line in lines if line.startswith("autoknow serve")]
    assert len(serve) == 1
    for line in lines:
        if line not in serve:
            autoknow(line)
    assert (sandbox / "kg.trig").stat().st_size > 0 and (sandbox / "kg.nq").stat().st_size > 0
    port = free_port()  # the README's 7878 may be taken on a test machine
    args = shlex.split(serve[0].replace("7878", str(port)))[1:]
    proc = subprocess.Popen([sys.executable, "-m", "autoknow_rdf.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc)
        query = re.search(r"'query=(.*?)'", curl, re.S).group(1)
        assert curl.startswith("curl ") and "http://127.0.0.1:7878/query" in curl
        req = urllib.request.Request(f"http://127.0.0.1:{port}/query?" + urllib.parse.urlencode({"query": query}),
                                     headers={"Accept": "text/csv"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            rows = resp.read().decode("utf-8").strip().splitlines()
        assert rows[0].split(",") == ["t", "l"] and len(rows) == 6
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_the_own_catalogue_walkthrough_runs_as_written(sandbox, monkeypatch):
    monkeypatch.chdir(sandbox)
    (walk,) = [b for h, b in blocks() if h.startswith("## Your own catalogue")]
    enrich = []
    for line in commands(walk):
        if line.startswith("autoknow enrich") and enrich:  # the re-run: the store must not change
            before = quad_set(KnowledgeStore(sandbox / "my-kg", read_only=True))
            enrich.append(autoknow(line))
            assert quad_set(KnowledgeStore(sandbox / "my-kg", read_only=True)) == before
        elif line.startswith("autoknow enrich"):
            enrich.append(autoknow(line))
        else:
            autoknow(line)
    assert len(enrich) == 2
    assert "trained: relations" in enrich[0] and "Facts-added accounting" in enrich[0]
    for stage in STAGES:
        assert f"stage {stage}" in enrich[0]
    assert "nothing new" in enrich[1]
    assert "every fact is traced" in (sandbox / "report.html").read_text(encoding="utf-8")
    sheet = (sandbox / "my-audit" / "sample.csv").read_text(encoding="utf-8")
    assert sheet.startswith("item,stage,sample,fact,kind,claim") and sheet.count("\n") > 1


def test_every_other_autoknow_line_parses(sandbox, monkeypatch):
    """Full-size training and evaluation take hours: the CLI parses each line (commands,
    options, choices and paths), so what the README tells a user to type exists."""
    monkeypatch.chdir(sandbox)
    parsed = 0
    for heading, text in blocks():
        for line in commands(text):
            if line.startswith("autoknow") and heading not in RUN:
                parse(shlex.split(line)[1:])
                parsed += 1
    assert parsed >= 30


def test_install_lines_are_what_ci_runs_and_benchmarks_exist():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [c for _, b in blocks() for c in commands(b)]
    installs = [c for c in lines if c.startswith("pip install")]
    assert len(installs) == 2
    for install in installs:
        assert install.split(" ", 2)[2].startswith('"torch==2.13.0" ".[ml')
    assert 'pip install --quiet "torch==2.13.0" ".[ml,test]"' in ci and "python -m pytest -q" in ci
    assert "python -m pytest -q" in lines and "autoknow demo" in lines  # the second by tests/test_demo.py
    scripts = {c.split()[1] for c in lines if c.startswith("python benchmarks/")}
    assert scripts and all((ROOT / s).is_file() for s in scripts)
