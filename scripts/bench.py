#!/usr/bin/env python
"""Benchmarks of exact clearing in ``contagion``: the fast paths against a plain baseline.

Run ``python scripts/bench.py`` for the full tables (sizes 1e3..1e6 institutions,
three network families, about 4 minutes on 2 cores plus compilation on a cold
cache), ``python scripts/bench.py --quick`` for the smoke test CI runs (under a
minute; checks exactness and exits non-zero on a mismatch; no timing assertions
anywhere).

What is measured (every ratio is taken within the same run, against the same
network and scenario):

- **baseline**: plain scipy Picard iteration from ``p = pbar``,
  ``p <- min(pbar, max(0, e + PiT @ p))`` with ``PiT`` precomputed as CSR, until
  the largest change is ``<= 1e-12 * max(pbar)`` (the residual bound the exact
  solvers meet). Baseline only: no default waves, no uniqueness flag.
- **clear**: ``contagion.clear(net)`` end to end -- greatest clearing vector,
  default set, equity, uniqueness flag -- on the path ``auto`` picks
  (compiled policy iteration for large networks, whose results compute the
  FDA default waves on first access); **clear + waves** also reads
  ``res.default_round``.
- **build**: ``FinancialNetwork.from_matrix(L, e, ext)`` from a CSR matrix plus
  ``net.PiT`` (validation, ``Pi``, ``Pi.T``).
- **many**: ``contagion.clear_many(net, E)`` with 10,000 scenarios (a random 3%
  of institutions lose 50-100% of their external assets) on 1,000-institution
  networks of each family, hard and easy regimes, against the baseline run
  scenario by scenario and the reference FDA per column (extrapolated from 200).
- **compile**: first call of the compiled kernels in a fresh process, with an
  empty numba cache (compilation) and with the cache ``cache=True`` keeps.
- **peak memory**: resident-set growth during the solve (sampled every ms).
- **machine**: CPU, versions, and the memory read bandwidth (numpy sums over 256 MB, one thread and one
  per core), to compare runs on different machines.

Networks come from :mod:`contagion.generators` (seeded): Erdos-Renyi,
scale-free (Chung-Lu, Pareto weights) and core-periphery (2% core), average
degree 10, external assets calibrated so that a random 3% of institutions losing
their external assets brings about 20% into default; "hard" = external
liabilities 10-20% of obligations.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import contagion  # noqa: E402
from contagion import FinancialNetwork  # noqa: E402
from contagion._matrix import numba_available  # noqa: E402
from contagion.clearing import core, fast  # noqa: E402
from contagion.generators import FAMILIES, network_arrays, shock_matrix, shocked_nodes  # noqa: E402

FAMILY_ORDER = ("erdos-renyi", "scale-free", "core-periphery")


# ----------------------------------------------------------------------------- machine and measuring
def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    info = {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(), "numpy": np.__version__}
    import scipy

    info["scipy"] = scipy.__version__
    if numba_available():
        import numba

        info["numba"] = numba.__version__
        info["numba_threads"] = numba.get_num_threads()
        info["threading_layer"] = os.environ.get("NUMBA_THREADING_LAYER", "default")
    else:
        info["numba"] = None
    info["read_gbs"] = read_bandwidth()
    return info


def read_bandwidth(mb: int = 256, repeat: int = 5) -> dict:
    """Memory read bandwidth in GB/s: best of ``repeat`` numpy sums over ``mb`` MB, by one thread and by
    one thread per core (at most 8; numpy releases the GIL in the sum). A product with a matrix that
    does not fit in cache cannot beat it, so it tells how this machine compares with another."""
    from concurrent.futures import ThreadPoolExecutor

    a = np.ones(mb * 2**20 // 8)
    out = {}
    for k in sorted({1, max(1, min(os.cpu_count() or 1, 8))}):
        parts = np.array_split(a, k)
        best = float("inf")
        with ThreadPoolExecutor(k) as pool:
            for _ in range(repeat):
                t = time.perf_counter()
                list(pool.map(np.sum, parts))
                best = min(best, time.perf_counter() - t)
        out[f"{k} thread{'s' if k > 1 else ''}"] = round(a.nbytes / best / 1e9, 1)
    return out


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        return 0


class PeakMemory:
    """Peak growth of the resident set while the block runs (sampled every millisecond)."""

    def __enter__(self):
        self.base = self.peak = _rss()
        self._stop = threading.Event()

        def watch():
            while not self._stop.is_set():
                self.peak = max(self.peak, _rss())
                time.sleep(0.001)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.mb = (self.peak - self.base) / 2**20


def best_of(fn, repeat: int):
    """``(best wall time, result of the last call, peak extra MB of the first call)``."""
    times = []
    out = None
    mb = 0.0
    for r in range(repeat):
        if r == 0:
            with PeakMemory() as pm:
                t = time.perf_counter()
                out = fn()
                times.append(time.perf_counter() - t)
            mb = pm.mb
        else:
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
    return min(times), out, mb


# ----------------------------------------------------------------------------- baseline
def picard(PiT, pbar, e, rtol: float = 1e-12, max_iter: int = 1_000_000):
    """Plain Picard iteration from ``pbar`` with precomputed ``PiT`` (CSR); returns ``(p, iterations)``."""
    p = pbar.copy()
    tol = rtol * float(pbar.max())
    for it in range(1, max_iter + 1):
        q = np.minimum(pbar, np.maximum(0.0, e + PiT @ p))
        change = float(np.max(np.abs(q - p)))
        p = q
        if change <= tol:
            return p, it
    raise RuntimeError("baseline did not converge")


def defaults_of(net, p):
    pbar = net.total_obligations
    tie = core.tie_tolerance(pbar)
    return (pbar > 0) & (net.external_assets + net.PiT @ p < pbar - tie)


# ----------------------------------------------------------------------------- networks
def instance(family: str, n: int, regime: str = "hard", seed: int = 0):
    """``(L, e after the shock, ext)`` of a benchmark network (a random 3% lose all external assets)."""
    L, e, ext = network_arrays(family, n, regime=regime, seed=seed)
    e = e.copy()
    e[shocked_nodes(n, seed + 1)] = 0.0
    return L, e, ext


def scenario_network(n: int, regime: str, seed: int = 0, family: str = "core-periphery") -> FinancialNetwork:
    L, e, ext = network_arrays(family, n, regime=regime, seed=seed)
    return FinancialNetwork.from_matrix(L, e, ext)


# ----------------------------------------------------------------------------- exactness (always run)
def check_exactness(n: int, scenarios: int, log) -> list[str]:
    """Fast paths == reference on small cases; returns the list of mismatches (empty = fine)."""
    problems = []
    for family in FAMILY_ORDER:
        for regime in ("hard", "easy"):
            L, e, ext = instance(family, n, regime)
            net = FinancialNetwork.from_matrix(L, e, ext)
            ref = contagion.clear(net, solver="reference")
            got = contagion.clear(net, solver="compiled")
            scale = float(net.total_obligations.max())
            ok = (np.allclose(got.payments, ref.payments, rtol=1e-9, atol=1e-12 * scale)
                  and np.array_equal(got.defaulted, ref.defaulted)
                  and np.array_equal(got.default_round, ref.default_round)
                  and got.residual <= 1e-12 * scale and got.unique == ref.unique)
            p_base, _ = picard(net.PiT, net.total_obligations, net.external_assets)
            ok_base = np.array_equal(defaults_of(net, p_base), ref.defaulted)
            E = shock_matrix(net, scenarios, seed=7)
            many = contagion.clear_many(net, E, solver="compiled")
            many_ref = contagion.clear_many(net, E, solver="reference")
            ok_many = (np.allclose(many.payments, many_ref.payments, rtol=1e-9, atol=1e-12 * scale)
                       and np.array_equal(many.defaulted, many_ref.defaulted))
            log(f"  {family:15s} {regime:5s} n={n}: clear {'ok' if ok else 'MISMATCH'} ({got.solver}, "
                f"{int(got.defaulted.sum())} defaults, {got.waves + 1} waves), baseline default set "
                f"{'ok' if ok_base else 'MISMATCH'}, clear_many x{scenarios} {'ok' if ok_many else 'MISMATCH'}"
                f" ({many.solver})")
            if not ok:
                problems.append(f"clear {family} {regime}")
            if not ok_many:
                problems.append(f"clear_many {family} {regime}")
    return problems


# ----------------------------------------------------------------------------- compile time
_FIRST_CALL = r"""
import time, os, sys
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import contagion
from contagion.generators import make_network, shock, shock_matrix
from contagion._matrix import relative_matrix, transpose
net = shock(make_network("core-periphery", 300, kappa=0.004), seed=1)
t1 = time.perf_counter()
contagion.clear(net, solver="compiled")
t2 = time.perf_counter()
contagion.clear_many(net, shock_matrix(net, 4), solver="compiled")
other = make_network("erdos-renyi", 300, kappa=0.004)
transpose(relative_matrix(other.liabilities, other.total_obligations, min_nnz=0), min_nnz=0)
t3 = time.perf_counter()
print(t2 - t1 + t3 - t2)
"""


def compile_times(empty_cache: bool = True) -> dict:
    """Seconds of the first compiled calls in a fresh process: empty cache (compilation), then warm cache."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp) if empty_cache else dict(os.environ)
        labels = ("compile (empty cache)", "load (warm cache)") if empty_cache else ("load (warm cache)",)
        for label in labels:
            r = subprocess.run([sys.executable, "-c", _FIRST_CALL.format(root=str(ROOT))], env=env,
                               capture_output=True, text=True, check=True)
            out[label] = float(r.stdout.strip().splitlines()[-1])
    return out


