"""Running a sweep: draws in fixed blocks, batched exact clearing, partial sums in batch order.

See :mod:`contagion.sweep` for the model and the reproducibility contract.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ContagionError, ScenarioError, check_memory
from ..executors import resolve_executor, run_tasks
from .config import DISTRIBUTIONS, SweepConfig
from .result import BLOCK, SweepResult, running_mean_se

#: Memory a sweep keeps per draw: system loss and number of defaults (float64 + int64), twice while the blocks
#: are joined, and the sorted copy of the losses for VaR -- checked before a run starts (10**12 draws: 40 TB);
#: plus ``ceil(institutions / 8)`` bytes of default flags (networks of at most :data:`MAX_FLAGGED` institutions).
BYTES_PER_DRAW = 40

#: Largest network whose per-draw default flags are kept (packed, one bit per institution and draw) for
#: :meth:`SweepResult.co_default` and :meth:`SweepResult.draws_frame`; above it they are not kept.
MAX_FLAGGED = 4096

#: ``until_se``: the fewest blocks of draws before the precision may be judged reached (1,024 draws).
MIN_BLOCKS_UNTIL_SE = 4

__all__ = ["BLOCK", "CLEAR_WORK", "CLEAR_MEMORY", "MAX_BLOCKS_PER_BATCH", "MAX_FLAGGED", "MIN_BLOCKS_UNTIL_SE",
           "clearing_batch", "sample_losses", "run_sweep"]

#: Target obligations x draws of one batched clearing call (big enough for the compiled batched path)...
CLEAR_WORK = 1_000_000
#: ... within this many institutions x draws (about 64 MB per (n, draws) array).
CLEAR_MEMORY = 8_000_000
#: Most blocks in one clearing call.
MAX_BLOCKS_PER_BATCH = 256


@dataclass(frozen=True)
class _Plan:
    """What a worker needs to sample and clear blocks (picklable, shipped once per task)."""

    network: Any
    idx: np.ndarray              # shocked institutions (positions)
    loading: np.ndarray          # sqrt(rho_i), aligned with idx
    groups: tuple                # ((distribution name, params dict, columns of idx), ...)
    base_payments: np.ndarray
    method: str
    params: Mapping[str, Any]
    blocks_per_batch: int = 1


def clearing_batch(net) -> int:
    """Blocks of draws cleared per :func:`~contagion.clear_many` call; depends only on the network's size.

    ``ceil(CLEAR_WORK / (obligations * BLOCK))``, capped so that an ``(n,
    draws)`` array stays within :data:`CLEAR_MEMORY` entries, between 1 and
    :data:`MAX_BLOCKS_PER_BATCH`.

    >>> import contagion
    >>> clearing_batch(contagion.load_dataset("core-periphery"))  # 4 obligations: 65,536 draws a call
    256
    """
    g = -(-CLEAR_WORK // (max(int(net.liabilities.nnz), 1) * BLOCK))
    g = min(g, max(1, CLEAR_MEMORY // (max(net.n, 1) * BLOCK)))
    return int(max(1, min(g, MAX_BLOCKS_PER_BATCH)))


def _plan(net, config: SweepConfig, method: str, params: Mapping[str, Any], base_payments: np.ndarray) -> _Plan:
    owner = np.full(net.n, -1, dtype=np.int64)
    idx_parts, load_parts, groups = [], [], []
    start = 0
    for k, entry in enumerate(config.shocks):
        try:
            mask = entry.node_mask(net)
        except ScenarioError as exc:
            raise ScenarioError(f"sweep {config.name!r}: shocks[{k}].{exc}") from None
        clash = mask & (owner >= 0)
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            raise ScenarioError(f"shocks[{k}]: {net.names[i]!r} is already hit by shocks[{owner[i]}]; "
                                f"each institution may follow one distribution")
        owner[mask] = k
        pos = np.flatnonzero(mask)
        rho = config.correlation if entry.correlation is None else entry.correlation
        idx_parts.append(pos)
        load_parts.append(np.full(pos.size, math.sqrt(rho)))
        groups.append((entry.distribution, entry.kwargs, np.arange(start, start + pos.size)))
        start += pos.size
    return _Plan(network=net, idx=np.concatenate(idx_parts), loading=np.concatenate(load_parts),
                 groups=tuple(groups), base_payments=base_payments, method=method, params=dict(params),
                 blocks_per_batch=clearing_batch(net))


def _block_rng(seed: int, block: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def _block_losses(plan: _Plan, seed: int, block: int) -> np.ndarray:
    """Loss fractions ``(BLOCK, m)`` of block ``block`` (always a full block; callers slice)."""
    from scipy.special import ndtr

    rng = _block_rng(seed, block)
    m = plan.idx.size
    common = rng.standard_normal(BLOCK)
    own = rng.standard_normal((BLOCK, m))
    a = plan.loading
    z = common[:, None] * a[None, :] + own * np.sqrt(1.0 - a * a)[None, :]
    u = ndtr(z)
    loss = np.empty_like(u)
    for dist, kw, cols in plan.groups:
        loss[:, cols] = DISTRIBUTIONS[dist].ppf(u[:, cols], **kw)
    return loss


def sample_losses(net, config: SweepConfig, n: int, seed: int) -> pd.DataFrame:
    """The loss fractions of the first ``n`` draws, one column per shocked institution (for inspection).

    Exactly the fractions :func:`run_sweep` uses with the same seed. The
    configuration's base ``scenario`` is not applied here (it only moves the
    outside assets the fractions apply to).

    >>> import contagion
    >>> cfg = SweepConfig.from_dict({"shocks": [{"target": "Core", "distribution": "fixed", "value": 0.25}]})
    >>> sample_losses(contagion.load_dataset("core-periphery"), cfg, 3, seed=0)["Core"].tolist()
    [0.25, 0.25, 0.25]
    """
    plan = _plan(net, config, "eisenberg-noe", {}, np.zeros(net.n))
    blocks = [_block_losses(plan, seed, b) for b in range(-(-n // BLOCK))]
    loss = np.concatenate(blocks, axis=0)[:n] if blocks else np.empty((0, plan.idx.size))
    return pd.DataFrame(loss, columns=[net.names[i] for i in plan.idx])


def _clear_fractions(plan: _Plan, loss: np.ndarray):
    """Clear draws with loss fractions ``loss`` (draws x shocked): ``(outside assets lost (m, k), batch)``."""
    from ..clearing import clear_many

    e0 = plan.network.external_assets
    lost = e0[plan.idx, None] * loss.T                               # (m, k) outside assets lost
    E = np.repeat(e0[:, None], lost.shape[1], axis=1)
    E[plan.idx, :] -= lost
    np.maximum(E, 0.0, out=E)
    return lost, clear_many(plan.network, E, plan.method, **plan.params)


def _m2(x: np.ndarray) -> np.ndarray:
    """Per row, the sum of squared deviations from the row's mean."""
    dev = x - x.mean(axis=1, keepdims=True)
    return np.einsum("ij,ij->i", dev, dev)


