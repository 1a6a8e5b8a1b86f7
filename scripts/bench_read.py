"""Time and peak memory of reading a large network with ``contagion.read_network`` (CSV and Parquet).

Builds a random network (default: 1,000,000 institutions and 10,000,000
obligations, no self-loops, ids ``n0``, ``n1``, ...; nodes carry name, type
and outside assets, obligations a kind) as a CSV directory and a Parquet
directory, then reads each one in a fresh Python process and reports the
wall time of ``read_network`` and the process's peak resident memory
(``ru_maxrss``), with the memory the process held just before reading (the
interpreter, numpy, pandas, contagion). Not a test: it takes minutes and
several GB; run it on a quiet machine.

The machine may be busy: with ``--repeat N`` each format is read N times,
interleaved with the reads of an earlier source tree given by ``--before DIR``
(``git archive <commit> | tar -x -C DIR``; imported with ``PYTHONPATH=DIR``
from a folder without a ``contagion`` package), and medians are reported with
the load average.

    python scripts/bench_read.py                       # 1e6 institutions, 1e7 obligations
    python scripts/bench_read.py --repeat 3 --before /tmp/contagion-before
    python scripts/bench_read.py --nodes 1e4 --edges 1e5 --formats csv
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import contagion
from contagion.io import read_network
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
net = read_network(sys.argv[1])
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak, "before_kb": before, "n": net.n, "edges": net.n_edges}))
"""


def build(folder: Path, n: int, m: int, formats: list[str], seed: int = 0) -> dict[str, Path]:
    """Write the network in each format with pyarrow (fast), return ``{format: path}``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    ids = pc.binary_join_element_wise("n", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    debtor = rng.integers(0, n, m)
    creditor = (debtor + rng.integers(1, n, m)) % n
    types = np.array(["bank", "fund", "insurer", "company"])
    kinds = np.array(["loan", "bond", "repo", "lease"])
    nodes = pa.table({"id": ids, "name": pc.binary_join_element_wise("Institution ", ids, ""),
                      "type": pa.array(types[rng.integers(0, 4, n)]),
                      "external_assets": pa.array(np.round(rng.lognormal(3, 1, n), 6)),
                      "external_liabilities": pa.array(np.round(rng.lognormal(2, 1, n), 6))})
    edges = pa.table({"debtor": pc.take(ids, pa.array(debtor)), "creditor": pc.take(ids, pa.array(creditor)),
                      "amount": pa.array(np.round(rng.lognormal(1, 1, m), 6)),
                      "kind": pa.array(kinds[rng.integers(0, 4, m)])})
    out = {}
    if "csv" in formats:
        import pyarrow.csv as pcsv

        d = folder / "net-csv"
        d.mkdir()
        opts = pcsv.WriteOptions(quoting_style="none")
        pcsv.write_csv(nodes, d / "nodes.csv", opts)
        pcsv.write_csv(edges, d / "edges.csv", opts)
        out["csv"] = d
    if "parquet" in formats:
        import pyarrow.parquet as pq

        d = folder / "net.parquet"
        d.mkdir()
        pq.write_table(nodes, d / "nodes.parquet")
        pq.write_table(edges, d / "edges.parquet")
        out["parquet"] = d
    return out


def build_in_child(folder: Path, n: int, m: int, formats: list[str]) -> dict[str, Path]:
    """:func:`build` in a child process, so that this process stays small: a child's peak RSS
    (``ru_maxrss``) starts from its parent's resident size at ``fork``, which would inflate every reading."""
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); from bench_read import build; "
            f"from pathlib import Path; build(Path({str(folder)!r}), {n}, {m}, {formats!r})")
    subprocess.run([sys.executable, "-c", code], check=True)
    names = {"csv": folder / "net-csv", "parquet": folder / "net.parquet"}
    return {f: names[f] for f in formats}


def measure(path: Path, before: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(before)} if before else None
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env,
                          cwd=str(path.parent))
    if proc.returncode != 0:
        raise SystemExit(f"reading {path} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=float, default=1e6, help="institutions (default 1e6)")
    ap.add_argument("--edges", type=float, default=1e7, help="obligations (default 1e7)")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--dir", default=None, help="where to write the files (default: a temporary folder)")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    ap.add_argument("--repeat", type=int, default=1, help="reads per format, interleaved (medians reported)")
    ap.add_argument("--before", default=None, metavar="DIR", help="also read with this earlier source tree")
    args = ap.parse_args(argv)
    n, m = int(args.nodes), int(args.edges)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    before = Path(args.before).resolve() if args.before else None
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        t = time.perf_counter()
        paths = build_in_child(Path(tmp), n, m, formats)
        sizes = {f: sum(p.stat().st_size for p in d.iterdir()) for f, d in paths.items()}
        print(f"built {n:,} institutions, {m:,} obligations in {time.perf_counter() - t:.1f} s "
              f"({', '.join(f'{f} {s / 1e9:.2f} GB' for f, s in sizes.items())}); cpus {os.cpu_count()}",
              flush=True)
        results = {}
        for fmt, path in paths.items():
            load = "/".join(f"{x:.1f}" for x in os.getloadavg())
            runs: dict[str, list[dict]] = {"now": [], **({"before": []} if before else {})}
            for _ in range(max(1, args.repeat)):
                runs["now"].append(measure(path))
                if before:
                    runs["before"].append(measure(path, before))
            results[fmt] = {"file_bytes": sizes[fmt], "load_before": load}
            for side, rs in runs.items():
                r = {"seconds": statistics.median(x["seconds"] for x in rs),
                     "peak_kb": statistics.median(x["peak_kb"] for x in rs), "before_kb": rs[0]["before_kb"],
                     "n": rs[0]["n"], "edges": rs[0]["edges"], "all_seconds": [x["seconds"] for x in rs]}
                results[fmt][side] = r
                print(f"{fmt:8s} {side:6s} read_network {r['seconds']:7.1f} s   peak RSS {r['peak_kb'] / 1e6:6.2f} GB "
                      f"(before reading {r['before_kb'] / 1e6:.2f} GB)   {r['n']:,} institutions, "
                      f"{r['edges']:,} obligations   (median of {len(rs)}; load {load} -> "
                      f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
            if before:
                a, b = results[fmt]["now"], results[fmt]["before"]
                print(f"{fmt:8s} now / before: time {a['seconds'] / b['seconds']:.2f}x, "
                      f"memory {a['peak_kb'] / b['peak_kb']:.2f}x", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"nodes": n, "edges": m, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
