"""Start-up stays light: ``import contagion``, ``contagion --help`` and ``contagion datasets``
load none of the heavy packages until a name that needs them is used.

What is checked is which modules a fresh interpreter has imported, not how long
it took (timings are measured by ``scripts/bench_startup.py``, never asserted).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: packages that must wait until they are used (DESIGN §5.7)
HEAVY = ("pandas", "scipy", "numba", "pyvis", "jinja2", "matplotlib",
         "networkx", "igraph", "rich", "pydantic", "yaml", "dask")

#: what the listing commands must not load either (rich draws their tables; numpy may convert JSON)
CLI_HEAVY = ("pandas", "scipy", "numba", "pyvis", "jinja2", "matplotlib", "networkx", "igraph", "pydantic", "dask")


def _loaded_after(code: str) -> set[str]:
    """Names in ``sys.modules`` of a fresh interpreter after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _packages(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_import_contagion_loads_no_heavy_package():
    loaded = _loaded_after("import contagion")
    assert "contagion" in loaded
    assert sorted(_packages(loaded) & set(HEAVY)) == []
    assert "numpy" not in loaded
    assert sorted(m for m in loaded if m.startswith("contagion.")) == ["contagion.errors"]


def test_public_names_are_listed_and_resolve_on_first_use():
    code = ("import contagion, sys\n"
            "listed = set(contagion.__all__) <= set(dir(contagion))\n"
            "before = 'pandas' in sys.modules\n"
            "import numpy as np\n"
            "L = np.array([[0.0, 2.0], [1.0, 0.0]])\n"
            "net = contagion.FinancialNetwork.from_matrix(L, external_assets=np.array([1.0, 0.5]))\n"
            "res = contagion.clear(net)\n"
            "print(listed, before, 'pandas' in sys.modules, [round(float(p), 6) for p in res.payments],"
            " res.defaulted.tolist())")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    # 0 owes 2 and holds 1 + 1 received: pays 2 in full; 1 owes 1 and holds 0.5 + 2: pays 1 in full
    assert out.stdout.strip().splitlines()[-1] == "True False True [2.0, 1.0] [False, False]"


def test_unknown_name_is_an_attribute_error():
    import contagion

    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        contagion.no_such_name  # noqa: B018


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["datasets"], ["datasets", "-f", "json"]])
def test_cli_listing_commands_load_no_heavy_package(args):
    loaded = _loaded_after("import sys\nfrom contagion.cli import cli\n"
                           f"try:\n    cli.main(args={args!r}, prog_name='contagion')\n"
                           "except SystemExit as exc:\n    assert not exc.code, exc.code")
    assert sorted(_packages(loaded) & set(CLI_HEAVY)) == []
    assert "contagion.clearing" not in loaded and "contagion.network" not in loaded
    if args[-1] != "json":  # JSON output may convert numpy scalars
        assert "numpy" not in loaded


def test_reading_a_large_network_imports_numba_in_the_background_a_small_one_not_at_all(tmp_path):
    """Reading a large edge file starts the import of numba in a thread while Arrow reads (contagion._matrix
    .warm_up); the threshold is lowered here so that a small file counts as large."""
    pytest.importorskip("numba")
    import contagion

    folder = contagion.write_network(contagion.load_dataset("chain"), tmp_path / "chain")
    code = (f"import threading, contagion.io._tables as T\n"
            f"from contagion.io import read_network\n"
            f"{{}}\n"
            f"read_network({str(folder)!r})\n"
            f"names = [t.name for t in threading.enumerate()]\n"
            f"from contagion import _matrix\n"
            f"[t.join() for t in _matrix._warming]\n")
    small = _loaded_after(code.format("pass"))
    assert "numba" not in _packages(small)
    large = _loaded_after(code.format("T.WARM_UP_MIN_BYTES = 1"))
    assert "numba" in _packages(large) and "contagion._text_kernels" in large
