#!/usr/bin/env python
"""Monte Carlo at scale (issue 18, target 5): a sweep on a local Dask cluster in bounded memory.

``python scripts/bench_sweep.py`` runs the same sweep (the built-in ``core-periphery`` network, three
correlated shock entries, levels 0.95 / 0.99) with 10^6, 10^7 and 10^8 draws on a fresh local Dask cluster of
``--workers`` worker processes (one thread each), each size in a fresh driver process, and reports per process
the peak resident set (driver -- which also runs the Dask scheduler -- and every worker), the wall time, the
draws per second, and the ratios that say whether memory grows with the draws: driver peak / the smallest
size's, the driver's growth per draw, and what the per-draw version needed (40 bytes a draw plus the default
flags: 4.1 GB at 10^8 here). It then checks that the cluster's numbers equal an in-process run with the same
seed, to the bit (every number of ``SweepResult.summary()``, the kept tail, the counts, the contributions), at
``--check-draws`` draws.

``--quick`` (CI's smoke test): 20,000 and 60,000 draws on a two-worker cluster plus the identity check, in
about a minute; exits 1 if the cluster's numbers differ from the in-process run. No timing assertions
anywhere. ``--sizes 1e6,1e7`` picks the sizes; ``--json FILE`` writes the rows.

Peak memory is ``ru_maxrss`` of each process: the driver's own (a fresh process per size), each worker's from
inside the worker (``Client.run``) after the sweep, less nothing -- every number includes Python, numpy, scipy,
numba and dask; the "idle" column gives each process's resident set just before the sweep starts, after a
1,024-draw warm-up sweep on the same cluster (imports and compiled kernels loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIG = {"name": "bench", "correlation": 0.35, "levels": [0.95, 0.99], "bins": 40, "shocks": [
    {"target": "Core", "distribution": "beta", "a": 1.2, "b": 8.0},
    {"select": {"name": ["Periphery 1", "Periphery 3"]}, "distribution": "lognormal", "mu": -2.0, "sigma": 0.7},
    {"target": "Periphery 2", "distribution": "uniform", "low": 0.0, "high": 0.2, "correlation": 0.8}]}

#: What the per-draw version (before the summaries) held on the driver per draw: system loss and number of
#: defaults (float64 + int64) twice while joined, the sorted copy for VaR, and the packed default flags.
PER_DRAW_BYTES = 40


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def child(n: int, workers: int, network: str, seed: int) -> dict:
    """One sweep of ``n`` draws on a fresh local Dask cluster (run in a fresh process)."""
    from distributed import Client, LocalCluster

    import contagion
    from contagion.sweep import SweepConfig, run_sweep

    net = contagion.load_dataset(network)
    cfg = SweepConfig.from_dict(CONFIG)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        ex = client.get_executor(pure=False)
        run_sweep(net, cfg, n=4 * 256, seed=seed + 1, executor=ex, chunk_size=256)   # warm up: imports, kernels
        idle = client.run(_current_rss_mb)
        driver_idle = _current_rss_mb()
        t = time.perf_counter()
        res = run_sweep(net, cfg, n=n, seed=seed, executor=ex)
        wall = time.perf_counter() - t
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    summary = res.summary()
    return {"draws": n, "workers": workers, "network": network, "wall_s": wall, "draws_per_s": n / wall,
            "driver_peak_mb": _rss_kb() / 1e3, "driver_idle_mb": driver_idle,
            "worker_peak_mb": sorted(v / 1e3 for v in peaks.values()),
            "worker_idle_mb": sorted(idle.values()), "tail_records": int(res.loss.tail.size),
            "mean": summary["system_loss"]["mean"], "var_0.99": summary["system_loss"]["var"]["0.99"],
            "es_0.99": summary["system_loss"]["es"]["0.99"]}


def identical(n: int, workers: int, network: str, seed: int) -> list[str]:
    """Differences between a sweep on a local Dask cluster and in this process, same seed (empty: identical)."""
    import numpy as np
    from distributed import Client, LocalCluster

    import contagion
    from contagion.sweep import SweepConfig, run_sweep

    net = contagion.load_dataset(network)
    cfg = SweepConfig.from_dict(CONFIG)
    local = run_sweep(net, cfg, n=n, seed=seed)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        remote = run_sweep(net, cfg, n=n, seed=seed, executor=client.get_executor(pure=False), chunk_size=3 * 256)
    bad = []
    if remote.summary() != local.summary():
        bad.append("summary()")
    if not remote.co_default(5).equals(local.co_default(5)):
        bad.append("co_default")
    for key in ("default_probability", "expected_unpaid", "expected_unpaid_se", "expected_loss", "expected_loss_se",
                "loss_contribution", "es_contribution", "defaults_count", "co_default_counts"):
        if not np.array_equal(getattr(remote, key), getattr(local, key)):
            bad.append(key)
    for key in ("tail", "tail_draws"):
        if not np.array_equal(getattr(remote.loss, key), getattr(local.loss, key)):
            bad.append(f"loss.{key}")
    return bad


def table(rows: list[dict]) -> str:
    base = rows[0]
    lines = ["| draws | wall | draws/s | driver peak (idle) | driver / smallest | workers' peak (idle) | tail kept | "
             "per-draw version needed |", "|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['draws']:.0e} | {r['wall_s']:.1f} s | {r['draws_per_s']:,.0f} | {r['driver_peak_mb']:.0f} MB "
            f"({r['driver_idle_mb']:.0f}) | {r['driver_peak_mb'] / base['driver_peak_mb']:.2f}x | "
            + ", ".join(f"{p:.0f} ({i:.0f})" for p, i in zip(r["worker_peak_mb"], r["worker_idle_mb"]))
            + f" MB | {r['tail_records']:,} | {r['draws'] * (PER_DRAW_BYTES + 1) / 1e6:,.0f} MB |")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        per_draw = (b["driver_peak_mb"] - a["driver_peak_mb"]) * 1e6 / (b["draws"] - a["draws"])
        lines.append("")
        lines.append(f"driver growth from {a['draws']:.0e} to {b['draws']:.0e} draws: {per_draw:.2f} bytes a draw "
                     f"(the per-draw version: {PER_DRAW_BYTES + 1}); same seed, mean {b['mean']:.6g}, "
                     f"VaR 0.99 {b['var_0.99']:.6g}, ES 0.99 {b['es_0.99']:.6g}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI smoke test: small sizes and the identity check")
    ap.add_argument("--sizes", default=None, help="comma-separated numbers of draws (default 1e6,1e7,1e8)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--network", default="core-periphery")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--check-draws", type=int, default=None, help="draws of the identity check (default 20,000)")
    ap.add_argument("--json", default=None, help="write the rows to this file")
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(int(args.child), args.workers, args.network, args.seed)))
        return 0
    sizes = [int(float(x)) for x in (args.sizes or ("2e4,6e4" if args.quick else "1e6,1e7,1e8")).split(",")]
    print(f"# contagion sweep at scale{' (quick)' if args.quick else ''}: {args.network}, local Dask cluster of "
          f"{args.workers} workers; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--workers", str(args.workers),
                              "--network", args.network, "--seed", str(args.seed)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{n:.0e} draws: {rows[-1]['wall_s']:.1f} s, driver peak {rows[-1]['driver_peak_mb']:.0f} MB, "
              f"workers {', '.join(f'{p:.0f}' for p in rows[-1]['worker_peak_mb'])} MB", flush=True)
    print()
    print(table(rows))
    check_n = args.check_draws or 20_000
    bad = identical(check_n, args.workers, args.network, args.seed)
    print()
    print(f"identity check, {check_n:,} draws, seed {args.seed}: local Dask cluster vs in process: "
          + ("identical (every summary number, the kept tail, the counts, the contributions)" if not bad
             else "DIFFERENT: " + ", ".join(bad)))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "identical": not bad}, indent=1), encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
