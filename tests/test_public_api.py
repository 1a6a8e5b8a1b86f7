"""``contagion.__all__`` is the public API and nothing else (issue 17.5).

The names are pinned here, so that adding or dropping a public name is a decision made in a diff; the fixed
names of DESIGN.md §4 must be among them; each resolves to an object defined in the package; ``import *`` and
``dir(contagion)`` (what a notebook's tab completion shows) give those names and not the helpers the package's
``__init__`` imports for itself (``TYPE_CHECKING``, ``import_module``, ``Any``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

import contagion

#: the public API of ``import contagion`` (README: Quickstart, A worked example, Development; DESIGN §4)
PUBLIC = (
    "__version__",
    # errors (DESIGN §3: the small exception tree)
    "ContagionError", "InvalidNetworkError", "ScenarioError", "ConvergenceError",
    # the network and its files
    "FinancialNetwork", "read_network", "write_network", "load_dataset", "list_datasets",
    # clearing: the registry, the two entry points and their results
    "CLEARING_METHODS", "clear", "clear_many", "ClearingResult", "BatchClearingResult",
    # scenarios and the one pipeline
    "Shock", "Scenario", "apply", "load_scenario", "find_scenario", "list_scenarios", "stress", "StressResult",
    # multi-year paths (DESIGN §7), reconstruction, sensitivities
    "clear_path", "PathResult", "reconstruct", "sensitivity",
)

#: DESIGN.md §4, "Names that are fixed (other code and checks rely on them)"
DESIGN_FIXED = ("FinancialNetwork", "load_dataset", "read_network", "clear", "clear_many")

#: what ``contagion/__init__.py`` imports for its own use and must not offer
HELPERS = ("TYPE_CHECKING", "Any", "import_module", "annotations", "ModuleType")


def test_all_is_exactly_the_public_api():
    assert len(contagion.__all__) == len(set(contagion.__all__))
    assert sorted(contagion.__all__) == sorted(PUBLIC)
    assert set(DESIGN_FIXED) <= set(contagion.__all__)
    assert not [n for n in contagion.__all__ if n.startswith("_") and n != "__version__"]


@pytest.mark.parametrize("name", [n for n in PUBLIC if n != "__version__"])
def test_each_public_name_is_the_packages_own_with_a_docstring(name):
    value = getattr(contagion, name)
    if isinstance(value, dict):                                    # CLEARING_METHODS: the registry (DESIGN §5.4)
        assert value and all(isinstance(k, str) for k in value)
        return
    module = value.__name__ if isinstance(value, types.ModuleType) else value.__module__
    assert module == "contagion" or module.startswith("contagion."), module
    assert (value.__doc__ or "").strip(), f"{name} has no docstring"


def test_the_version_is_a_version():
    parts = contagion.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


def test_star_import_and_dir_offer_only_the_public_api():
    # a fresh interpreter: nothing else imported yet, so dir() shows __all__, the dunders and 'errors' (imported
    # by __init__ for the exception tree); then every name resolves through `import *`
    code = ("import contagion, json\n"
            "before = [n for n in dir(contagion) if not n.startswith('__')]\n"
            "ns = {}\n"
            "exec('from contagion import *', ns)\n"
            "print(json.dumps([before, sorted(n for n in ns if n != '__builtins__')]))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    before, star = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(before) == sorted([n for n in PUBLIC if n != "__version__"] + ["errors"])
    assert star == sorted(PUBLIC)
    assert not set(HELPERS) & set(dir(contagion))
