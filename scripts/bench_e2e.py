#!/usr/bin/env python
"""End to end, files in and answer out: ``contagion run DIR -f csv -o out.csv`` against a plain pandas + scipy script.

Builds a random network (ids ``n0``, ``n1``, ...; nodes carry name, type,
outside assets and liabilities; obligations a kind; the generator of
``scripts/bench_read.py``) as a CSV directory and a Parquet directory in a
temporary folder, then runs each side in a fresh Python process and reports
its wall time (process start to exit, imports included) and its peak resident
memory (``ru_maxrss`` of that child, from ``os.wait4``):

- **contagion**: ``contagion run DIR --baseline -f csv -o out.csv`` (read and
  validate both files, build ``L``, ``Pi``, ``Pi.T``, clear Eisenberg--Noe with
  default waves and the uniqueness flag, write the per-institution table);
- **plain**: the script in :data:`PLAIN`: ``pandas.read_csv`` (or
  ``pandas.read_parquet``) of both files, ids mapped to positions with a pandas
  index, a scipy CSR ``L`` and ``Pi.T``, Picard iteration from ``p = pbar`` to
  the same tolerance (largest change ``<= 1e-12 * max(pbar)``), and the same
  table written with ``DataFrame.to_csv``. It validates nothing.

Ratios are contagion / plain, measured in the same run (the target: time
<= 1.0x, peak memory <= 1.5x). Both outputs are compared (payments agree to
1e-9 of the largest obligation). Not a test; ``--quick`` is the small smoke
run CI can afford (no timing assertions anywhere).

    python scripts/bench_e2e.py                      # 1e5 institutions / 1e6 obligations, CSV and Parquet
    python scripts/bench_e2e.py --nodes 1e6 --edges 1e7
    python scripts/bench_e2e.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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


def measured(argv: list[str], env: dict | None = None) -> dict:
    """Run ``argv`` in a fresh process: wall seconds (start to exit) and that child's peak RSS (``os.wait4``)."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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


#: Cold start: one ``contagion sweep`` in a fresh process with an empty numba cache, then warm runs.
def cold(draws: int, config: str, warm_runs: int) -> dict:
    """First run after clearing the cache (``NUMBA_CACHE_DIR`` set to a new empty folder) against warm runs."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cmd = [sys.executable, "-m", "contagion", "sweep", "--config", config, "-n", str(draws), "-f", "json"]
        first = measured(cmd, env)
        warm = [measured(cmd, env) for _ in range(max(1, warm_runs))]
    best = min(w["seconds"] for w in warm)
    best_cpu = min(w["cpu_seconds"] for w in warm)
    notice = [line for line in first["stderr"].splitlines() if "compiling" in line]
    print(f"# cold start: contagion sweep --config {config} -n {draws:,}: first run (empty cache) "
          f"{first['seconds']:.1f} s wall / {first['cpu_seconds']:.1f} s CPU, warm {best:.1f} s / {best_cpu:.1f} s "
          f"(best of {len(warm)}), ratio {first['seconds'] / best:.2f}x wall, {first['cpu_seconds'] / best_cpu:.2f}x "
          f"CPU; notice: {notice[0] if notice else '(none)'}")
    return {"first_seconds": first["seconds"], "first_cpu_seconds": first["cpu_seconds"],
            "warm_seconds": [w["seconds"] for w in warm], "warm_cpu_seconds": [w["cpu_seconds"] for w in warm],
            "ratio": first["seconds"] / best, "cpu_ratio": first["cpu_seconds"] / best_cpu, "notice": notice}


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


def main(argv: list[str] | None = None) -> int:
    from bench_read import build_in_child

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=float, default=1e5, help="institutions (default 1e5)")
    ap.add_argument("--edges", type=float, default=1e6, help="obligations (default 1e6)")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each side (the best is kept)")
    ap.add_argument("--no-plain", action="store_true", help="only contagion (large sizes)")
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
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    info = machine()
    print(f"# end to end: {n:,} institutions, {m:,} obligations; {info['cpu']} ({info['usable_cpus']} usable of "
          f"{info['cpus']} cpus), python {info['python']}, pandas {info['pandas']}, pyarrow {info['pyarrow']}",
          flush=True)
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        paths = build_in_child(Path(tmp), n, m, formats)
        for fmt, folder in paths.items():
            row: dict = {"format": fmt}
            sides = {"contagion": lambda out: [sys.executable, "-m", "contagion", "run", str(folder), "--baseline",
                                               "-f", "csv", "-o", str(out)]}
            if not args.no_plain:
                sides["plain"] = lambda out: [sys.executable, "-c", PLAIN, str(folder), fmt, str(out)]
            for side, cmd in sides.items():
                out = Path(tmp) / f"{side}-{fmt}.csv"
                best = min((measured(cmd(out)) for _ in range(max(1, args.repeat))), key=lambda r: r["seconds"])
                row[side] = {"seconds": best["seconds"], "peak_bytes": best["peak_bytes"]}
            if "plain" in row:
                row["time_ratio"] = row["contagion"]["seconds"] / row["plain"]["seconds"]
                row["memory_ratio"] = row["contagion"]["peak_bytes"] / row["plain"]["peak_bytes"]
                row["payment_difference"] = compare(Path(tmp) / f"contagion-{fmt}.csv", Path(tmp) / f"plain-{fmt}.csv")
            results.append(row)
            c = row["contagion"]
            line = f"{fmt:8s} contagion {c['seconds']:6.2f} s {c['peak_bytes'] / 1e6:7.0f} MB"
            if "plain" in row:
                p = row["plain"]
                line += (f"   plain {p['seconds']:6.2f} s {p['peak_bytes'] / 1e6:7.0f} MB   ratio time "
                         f"{row['time_ratio']:.2f}x memory {row['memory_ratio']:.2f}x   payments agree to "
                         f"{row['payment_difference']:.1e}")
                if row["payment_difference"] > 1e-9:
                    raise SystemExit(f"the two answers differ ({row['payment_difference']:.3g})")
            print(line, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"nodes": n, "edges": m, "machine": info, "results": results, **extra},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
