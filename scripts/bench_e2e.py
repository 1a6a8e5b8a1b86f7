#!/usr/bin/env python
"""End to end, files in and answer out: ``contagion run DIR -f csv -o out.csv`` against a plain pandas + scipy script.

Builds a random network (ids ``n0``, ``n1``, ...; nodes carry name, type,
outside assets and liabilities; obligations a kind; the generator of
``scripts/bench_read.py``) as a CSV directory and a Parquet directory in a
temporary folder, then runs each side in a fresh Python process and reports
its wall time (process start to exit, imports included, the package's modules
compiled to bytecode first as an install would) and its peak resident memory
(``ru_maxrss`` of that child, from ``os.wait4``):

- **contagion**: ``contagion run DIR --baseline -f csv -o out.csv`` (read and
  validate both files, build ``L``, ``Pi``, ``Pi.T``, clear Eisenberg--Noe with
  default waves and the uniqueness flag, write the per-institution table);
- **plain**: the script in :data:`PLAIN`: ``pandas.read_csv`` (or
  ``pandas.read_parquet``) of both files, ids mapped to positions with a pandas
  index, a scipy CSR ``L`` and ``Pi.T``, Picard iteration from ``p = pbar`` to
  the same tolerance (largest change ``<= 1e-12 * max(pbar)``), and the same
  table written with ``DataFrame.to_csv``. It validates nothing;
- **before** (with ``--before DIR``): ``contagion run`` from an earlier source
  tree, e.g. ``git archive 8a74391 | tar -x -C DIR`` (run with ``PYTHONPATH=DIR``
  from a folder without a ``contagion`` package, so that tree is imported).

The machine may be busy (other jobs on the same cores): the sides run
interleaved -- one of each per round, ``--repeat`` rounds -- so that a load
spike hits every side alike, and the medians are reported. Ratios are
contagion / plain of those medians, measured in the same run (the target: time
<= 1.0x, peak memory <= 1.5x), with the range of the per-round ratios; the
load average before and after is printed with them. Both outputs are compared
(payments agree to 1e-9 of the largest obligation; a ``before`` output must be
the same bytes as contagion's when both ran with one thread, and agree to
1e-9 otherwise). Not a test; ``--quick`` is the small smoke run CI can afford
(no timing assertions anywhere).

    python scripts/bench_e2e.py                      # 1e5 institutions / 1e6 obligations, CSV and Parquet
    python scripts/bench_e2e.py --repeat 5 --before /tmp/contagion-before
    python scripts/bench_e2e.py --nodes 1e6 --edges 1e7 --no-plain --repeat 1
    python scripts/bench_e2e.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

#: The plain pandas + scipy script: argv = network directory, format (csv|parquet), output file.
PLAIN = r"""
import sys
import numpy as np, pandas as pd, scipy.sparse as sp
folder, fmt, out = sys.argv[1], sys.argv[2], sys.argv[3]
if fmt == "csv":
    nodes = pd.read_csv(folder + "/nodes.csv")
    edges = pd.read_csv(folder + "/edges.csv")
else:
    nodes = pd.read_parquet(folder + "/nodes.parquet")
    edges = pd.read_parquet(folder + "/edges.parquet")
ids = pd.Index(nodes["id"])
n = len(ids)
di, ci = ids.get_indexer(edges["debtor"]), ids.get_indexer(edges["creditor"])
L = sp.csr_array((edges["amount"].to_numpy(np.float64), (di, ci)), shape=(n, n))
e = nodes["external_assets"].to_numpy(np.float64)
ext = nodes["external_liabilities"].to_numpy(np.float64)
pbar = L.sum(axis=1) + ext
safe = np.where(pbar > 0, pbar, 1.0)
PiT = sp.csr_array((sp.diags_array(1.0 / safe) @ L).T)
received_full = PiT @ pbar
p, tol = pbar.copy(), 1e-12 * pbar.max()
while True:
    q = np.minimum(pbar, np.maximum(0.0, e + PiT @ p))
    change = np.abs(q - p).max()
    p = q
    if change <= tol:
        break
equity = e + PiT @ p - pbar
pre = e + received_full - pbar
defaulted = e + PiT @ p < pbar
pd.DataFrame({"id": nodes["id"], "name": nodes["name"], "type": nodes["type"], "obligations": pbar, "payment": p,
              "shortfall": pbar - p, "equity_pre_shock": pre, "equity_if_all_pay": pre, "equity": equity,
              "capital_depletion": np.where(pre > 0, np.clip((pre - equity) / np.where(pre > 0, pre, 1), 0, 1), np.nan),
              "defaulted": defaulted, "default_round": np.where(defaulted, 1, -1)}).to_csv(out, index=False)
"""


def measured(argv: list[str], env: dict | None = None, cwd: str | None = None) -> dict:
    """Run ``argv`` in a fresh process: wall seconds (start to exit) and that child's peak RSS (``os.wait4``)."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv[:6])} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_bytes": usage.ru_maxrss * 1024,
            "stderr": err.decode()}