def _sweep_task(plan: _Plan, seed: int, n: int, first_batch: int, last_batch: int) -> list[dict[str, Any]]:
    """Sample and clear batches ``first_batch .. last_batch - 1``; one dict of partial sums per batch."""
    net = plan.network
    pbar = net.total_obligations
    p0 = plan.base_payments
    idx = plan.idx
    g = plan.blocks_per_batch
    out = []
    for u in range(first_batch, last_batch):
        # every call clears g whole blocks (the last one padded with the draws that follow, then dropped),
        # so that every call has the same shape whatever the chunking
        loss = np.concatenate([_block_losses(plan, seed, b) for b in range(u * g, (u + 1) * g)], axis=0)
        size = min(n, (u + 1) * g * BLOCK) - u * g * BLOCK
        lost_all, batch = _clear_fractions(plan, loss)
        P = batch.payments[:, :size]
        D = batch.defaulted[:, :size]
        del batch
        dP = np.subtract(p0[:, None], P)                              # fall in payments from the baseline
        lost = np.ascontiguousarray(lost_all[:, :size])
        unpaid = np.subtract(pbar[:, None], P)                        # what each one leaves unpaid, per draw
        eq = np.asarray(net.PiT @ dP)                                 # fall in what each one receives
        eq[idx] += lost
        contribution = dP.sum(axis=1)
        contribution[idx] += lost.sum(axis=1)
        out.append({
            "count": size,
            "defaults": D.sum(axis=1, dtype=np.int64),
            "unpaid": unpaid.sum(axis=1),
            "unpaid_m2": _m2(unpaid),
            "equity_loss": eq.sum(axis=1),
            "equity_loss_m2": _m2(eq),
            "contribution": contribution,
            "system_loss": lost.sum(axis=0) + dP.sum(axis=0),
            "n_defaults": D.sum(axis=0, dtype=np.int64),
            "bits": np.packbits(D.T, axis=1, bitorder="little") if net.n <= MAX_FLAGGED else None,
        })
    return out


