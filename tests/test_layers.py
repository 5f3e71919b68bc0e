"""Imports go one way: cli → pipeline → stages/<name>/evaluate → evaluation → stage → model → ml → store.

Every `import` in the package, lazy ones inside functions included, is checked against the
layer of the module it names; a back-edge, an import across two stages' rooms, or a private
name imported from another module fails with the offending file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autoknow_rdf"
FOUNDATION = {"__init__", "errors", "vocab", "values", "splits", "console", "store", "queries", "provenance", "loaders",
              "ontology", "ingest", "resources", "jsonld", "remote"}
APPLICATION = {"audit", "shapes", "quarantine", "accounting", "report", "export", "server", "demo", "enrich", "rediscovery"}


def module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> tuple[int, str]:
    """(rank, room): a module may import only lower ranks, or its own rank inside its own room."""
    parts = module.split(".")[1:] or ["__init__"]
    top = parts[0]
    if top in FOUNDATION:
        return 0, "foundation"
    if top == "ml":
        return 1, "ml"
    if top == "evaluation":  # above a stage's model and stage.py (a stage imports no evaluation code), below its evaluate
        return 5.5, "evaluation"
    if top == "stages":
        if len(parts) == 1 or parts[1] in ("base", "view"):
            return 3, "stages"
        if parts[1] == "registry":
            return 7, "registry"
        room, leaf = parts[1], (parts[2] if len(parts) > 2 else "__init__")
        if leaf.startswith("evaluate"):
            return 6, room
        return (5 if leaf == "stage" else 4), room
    if top in ("pipeline", "engine"):  # engine: where pipeline's runs do their model work
        return 8, "pipeline"
    if top in APPLICATION:
        return 9, "application"
    if top == "cli":
        return 10, "cli"
    raise AssertionError(f"{module}: no layer; add it to tests/test_layers.py")


def imports(path: Path):
    """(line, imported module, names) for every import of the package in `path`."""
    here = module_of(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "autoknow_rdf":
                continue
            names = [a.name for a in node.names]
            submodules = [f"{target}.{n}" for n in names if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).exists()
                          or (PACKAGE.parent / (f"{target}.{n}".replace(".", "/") + ".py")).exists()]
            for t in submodules or [target]:
                yield node.lineno, t, [] if submodules else names
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "autoknow_rdf":
                    yield node.lineno, a.name, []


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    for path in MODULES:
        layer(module_of(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path: Path):
    module = module_of(path)
    rank, room = layer(module)
    wrong = []
    for line, target, names in imports(path):
        if target == module or target == "autoknow_rdf":
            continue
        their_rank, their_room = layer(target)
        where = f"{path.relative_to(PACKAGE.parent)}:{line}: imports {target}"
        if their_rank > rank or (their_rank == rank and their_room != room):
            wrong.append(f"{where} (a back-edge: layer {their_rank} {their_room} from layer {rank} {room})")
        if rank in (4, 5, 6) and their_rank in (4, 5, 6) and their_room != room:
            wrong.append(f"{where} (another stage's room)")
        if module.split(".")[1] in ("ml", "evaluation", "stages") and any(n.startswith("_") and n != "__version__" for n in names):
            wrong.append(f"{where} (a private name: {', '.join(n for n in names if n.startswith('_'))})")
        if room == "ml" and target.split(".")[1] in ("store", "queries", "ingest"):
            wrong.append(f"{where} (ml never sees the store)")
    assert not wrong, "\n".join(wrong)


def test_a_back_edge_is_caught(tmp_path):
    """The check can fail: a stage's model importing its stage is reported."""
    rank, room = layer("autoknow_rdf.stages.cleaning.model")
    their_rank, their_room = layer("autoknow_rdf.stages.cleaning.stage")
    assert their_rank > rank and room == their_room
    assert layer("autoknow_rdf.stages.cleaning.evaluate")[0] > layer("autoknow_rdf.stages.cleaning.stage")[0]
    assert layer("autoknow_rdf.ml.encoder")[0] < layer("autoknow_rdf.stages.view")[0]