# ----------------------------------------------------------------------------- single clearing
def single(families, sizes, repeat: int, log) -> list[dict]:
    rows = []
    for family in families:
        for n in sizes:
            L, e, ext = instance(family, n)

            def build():
                net = FinancialNetwork.from_matrix(L, e, ext)
                net.PiT
                return net

            t_build, net, _ = best_of(build, repeat)
            pbar = net.total_obligations
            PiT = net.PiT
            t_base, (p_base, its), mb_base = best_of(lambda: picard(PiT, pbar, net.external_assets), repeat)
            t_fast, res, mb_fast = best_of(lambda: contagion.clear(net), repeat)

            def with_waves():
                r = contagion.clear(net)
                r.default_round  # noqa: B018 - computed on first access by the policy-iteration path
                return r

            t_waves, _, _ = best_of(with_waves, repeat)
            stats = fast.FastStats()
            if res.solver == "howard-fast":
                fast.policy_iteration(PiT, net.relative_liabilities, pbar, net.external_assets, stats=stats,
                                      ext_liab=net.external_liabilities, received_in_full=net.received_in_full)
            scale = float(pbar.max())
            same = bool(np.array_equal(defaults_of(net, p_base), res.defaulted))
            row = dict(family=family, n=n, edges=int(L.nnz), build_s=t_build, baseline_s=t_base, baseline_its=its,
                       clear_s=t_fast, clear_waves_s=t_waves, ratio=t_fast / t_base, solver=res.solver, waves=res.waves + 1,
                       matvecs=stats.matvecs, residual=res.residual / scale,
                       base_residual=float(np.max(np.abs(np.minimum(pbar, np.maximum(
                           0.0, net.external_assets + PiT @ p_base)) - p_base))) / scale,
                       default_share=float(res.defaulted.mean()), block_nnz=stats.block_nnz,
                       boundary_nnz=stats.boundary_nnz, same_default_set=same,
                       max_payment_diff=float(np.max(np.abs(res.payments - p_base))) / scale,
                       peak_mb_clear=mb_fast, peak_mb_baseline=mb_base)
            rows.append(row)
            log(f"  {family:15s} n={n:>8,d} edges={row['edges']:>10,d}  build {t_build:7.3f}s  baseline "
                f"{t_base:7.3f}s ({its:3d} it)  clear {t_fast:7.3f}s ({res.solver}, {stats.matvecs} mv, {stats.rounds} rounds)"
                f"  +waves {t_waves:7.3f}s ({row['waves']})  "
                f"x{t_base / t_fast:5.1f}  defaults {row['default_share']:.1%}  resid {row['residual']:.1e}  "
                f"mem {mb_fast:6.1f}/{mb_base:6.1f} MB  {'same set' if same else 'SET DIFFERS'}")
            del net, L
    return rows


