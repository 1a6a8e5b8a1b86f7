#!/usr/bin/env python
"""Start-up time of ``contagion``: the import and the command line, against ``import click``.

Run ``python scripts/bench_startup.py`` (about 10 s with the default 15 repeats),
``--repeats N`` to change the number of runs, ``--json`` for machine-readable
output. Not a test: nothing here asserts a time.

What is measured, each in a fresh subprocess, ``N`` times, the median wall-clock
time reported with its ratio to the baseline:

- **baseline**: ``python -c "import click"`` (the interpreter plus click: the
  floor any click command line pays);
- ``python -c "import contagion"``;
- ``contagion --help`` and ``contagion datasets`` (the installed console script);
- ``python -m contagion --version``.

The interpreter is this script's ``sys.executable`` and the console script is
the one installed next to it, called directly, so that a version manager's shim
(pyenv's is a shell script, ~0.1-0.2 s) does not enter the numbers. Runs are
interleaved (one of each command per round), so a load spike on a shared
machine hits every command alike rather than one.

Also listed: which heavy modules (pandas, scipy, numba, pyvis, jinja2,
matplotlib, networkx, igraph, rich, pydantic, yaml, dask) a bare
``import contagion`` loads; the target is none.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HEAVY = ("pandas", "scipy", "numba", "pyvis", "jinja2", "matplotlib",
         "networkx", "igraph", "rich", "pydantic", "yaml", "dask")


def _console_script() -> list[str]:
    """The installed ``contagion`` script run by this interpreter, bypassing shims."""
    scripts = Path(sysconfig.get_path("scripts"))
    for name in ("contagion", "contagion.exe"):
        path = scripts / name
        if path.exists():
            return [str(path)]
    found = shutil.which("contagion")
    if found is None:
        raise SystemExit("bench_startup: the console script 'contagion' is not installed "
                         "(pip install -e .)")
    return [found]


def commands() -> dict[str, list[str]]:
    """Name -> argv of every command timed, the baseline first."""
    py = sys.executable
    script = _console_script()
    return {
        "python -c 'import click'": [py, "-c", "import click"],
        "python -c 'import contagion'": [py, "-c", "import contagion"],
        "contagion --help": [*script, "--help"],
        "contagion datasets": [*script, "datasets"],
        "python -m contagion --version": [py, "-m", "contagion", "--version"],
    }


def _run_once(argv: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench_startup: {' '.join(argv)} exited {proc.returncode}: "
                         f"{proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def heavy_modules() -> list[str]:
    """Heavy top-level packages present in ``sys.modules`` after ``import contagion``."""
    code = ("import contagion, sys; heavy = %r; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))" % (HEAVY,))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.split()


def measure(repeats: int) -> dict:
    """Median seconds per command over ``repeats`` interleaved rounds, after one warm-up round."""
    cmds = commands()
    for argv in cmds.values():  # warm the file cache and any bytecode compilation
        _run_once(argv)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, argv in cmds.items():
            times[name].append(_run_once(argv))
    baseline_name = next(iter(cmds))
    base = statistics.median(times[baseline_name])
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append({"command": name, "median_s": med, "min_s": min(ts), "max_s": max(ts),
                     "ratio": med / base})
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "repeats": repeats,
        "baseline": baseline_name,
        "results": rows,
        "heavy_modules_on_import": heavy_modules(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--repeats", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    data = measure(args.repeats)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"python {data['python']} ({data['executable']}), median of {data['repeats']} runs")
    print(f"{'command':<32} {'median s':>9} {'min s':>7} {'max s':>7} {'x baseline':>11}")
    for row in data["results"]:
        print(f"{row['command']:<32} {row['median_s']:9.3f} {row['min_s']:7.3f} "
              f"{row['max_s']:7.3f} {row['ratio']:11.1f}")
    heavy = data["heavy_modules_on_import"]
    print("heavy modules loaded by 'import contagion':", ", ".join(heavy) if heavy else "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
