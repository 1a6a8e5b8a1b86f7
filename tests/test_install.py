"""A non-editable install ships the built-in datasets (``graphs/`` -> ``contagion/graphs``).

The checkout is copied (without build artefacts, so the checkout itself is
left untouched), built and installed with ``pip install --no-deps
--no-build-isolation --target DIR`` (no network access: setuptools and wheel
come from the test environment), then imported in a fresh interpreter whose
``sys.path`` starts with DIR and whose working directory is elsewhere, so the
editable install and the checkout cannot be what answers. Takes ~5-10 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: top-level entries of the checkout that are not part of the package build
NOT_BUILT = {".git", "build", "dist", "tests", "scripts", ".ci", ".pytest_cache", ".hypothesis", ".benchmarks",
             ".venv", "venv", "node_modules"}


def _copy_checkout(dest: Path) -> Path:
    dest.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in NOT_BUILT or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(entry, dest / entry.name)
    return dest


CHECK = """
import json, sys
sys.path.insert(0, sys.argv[1])
import contagion
from contagion.datasets import graphs_root, list_datasets
net = contagion.load_dataset("chain")
print(json.dumps({"module": contagion.__file__, "graphs": str(graphs_root()), "names": list(net.names),
                  "pbar": net.total_obligations.tolist(), "datasets": sorted(list_datasets())}))
"""


@pytest.mark.slow
def test_non_editable_install_ships_the_datasets(tmp_path):
    src = _copy_checkout(tmp_path / "src")
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "--disable-pip-version-check", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-I", "-c", CHECK, str(target)], cwd=elsewhere, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert Path(got["module"]).resolve().is_relative_to(target.resolve())
    assert Path(got["graphs"]).resolve() == (target / "contagion" / "graphs").resolve()
    assert got["names"] == ["A", "B", "C"] and got["pbar"] == [10.0, 15.0, 8.0]
    # every dataset file of the checkout is in the installed package (csv, README, scenarios, dataset.toml, ...)
    shipped = {p.relative_to(src / "graphs") for p in (src / "graphs").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    installed = {p.relative_to(target / "contagion" / "graphs") for p in (target / "contagion" / "graphs").rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
    assert shipped - installed == set()
    assert set(got["datasets"]) == {p.parent.name for p in (src / "graphs").glob("*/nodes.csv")}