#: Busy machine: ``clear`` on a core-periphery network (argv: institutions, repeats) quiet, then with one
#: busy-loop process per ``--busy`` core, for the automatic thread count and for 1 and 2 threads forced.
BUSY = r"""
import json, os, subprocess, sys, time
import numpy as np
import contagion
from contagion import generators
from contagion._matrix import busy_cores, thread_count
n, repeat, hogs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
net = generators.make_network("core-periphery", n, regime="hard")
e = net.external_assets.copy()
e[np.random.default_rng(1).choice(n, n * 3 // 100, replace=False)] = 0.0   # a random 3% lose their outside assets
net = net.replace(external_assets=e)
net.PiT
contagion.clear(net)                       # load the compiled code

def timed(threads):
    if threads:
        os.environ["CONTAGION_THREADS"] = str(threads)
    else:
        os.environ.pop("CONTAGION_THREADS", None)
    best, used = 1e9, 0
    for _ in range(repeat):
        t = time.perf_counter()
        res = contagion.clear(net)
        best = min(best, time.perf_counter() - t)
        used = max(used, thread_count())
    return {"seconds": best, "threads": used if not threads else threads}

out = {"n": n, "obligations": int(net.liabilities.nnz), "defaulted": int(contagion.clear(net).defaulted.sum())}
out["quiet"] = {"busy_cores_seen": busy_cores(), **{k: timed(t) for k, t in (("auto", 0), ("one", 1), ("two", 2))}}
procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
time.sleep(1.0)
try:
    out["loaded"] = {"busy_cores_seen": busy_cores(), **{k: timed(t) for k, t in (("auto", 0), ("one", 1), ("two", 2))}}
finally:
    for p in procs:
        p.kill()
print(json.dumps(out))
"""


def busy(n: int, repeat: int, hogs: int) -> dict:
    """Run :data:`BUSY` in a fresh process; print quiet and loaded times and their ratios."""
    proc = subprocess.run([sys.executable, "-c", BUSY, str(n), str(repeat), str(hogs)], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"busy-machine run failed:\n{proc.stderr[-3000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    q, l = r["quiet"], r["loaded"]
    print(f"# busy machine: clear on core-periphery, {r['n']:,} institutions, {r['obligations']:,} obligations, "
          f"{r['defaulted']:,} defaulted; best of {repeat}; {hogs} busy-loop process(es)")
    for k in ("auto", "one", "two"):
        print(f"{k:5s} quiet {q[k]['seconds']:.3f} s ({q[k]['threads']} thr)   loaded {l[k]['seconds']:.3f} s "
              f"({l[k]['threads']} thr)   loaded / quiet auto {l[k]['seconds'] / q['auto']['seconds']:.2f}x")
    print(f"busy cores seen: quiet {q['busy_cores_seen']}, loaded {l['busy_cores_seen']}")
    return r


def cold(draws: int, config: str, rounds: int) -> dict:
    """Cold start (see :func:`bench_startup.cold_start`): pairs of a first run with an empty numba cache and a
    warm run."""
    from bench_startup import cold_start

    return cold_start(draws, rounds, config)


def compare(a: Path, b: Path) -> float:
    """Largest difference of the payments of two output tables, relative to the largest obligation (read
    with the csv module: this process stays small, see :func:`bench_read.build_in_child`)."""
    import csv

    def table(path: Path) -> dict:
        with open(path, newline="") as fh:
            return {r["id"].lstrip("'"): (float(r["payment"]), float(r["obligations"])) for r in csv.DictReader(fh)}

    x, y = table(a), table(b)
    top = max(o for _, o in x.values())
    return max(abs(p - y[k][0]) for k, (p, _) in x.items()) / top


def machine() -> dict:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {"cpus": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)), "cpu": model,
            "python": platform.python_version(), "pandas": version("pandas"), "pyarrow": version("pyarrow"),
            "numba": version("numba"), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                                            / 1e9, 1)}


