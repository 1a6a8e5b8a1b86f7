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

``--cold DRAWS`` measures the first job after a fresh install instead:
``contagion sweep --config ai-demand-uncertainty -n DRAWS`` with an empty
numba cache (``NUMBA_CACHE_DIR`` set to a new, empty folder: every kernel the
job uses is compiled, as after ``pip install``), then the same command again
with the cache it left (warm). ``--rounds`` pairs (cold, warm) run one after
the other, so load on a shared machine hits both alike; the medians and the
median of the per-pair ratios are reported (target: cold within 3x of warm at
100,000 draws), with the one-line compile notice the command printed.

    python scripts/bench_startup.py --cold 100000 --rounds 3
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


def _timed(argv: list[str], env: dict) -> dict:
    """Wall and CPU seconds of one child process (``os.wait4``), and its standard error."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"bench_startup: {' '.join(argv)} failed:\n{err[-2000:]}")
    return {"seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime, "stderr": err}


def cold_start(draws: int, rounds: int = 3, config: str = "ai-demand-uncertainty") -> dict:
    """``rounds`` pairs of (first run with an empty numba cache, warm run with the cache it left)."""
    import tempfile

    cmd = [sys.executable, "-m", "contagion", "sweep", "--config", config, "-n", str(draws), "-f", "json",
           "--no-progress"]
    pairs = []
    for _ in range(max(1, rounds)):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            cold = _timed(cmd, env)
            warm = _timed(cmd, env)
        pairs.append((cold, warm))
    notice = next((line for c, _ in pairs for line in c["stderr"].splitlines() if "compiling" in line), None)
    warm_notice = any("compiling" in w["stderr"] for _, w in pairs)
    med = statistics.median
    out = {"draws": draws, "rounds": len(pairs), "config": config,
           "cold_seconds": [c["seconds"] for c, _ in pairs], "warm_seconds": [w["seconds"] for _, w in pairs],
           "cold_cpu_seconds": [c["cpu_seconds"] for c, _ in pairs],
           "warm_cpu_seconds": [w["cpu_seconds"] for _, w in pairs],
           "ratio": med(c["seconds"] / w["seconds"] for c, w in pairs),
           "cpu_ratio": med(c["cpu_seconds"] / w["cpu_seconds"] for c, w in pairs),
           "notice": notice, "warm_run_compiled": warm_notice, "load": os.getloadavg()}
    print(f"cold start: contagion sweep --config {config} -n {draws:,}, {len(pairs)} pair(s) (empty numba cache, "
          f"then warm): cold {med(out['cold_seconds']):.1f} s wall / {med(out['cold_cpu_seconds']):.1f} s CPU, "
          f"warm {med(out['warm_seconds']):.1f} s / {med(out['warm_cpu_seconds']):.1f} s; cold/warm "
          f"{out['ratio']:.2f}x wall, {out['cpu_ratio']:.2f}x CPU (median of the pairs; load average "
          f"{'/'.join(f'{x:.1f}' for x in out['load'])})")
    print(f"notice printed: {notice or '(none)'}" + ("; the warm run compiled again (cache not used)"
                                                     if warm_notice else ""))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--repeats", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--cold", type=int, default=0, metavar="DRAWS",
                        help="instead: the first sweep of DRAWS draws after a fresh install (empty numba cache) "
                             "against a warm one")
    parser.add_argument("--rounds", type=int, default=3, help="(cold, warm) pairs for --cold (default 3)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.cold:
        data = cold_start(args.cold, args.rounds)
        if args.json:
            print(json.dumps(data, indent=2))
        return 0
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
