"""Every docstring example in the package runs, found automatically: each module of ``failgraph`` that has examples
is one test (no hand-kept list to forget a module in)."""

import doctest
import importlib
import pkgutil

import pytest

#: The installed packages (the editable install's ``failgraph`` namespace cannot be walked itself).
PACKAGES = ["ontology", "ingest", "kg", "assistant", "ui", "bench"]
#: Modules that cannot be imported as a library: the Streamlit script runs its page on import.
NOT_IMPORTABLE = {"failgraph.ui.app"}


def modules_with_examples() -> list[str]:
    names = []
    for pkg in PACKAGES:
        top = importlib.import_module(f"failgraph.{pkg}")
        infos = [f"failgraph.{pkg}", *(i.name for i in pkgutil.walk_packages(top.__path__, f"failgraph.{pkg}."))]
        for name in infos:
            if name in NOT_IMPORTABLE:
                continue
            if any(t.examples for t in doctest.DocTestFinder().find(importlib.import_module(name))):
                names.append(name)
    return names


MODULES = modules_with_examples()


def test_examples_are_found_across_the_layers():
    layers = {name.split(".")[1] for name in MODULES}
    assert {"ontology", "ingest", "kg", "assistant", "ui"} <= layers, layers


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