def bytecode(package: Path) -> None:
    """Compile ``package``'s modules to bytecode, as ``pip install`` does: a source tree run with
    ``PYTHONDONTWRITEBYTECODE`` set (as on some CI machines) would compile ~50 modules from source in every
    process (~0.1 s of each run)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def _load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on this platform
        return "n/a"


def end_to_end(folder: Path, fmt: str, tmp: Path, repeat: int, plain: bool, before: Path | None) -> dict:
    """Run the sides interleaved ``repeat`` times on one network folder; medians, ratios, agreement."""
    run = ["-m", "contagion", "run", str(folder), "--baseline", "-f", "csv", "-o"]
    sides: dict[str, tuple[list[str], dict | None]] = {"contagion": ([sys.executable, *run], None)}
    if plain:
        sides["plain"] = ([sys.executable, "-c", PLAIN, str(folder), fmt], None)
    if before is not None:
        sides["before"] = ([sys.executable, *run], {**os.environ, "PYTHONPATH": str(before)})
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    load_before = _load()
    for k in range(repeat):
        for side, (cmd, env) in sides.items():
            runs[side].append(measured([*cmd, str(tmp / f"{side}-{fmt}.csv")], env, cwd=str(tmp)))
    row: dict = {"format": fmt, "repeat": repeat, "load_before": load_before, "load_after": _load()}
    for side, rs in runs.items():
        row[side] = {"seconds": statistics.median(r["seconds"] for r in rs),
                     "peak_bytes": statistics.median(r["peak_bytes"] for r in rs),
                     "all_seconds": [r["seconds"] for r in rs], "all_peak_bytes": [r["peak_bytes"] for r in rs]}
    for other in ("plain", "before"):
        if other in row:
            c, o = row["contagion"], row[other]
            row[f"time_ratio_{other}"] = c["seconds"] / o["seconds"]
            row[f"memory_ratio_{other}"] = c["peak_bytes"] / o["peak_bytes"]
            per = [a / b for a, b in zip(c["all_seconds"], o["all_seconds"])]
            row[f"time_ratio_{other}_range"] = [min(per), max(per)]
            row[f"payment_difference_{other}"] = compare(tmp / f"contagion-{fmt}.csv", tmp / f"{other}-{fmt}.csv")
    if "before" in row:
        row["same_bytes_as_before"] = ((tmp / f"contagion-{fmt}.csv").read_bytes()
                                       == (tmp / f"before-{fmt}.csv").read_bytes())
    return row


def _print_row(row: dict) -> None:
    c = row["contagion"]
    print(f"{row['format']:8s} contagion {c['seconds']:6.2f} s {c['peak_bytes'] / 1e6:6.0f} MB", end="")
    for other in ("plain", "before"):
        if other in row:
            o = row[other]
            lo, hi = row[f"time_ratio_{other}_range"]
            print(f"   {other} {o['seconds']:6.2f} s {o['peak_bytes'] / 1e6:6.0f} MB: time {row[f'time_ratio_{other}']:.2f}x "
                  f"({lo:.2f}-{hi:.2f}) memory {row[f'memory_ratio_{other}']:.2f}x, payments agree to "
                  f"{row[f'payment_difference_{other}']:.1e}", end="")
    if "same_bytes_as_before" in row:
        print(f"   output {'identical to' if row['same_bytes_as_before'] else 'differs from'} before", end="")
    print(f"   (median of {row['repeat']}, load {row['load_before']} -> {row['load_after']})", flush=True)


def main(argv: list[str] | None = None) -> int:
    from bench_read import build_in_child

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=float, default=1e5, help="institutions (default 1e5)")
    ap.add_argument("--edges", type=float, default=1e6, help="obligations (default 1e6)")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3; medians are reported)")
    ap.add_argument("--no-plain", action="store_true", help="only contagion (large sizes)")
    ap.add_argument("--before", default=None, metavar="DIR",
                    help="also time 'contagion run' from this earlier source tree (PYTHONPATH=DIR)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2,000 institutions, 20,000 obligations")
    ap.add_argument("--dir", default=None, help="where to write the files (default: a temporary folder)")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    ap.add_argument("--busy", type=float, default=0, metavar="N",
                    help="also the busy-machine run: clear on an N-institution core-periphery network (2e5 in the "
                         "README), quiet and with one core busy")
    ap.add_argument("--hogs", type=int, default=1, help="busy-loop processes for --busy (default 1)")
    ap.add_argument("--cold", type=float, default=0, metavar="DRAWS",
                    help="also the cold-start run: contagion sweep --config ai-demand-uncertainty -n DRAWS "
                         "(1e5 in the README) with an empty numba cache, then warm")
    ap.add_argument("--skip-e2e", action="store_true", help="only --busy / --cold")
    args = ap.parse_args(argv)
    extra: dict = {}
    if args.busy:
        extra["busy"] = busy(int(args.busy), 3 if args.quick else 5, args.hogs)
    if args.cold:
        extra["cold"] = cold(int(args.cold), "ai-demand-uncertainty", 1 if args.quick else 3)
    if args.skip_e2e:
        if args.json:
            Path(args.json).write_text(json.dumps({"machine": machine(), **extra}, indent=2))
        return 0
    n, m = (2000, 20_000) if args.quick else (int(args.nodes), int(args.edges))
    repeat = 1 if args.quick else max(1, args.repeat)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    info = machine()
    print(f"# end to end: {n:,} institutions, {m:,} obligations; {info['cpu']} ({info['usable_cpus']} usable of "
          f"{info['cpus']} cpus), python {info['python']}, pandas {info['pandas']}, pyarrow {info['pyarrow']}, "
          f"numba {info['numba']}; load average {_load()}", flush=True)
    results = []
    before = Path(args.before).resolve() if args.before else None
    for tree in (ROOT, before):
        if tree is not None:
            bytecode(tree / "contagion")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        paths = build_in_child(Path(tmp), n, m, formats)
        for fmt, folder in paths.items():
            row = end_to_end(folder, fmt, Path(tmp), repeat, not args.no_plain, before)
            results.append(row)
            _print_row(row)
            for other in ("plain", "before"):
                if row.get(f"payment_difference_{other}", 0.0) > 1e-9:
                    raise SystemExit(f"the answers of contagion and {other} differ "
                                     f"({row[f'payment_difference_{other}']:.3g})")
    if args.json:
        Path(args.json).write_text(json.dumps({"nodes": n, "edges": m, "machine": info, "results": results, **extra},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