def _tail_task(plan: _Plan, seed: int, draws: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Re-clear the tail draws ``draws`` (sorted draw numbers) and return ``sum_d l(d) w(d)`` per level:
    ``(institutions, levels)``, where ``l_i(d)`` is institution i's outside assets lost plus the fall in its
    payments in draw ``d``."""
    blocks = np.unique(draws // BLOCK)
    loss = np.concatenate([_block_losses(plan, seed, int(b)) for b in blocks], axis=0)
    loss = loss[np.searchsorted(blocks, draws // BLOCK) * BLOCK + draws % BLOCK]
    lost, batch = _clear_fractions(plan, loss)
    ell = np.subtract(plan.base_payments[:, None], batch.payments)
    ell[plan.idx] += lost
    return ell @ weights


def _tail_weights(loss: np.ndarray, levels: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The draws that carry weight in the expected shortfall at some level and their weights ``(draws, levels)``.

    At level ``q`` with ``v = VaR_q``, ``a`` draws above ``v`` and ``t`` at it: ``1 / (n (1 - q))`` above,
    ``(1 - q - a / n) / ((1 - q) t)`` at ``v`` (the weighting of :meth:`SweepResult.es`, spread evenly over
    ties), so that ``sum_d w(d) L(d) = ES_q``. Draws with no loss carry nothing (every ``l_i`` is 0) and are
    left out.
    """
    n = loss.size
    s = np.sort(loss, kind="stable")
    vs = [float(s[max(int(math.ceil(n * q - 1e-9)), 1) - 1]) for q in levels]
    draws = np.flatnonzero((loss >= min(vs)) & (loss != 0.0))
    tail = loss[draws]
    W = np.zeros((draws.size, len(levels)))
    for k, (q, v) in enumerate(zip(levels, vs)):
        above = int(np.count_nonzero(loss > v))
        ties = int(np.count_nonzero(loss == v))
        W[tail > v, k] = 1.0 / (n * (1.0 - q))
        W[tail == v, k] = (1.0 - q - above / n) / ((1.0 - q) * ties)
    return draws, W


def _combine(blocks: Sequence[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean over all draws, from per-batch sums and sums of squared deviations
    (added in batch order: the same numbers whatever the chunking)."""
    counts = np.array([b["count"] for b in blocks], dtype=float)
    total = counts.sum()
    sums = np.zeros_like(blocks[0][key])
    for b in blocks:
        sums += b[key]
    mean = sums / total
    m2 = np.zeros_like(mean)
    for c, b in zip(counts, blocks):
        m2 += b[key + "_m2"] + c * (b[key] / c - mean) ** 2
    se = np.sqrt(m2 / (total - 1) / total) if total > 1 else np.full_like(mean, np.nan)
    return mean, se


class _Runner:
    """Runs clearing batches on the executor, chunked into tasks, with the progress callback."""

    def __init__(self, seed: int, ex: Executor | None, workers: int, chunk_size: int | None,
                 progress: Callable[[int, int], None] | None, total: int) -> None:
        self.seed, self.ex, self.workers, self.chunk_size = seed, ex, workers, chunk_size
        self.progress, self.total, self.done = progress, total, 0

    def batches(self, plan: _Plan, n: int, first: int, last: int) -> list[dict[str, Any]]:
        unit = plan.blocks_per_batch * BLOCK
        if self.chunk_size is None:
            per_task = max(1, min(max(1, 4096 // unit), -(-(last - first) // (4 * self.workers))))
        else:
            per_task = -(-int(self.chunk_size) // unit)
        tasks = [(self.seed, n, u, min(u + per_task, last)) for u in range(first, last, per_task)]
        sizes = [min(t[3] * unit, n) - t[2] * unit for t in tasks]
        start = self.done
        cb = None
        if self.progress is not None:
            def cb(done: int, _total: int) -> None:
                self.progress(min(start + done, self.total), self.total)
        parts = run_tasks(_sweep_task, plan, tasks, self.ex, progress=cb, sizes=sizes)
        self.done = start + sum(sizes)
        return [blk for part in parts for blk in part]

    def tail(self, plan: _Plan, loss: np.ndarray, levels: Sequence[float]) -> np.ndarray:
        """Euler contributions ``(levels, institutions)`` from the re-cleared tail draws, one task per batch."""
        draws, W = _tail_weights(loss, levels)
        out = np.zeros((plan.network.n, len(levels)))
        if draws.size:
            unit = plan.blocks_per_batch * BLOCK
            cuts = np.flatnonzero(np.diff(draws // unit)) + 1
            tasks = [(self.seed, d, w) for d, w in zip(np.split(draws, cuts), np.split(W, cuts))]
            for part in run_tasks(_tail_task, plan, tasks, self.ex):  # in batch order
                out += part
        return out.T


def _until(runner: _Runner, plan: _Plan, cap: int, target: float, per_call: int) -> tuple[list, int, bool]:
    """Run batches until the standard error of the mean system loss is at most ``target`` (at a block boundary,
    after at least :data:`MIN_BLOCKS_UNTIL_SE` blocks) or ``cap`` draws; returns exactly the batches
    ``run_sweep(n=N)`` computes, ``N`` and whether the target was reached."""
    unit = plan.blocks_per_batch * BLOCK
    n_units = -(-cap // unit)
    done: list[dict[str, Any]] = []
    u, step = 0, max(1, runner.workers)
    while True:
        last = min(n_units, u + step)
        done += runner.batches(plan, cap, u, last)
        u = last
        se = running_mean_se(np.concatenate([b["system_loss"] for b in done]))
        ok = np.flatnonzero(se[MIN_BLOCKS_UNTIL_SE - 1:] <= target)
        if ok.size or u >= n_units:
            break
        drawn = u * unit
        need = drawn * (se[-1] / target) ** 2 if np.isfinite(se[-1]) else 2 * drawn
        step = int(min(max(-(-(1.1 * need - drawn) // unit), 1), max(u, runner.workers)))
    reached = bool(ok.size)
    N = min((int(ok[0]) + MIN_BLOCKS_UNTIL_SE) * BLOCK, cap) if reached else cap
    final_g = min(per_call, -(-N // BLOCK))
    if final_g != plan.blocks_per_batch:          # a sweep of N draws is one shorter batch: clear it again
        return runner.batches(replace(plan, blocks_per_batch=final_g), N, 0, 1), N, reached
    whole = N // unit if N < cap else n_units     # batches that a sweep of N draws computes the same way
    keep = done[:whole]
    if whole * unit < N:
        keep += runner.batches(plan, N, whole, whole + 1)
    return keep, N, reached


def run_sweep(net, config: SweepConfig, n: int = 10_000, seed: int = 0, chunk_size: int | None = None,
              executor: Executor | str | None = None, *, method: str = "eisenberg-noe",
              progress: Callable[[int, int], None] | None = None, scenarios: Sequence[Any] = (),
              blocks_per_call: int | None = None, until_se: float | None = None, confidence: float = 0.95,
              contributions: bool = True, **params: Any) -> SweepResult:
    """Run a Monte Carlo sweep: ``n`` random shocks, each cleared exactly.

    Parameters
    ----------
    net : FinancialNetwork
        The network before any scenario.
    config : SweepConfig
    n : int
        Number of draws (with ``until_se``: the most draws).
    seed : int
        Seed (non-negative integer). Same seed, same numbers, whatever
        ``chunk_size`` and ``executor``.
    chunk_size : int, optional
        Draws per task sent to the executor (rounded up to whole clearing
        batches, :func:`clearing_batch` blocks of :data:`BLOCK` draws); default:
        about four tasks per worker.
    executor : concurrent.futures.Executor, "auto", "processes", "inline" or None
        Where tasks run. ``None``/``"inline"`` (default): in this process;
        ``"processes"``: a local process pool (one worker per core, created and
        shut down here); ``"auto"`` (what the CLI uses): inline for small jobs,
        processes when draws x (institutions + obligations) exceeds
        :data:`AUTO_PROCESS_WORK`; an Executor (e.g.
        ``dask.distributed.Client(...).get_executor()``) is used as given and not
        shut down. Local processes start with the ``forkserver`` method, so a
        script using them needs the usual ``if __name__ == "__main__":`` guard.
    method : str
        ``"eisenberg-noe"`` or ``"rogers-veraart"`` (with ``alpha``, ``beta``).
    progress : callable(done, total), optional
        Called with the number of draws done (the library itself never prints).
    scenarios : sequence of scenario names, paths or Scenario objects
        Applied to ``net`` in order, then the configuration's ``scenario`` (if
        any), through :func:`contagion.pipeline.prepare`, before any draw;
        their names are in ``SweepResult.scenarios``.
    blocks_per_call : int, optional
        Blocks of :data:`BLOCK` draws cleared per :func:`contagion.clear_many`
        call; default :func:`clearing_batch` (fewer when the sweep is shorter).
    until_se : float, optional
        Stop as soon as the standard error of the mean system loss (see
        :func:`~contagion.sweep.result.running_mean_se`) is at most this
        amount: at the first whole block of :data:`BLOCK` draws, after at least
        :data:`MIN_BLOCKS_UNTIL_SE` blocks, where it is; or at ``n`` draws
        (``result.target_reached`` False). The result is identical to
        ``run_sweep(n=result.n)`` with the same seed. (Batches are cleared in
        rounds, sized from the precision reached so far; at most one batch is
        cleared twice.) Beware of rare losses: a run of draws without any loss
        has a standard error of 0.
    confidence : float
        Level of the confidence intervals, in (0, 1).
    contributions : bool
        Compute the Euler contributions to the expected shortfall
        (``SweepResult.es_contribution``; NaN when False). They need each
        institution's loss in every tail draw, which is not kept in the main
        pass (the tail is only known at the end): the draws at or above the
        smallest level's VaR (with a loss) are sampled and cleared again, in
        batches on the same executor -- about ``1 - min(levels)`` of the
        clearing work, plus sampling the blocks that hold them.

    Returns
    -------
    SweepResult
    """
    from ..clearing import clear_many

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ContagionError(f"n (number of draws) must be a positive whole number, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ContagionError(f"seed must be a non-negative whole number, got {seed!r}")
    if until_se is not None and not (isinstance(until_se, (int, float)) and math.isfinite(until_se)
                                     and until_se > 0):
        raise ContagionError(f"until_se (target standard error of the mean system loss) must be a positive "
                             f"number, got {until_se!r}")
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise ContagionError(f"confidence must lie in (0, 1), got {confidence!r}")
    n, seed = int(n), int(seed)
    flag_bytes = -(-net.n // 8) if net.n <= MAX_FLAGGED else 0
    check_memory(n * (BYTES_PER_DRAW + flag_bytes), f"a sweep of {n:,} draws")
    from ..pipeline import prepare

    net, applied, _ = prepare(net, [*scenarios, *([config.scenario] if config.scenario else [])])
    base = clear_many(net, net.external_assets[:, None], method, **params)
    plan = _plan(net, config, method, params, base.payments[:, 0].copy())
    if blocks_per_call is not None and (isinstance(blocks_per_call, bool) or int(blocks_per_call) < 1):
        raise ContagionError(f"blocks_per_call must be a positive whole number, got {blocks_per_call!r}")
    per_call = plan.blocks_per_batch if blocks_per_call is None else int(blocks_per_call)
    plan = replace(plan, blocks_per_batch=min(per_call, -(-n // BLOCK)))
    unit = plan.blocks_per_batch * BLOCK          # draws per clearing call
    work = float(n) * (net.n + net.liabilities.nnz)
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise ContagionError(f"chunk_size must be a positive whole number, got {chunk_size!r}")
    reached = None
    with resolve_executor(executor, work) as (ex, workers):
        runner = _Runner(seed, ex, workers, chunk_size, progress, n)
        if until_se is None:
            blocks = runner.batches(plan, n, 0, -(-n // unit))
        else:
            blocks, n, reached = _until(runner, plan, n, float(until_se), per_call)
            plan = replace(plan, blocks_per_batch=min(per_call, -(-n // BLOCK)))
        system_loss = np.concatenate([b["system_loss"] for b in blocks])
        es_contribution = runner.tail(plan, system_loss, config.levels) if contributions else None
    defaults = np.zeros(net.n, dtype=np.int64)
    contribution = np.zeros(net.n)
    for blk in blocks:  # in batch order: the same sums whatever the chunking
        defaults += blk["defaults"]
        contribution += blk["contribution"]
    unpaid, unpaid_se = _combine(blocks, "unpaid")
    eq_loss, eq_loss_se = _combine(blocks, "equity_loss")
    bits = np.concatenate([b["bits"] for b in blocks]) if blocks[0]["bits"] is not None else None
    return SweepResult(
        names=net.names, types=net.types, default_probability=defaults / n, expected_unpaid=unpaid,
        expected_loss=eq_loss, system_loss=system_loss,
        defaults=np.concatenate([b["n_defaults"] for b in blocks]), n=n, seed=seed, method=method, config=config,
        params=dict(params), scenarios=tuple(sc.name for sc in applied), expected_unpaid_se=unpaid_se,
        expected_loss_se=eq_loss_se, loss_contribution=contribution / n, es_contribution=es_contribution,
        default_bits=bits, confidence=float(confidence), until_se=None if until_se is None else float(until_se),
        target_reached=reached, ids=net.ids,
    )