def slopes(rows) -> dict:
    """Log-log slope of clearing time against number of obligations, per family."""
    out = {}
    for family in {r["family"] for r in rows}:
        pts = [(r["edges"], r["clear_s"], r["baseline_s"]) for r in rows if r["family"] == family]
        if len(pts) >= 2:
            x = np.log([p[0] for p in pts])
            out[family] = {"clear": float(np.polyfit(x, np.log([p[1] for p in pts]), 1)[0]),
                           "baseline": float(np.polyfit(x, np.log([p[2] for p in pts]), 1)[0])}
    return out


# ----------------------------------------------------------------------------- many scenarios
def many(K: int, base_K: int, repeat: int, log, families=("core-periphery",)) -> list[dict]:
    rows = []
    for family, regime in [(f, r) for f in families for r in ("hard", "easy")]:
        net = scenario_network(1000, regime, family=family)
        E = shock_matrix(net, K, seed=11)
        net.PiT
        t_fast, res, mb = best_of(lambda: contagion.clear_many(net, E), repeat)
        PiT, pbar = net.PiT, net.total_obligations
        idx = np.arange(min(base_K, K))
        t0 = time.perf_counter()
        its = [picard(PiT, pbar, E[:, k])[1] for k in idx]
        t_base = (time.perf_counter() - t0) * K / idx.size
        sub = min(200, K)
        t0 = time.perf_counter()
        ref = contagion.clear_many(net, E[:, :sub], solver="reference")
        t_ref = (time.perf_counter() - t0) * K / sub
        scale = float(pbar.max())
        same = bool(np.array_equal(ref.defaulted, res.defaulted[:, :sub])
                    and np.allclose(ref.payments, res.payments[:, :sub], rtol=1e-9, atol=1e-12 * scale))
        row = dict(family=family, regime=regime, n=net.n, edges=int(net.liabilities.nnz), scenarios=K, clear_many_s=t_fast,
                   solver=res.solver, sweeps_mean=float(np.mean(res.iterations)),
                   sweeps_max=int(np.max(res.iterations)), baseline_s=t_base, baseline_its_mean=float(np.mean(its)),
                   baseline_extrapolated_from=int(idx.size), reference_fda_s=t_ref, ratio=t_fast / t_base,
                   default_share=float(res.defaulted.mean()), residual=float(res.residual.max()) / scale,
                   peak_mb=mb, equal_to_reference=same)
        rows.append(row)
        log(f"  {family:15s} {regime:5s} n={net.n} edges={row['edges']:,d} K={K:,d}: clear_many {t_fast:6.3f}s ({res.solver}, "
            f"{row['sweeps_mean']:.1f} sweeps)  baseline {t_base:6.2f}s ({row['baseline_its_mean']:.0f} it"
            f"{'' if idx.size == K else f', from {idx.size}'})  x{t_base / t_fast:5.1f}  reference FDA "
            f"{t_ref:6.2f}s (from {sub})  defaults {row['default_share']:.1%}  "
            f"{'equal' if same else 'DIFFERS'}")
    return rows


