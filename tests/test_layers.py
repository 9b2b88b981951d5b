"""The package's shape: the five layers import downwards only (ontology <- ingest <- kg <- assistant <- ui), the
benchmarks are imported by the CLI alone, and no module imports another module's private name."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ["ontology", "ingest", "kg", "assistant", "ui"]
PACKAGES = [*LAYERS, "bench"]


def modules():
    for pkg in PACKAGES:
        for path in sorted((REPO / pkg).rglob("*.py")):
            yield pkg, path


def imports_of(path: Path):
    """(top-level package imported, names imported) for every relative or ``failgraph.`` import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = path.relative_to(REPO).with_suffix("").parts
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = list(parts[:-node.level]) if node.level <= len(parts) else []
            target = base + (node.module.split(".") if node.module else [])
        elif node.module and node.module.startswith("failgraph."):
            target = node.module.split(".")[1:]
        else:
            continue
        if target:
            yield target[0], target, [a.name for a in node.names], node.lineno


def test_layers_import_downwards_only():
    upward = []
    for pkg, path in modules():
        for top, _, _, line in imports_of(path):
            if top not in PACKAGES or top == pkg:
                continue
            if top == "bench":
                if pkg != "ui":
                    upward.append(f"{path.relative_to(REPO)}:{line} imports bench")
            elif pkg in LAYERS and LAYERS.index(top) > LAYERS.index(pkg):
                upward.append(f"{path.relative_to(REPO)}:{line} ({pkg}) imports {top}")
    assert not upward, "\n".join(upward)


def test_no_module_imports_a_private_name_of_another():
    private = []
    for _, path in modules():
        for _, target, names, line in imports_of(path):
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    private.append(f"{path.relative_to(REPO)}:{line} imports {'.'.join(target)}.{name}")
    assert not private, "\n".join(private)


@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_package_is_installed_under_failgraph(pkg):
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"failgraph.{pkg}" = "{pkg}"' in text
