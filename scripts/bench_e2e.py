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
    return {"seconds": seconds, "peak_bytes": usage.ru_maxrss * 1024, "stderr": err.decode()}


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
    args = ap.parse_args(argv)
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
        Path(args.json).write_text(json.dumps({"nodes": n, "edges": m, "machine": info, "results": results},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