# ----------------------------------------------------------------------------- report
def markdown(info, compile_, single_rows, growth, many_rows) -> str:
    lines = [f"Machine: {info['cpu']}, {info['nproc']} cores (nproc), Python {info['python']}, numpy "
             f"{info['numpy']}, scipy {info['scipy']}, numba {info.get('numba')} "
             f"({info.get('numba_threads')} threads); memory read bandwidth "
             + ", ".join(f"{v} GB/s ({k})" for k, v in info.get("read_gbs", {}).items()) + ".", ""]
    if single_rows:
        lines += ["| family | institutions | obligations | build | baseline (its) | clear | speed-up | "
                  "clear + waves (waves) | defaults | residual / max p̄ | peak extra MB clear / baseline |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in single_rows:
            lines.append(f"| {r['family']} | {r['n']:,} | {r['edges']:,} | {r['build_s']:.3f} s | "
                         f"{r['baseline_s']:.3f} s ({r['baseline_its']}) | {r['clear_s']:.3f} s | "
                         f"{r['baseline_s'] / r['clear_s']:.1f}x | {r['clear_waves_s']:.3f} s ({r['waves']}) | "
                         f"{r['default_share']:.1%} | {r['residual']:.0e} | "
                         f"{r['peak_mb_clear']:.0f} / {r['peak_mb_baseline']:.0f} |")
        lines.append("")
    if growth:
        lines.append("Log-log slope of time per clearing vs obligations: " + "; ".join(
            f"{f} {g['clear']:.2f} (baseline {g['baseline']:.2f})" for f, g in sorted(growth.items())) + ".")
        lines.append("")
    if many_rows:
        lines += ["| family | regime | scenarios | clear_many | sweeps (mean) | baseline per scenario | speed-up | "
                  "reference FDA per column |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in many_rows:
            lines.append(f"| {r['family']} | {r['regime']} | {r['scenarios']:,} | {r['clear_many_s']:.3f} s | {r['sweeps_mean']:.1f} | "
                         f"{r['baseline_s']:.2f} s | {r['baseline_s'] / r['clear_many_s']:.1f}x | "
                         f"{r['reference_fda_s']:.1f} s |")
        lines.append("")
    if compile_:
        lines.append("First compiled call in a fresh process: " + ", ".join(
            f"{k} {v:.1f} s" for k, v in compile_.items()) + ".")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke test: small sizes, exactness checks (CI)")
    ap.add_argument("--sizes", default=None, help="comma-separated numbers of institutions (e.g. 1e3,1e4)")
    ap.add_argument("--families", default=",".join(FAMILY_ORDER))
    ap.add_argument("--scenarios", type=int, default=None, help="scenarios for clear_many (default 10,000)")
    ap.add_argument("--repeat", type=int, default=None, help="timed repetitions (best is kept)")
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: compile,single,many")
    ap.add_argument("--json", default=None, help="also write the results as JSON to this file")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    quick = args.quick
    sizes = ([int(float(s)) for s in args.sizes.split(",")] if args.sizes
             else [1000, 10_000] if quick else [1000, 10_000, 100_000, 1_000_000])
    families = [f for f in args.families.split(",") if f]
    unknown = set(families) - set(FAMILIES)
    if unknown:
        ap.error(f"unknown families {sorted(unknown)}")
    K = args.scenarios or (500 if quick else 10_000)
    repeat = args.repeat or (1 if quick else 3)
    skip = set(filter(None, args.skip.split(",")))

    info = machine()
    log(f"# contagion clearing benchmark{' (quick)' if quick else ''}")
    log(f"machine: {info}")
    log("exactness: fast paths vs the reference FDA (payments 1e-9 rel, default set, waves), "
        "clear_many vs reference per column")
    problems = check_exactness(2000, 20, log)
    compile_ = {}
    if "compile" not in skip and numba_available():
        log("compile: first compiled calls in a fresh process")
        compile_ = compile_times(empty_cache=not quick)
        log("  " + ", ".join(f"{k} {v:.2f} s" for k, v in compile_.items()))
    single_rows = []
    if "single" not in skip:
        log("single clearing (hard regime, 3% of institutions lose their external assets)")
        single_rows = single(families, sizes, repeat, log)
    growth = slopes(single_rows)
    if growth:
        log("cost growth (log-log slope of time vs obligations): " + "; ".join(
            f"{f}: clear {g['clear']:.2f}, baseline {g['baseline']:.2f}" for f, g in sorted(growth.items())))
    many_rows = []
    if "many" not in skip:
        log(f"many scenarios (clear_many, {K:,} scenarios, 1,000 institutions)")
        many_rows = many(K, min(K, 300 if quick else K), repeat, log,
                         families=("core-periphery",) if quick else tuple(f for f in FAMILY_ORDER if f in families))
        problems += [f"clear_many differs from reference: {r['family']} {r['regime']}" for r in many_rows
                     if not r["equal_to_reference"]]
    log("")
    log(markdown(info, compile_, single_rows, growth, many_rows))
    if args.json:
        from contagion.io.atomic import write_text_atomic

        write_text_atomic(args.json, json.dumps({"machine": info, "compile": compile_, "single": single_rows,
                                               "growth": growth, "many": many_rows, "problems": problems},
                                              indent=2))
    if problems:
        log("MISMATCH: " + "; ".join(problems))
        return 1
    log("all results exact (equal to the reference)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
