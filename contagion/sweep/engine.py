"""Running a sweep: draws in fixed blocks, batched exact clearing, summaries merged in batch order.

Workers sample and clear batches of draws and send back mergeable summaries
(:mod:`contagion.sweep.summary`), never per-draw data; the driver merges them
in batch order as they arrive, with a bounded number of tasks in flight
(:func:`contagion.executors.stream_tasks`), so that its memory does not grow
with the number of draws -- except for the exact tail of the loss
distribution, ``16`` bytes for each of the ``(1 - min(levels))`` share of draws
(plus the draws tied with the last of them), which VaR, ES and the Euler
contributions read. Per-draw data go only to ``draws_out``, streamed batch by
batch (:class:`~contagion.sweep.draws.DrawsWriter`). See :mod:`contagion.sweep`
for the model and the reproducibility contract.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import Executor
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ContagionError, ScenarioError, check_memory
from ..executors import resolve_executor, stream_tasks
from .config import DISTRIBUTIONS, SweepConfig
from .result import LossSummary, SweepResult
from .summary import BLOCK, HIST_CELLS, BlockFold, Histogram, Moments, TailReservoir, block_stats, rank_of, \
    tail_size, top_records

#: Largest network whose per-draw default flags go to ``draws_out`` (packed, one bit per institution and
#: draw, in the spool file; the ``--co-default`` institutions' flags are written); above it they are not.
MAX_FLAGGED = 4096

#: Largest network whose co-default counts (draws in which both institutions of a pair default, every pair) are
#: kept: :meth:`SweepResult.co_default`. Above it the matrix is not computed (an empty frame).
MAX_CO_DEFAULT = 512

#: ``until_se``: the fewest blocks of draws before the precision may be judged reached (1,024 draws).
MIN_BLOCKS_UNTIL_SE = 4

#: Bytes the driver holds per record of the exact tail: loss and draw number, with room for the records that
#: arrive between two cuts back to the top ``k`` and the copy a cut makes.
BYTES_PER_TAIL_RECORD = 40

__all__ = ["BLOCK", "CLEAR_WORK", "CLEAR_MEMORY", "MAX_BLOCKS_PER_BATCH", "MAX_FLAGGED", "MAX_CO_DEFAULT",
           "MIN_BLOCKS_UNTIL_SE", "clearing_batch", "sample_losses", "run_sweep"]

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
    units: np.ndarray | None = None        # fire sales: units held (n, assets), else None
    base_prices: np.ndarray | None = None  # fire sales: the baseline's clearing prices (assets,)
    base_received: np.ndarray | None = None  # the baseline's receipts (claims paid by seniority / collateral)
    base_owed: np.ndarray | None = None      # the baseline's obligations (guarantees as called)
    base_calls: np.ndarray | None = None     # the baseline's unpaid guarantee calls (BatchClearingResult.unpaid_rise)


@dataclass(frozen=True)
class _Want:
    """What workers keep of each batch (small; built per task, with the tail threshold reached so far)."""

    k: int                                  # tail records (the k largest losses, ties included)
    floor: float                            # records below it are not needed (a lower bound of the final cut)
    hist: tuple[float, float, int]          # histogram cells over the support of the system loss
    price_hist: tuple[tuple[float, float], ...] = ()   # fire sales: support of each asset's price
    co_default: bool = False
    draws: bool = False                     # per-draw data for draws_out
    flags: bool = False                     # ... with the packed default flags


@dataclass
class _Batch:
    """The summaries of one cleared batch (what a worker sends back instead of its draws)."""

    u: int
    count: int
    first: int
    defaults: np.ndarray
    unpaid: np.ndarray
    unpaid_m2: np.ndarray
    equity_loss: np.ndarray
    equity_loss_m2: np.ndarray
    contribution: np.ndarray
    blocks: tuple[np.ndarray, np.ndarray, np.ndarray]
    xmin: float
    xmax: float
    hist: tuple[np.ndarray, np.ndarray]
    n_defaults: np.ndarray
    tail: tuple[np.ndarray, np.ndarray]
    co_default: tuple[np.ndarray, np.ndarray] | None = None
    prices: tuple | None = None
    draws: tuple | None = None


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


def _masks(net, config: SweepConfig) -> tuple[list[np.ndarray], list[str]]:
    """The institutions each entry of ``config`` hits, and every problem: a target or selector that matches
    nothing, an institution hit by two entries (each follows one distribution)."""
    owner = np.full(net.n, -1, dtype=np.int64)
    masks, problems = [], []
    for k, entry in enumerate(config.shocks):
        try:
            mask = entry.node_mask(net)
        except ScenarioError as exc:
            problems.append(f"{config.where}: shocks[{k}].{exc}")
            mask = np.zeros(net.n, dtype=bool)
        clash = mask & (owner >= 0)
        if clash.any():
            i = int(np.flatnonzero(clash)[0])
            problems.append(f"{config.where}: shocks[{k}]: {net.names[i]!r} is already hit by "
                            f"shocks[{owner[i]}]; each institution may follow one distribution")
        owner[mask & (owner < 0)] = k
        masks.append(mask)
    return masks, problems


def sweep_problems(net, config: SweepConfig) -> list[str]:
    """Every problem of applying ``config`` to ``net`` (its targets and selectors; see :func:`run_sweep`), as
    ``contagion validate`` lists them; empty when it applies.

    >>> import contagion
    >>> cfg = SweepConfig.from_dict({"shocks": [{"target": "Core", "distribution": "fixed", "value": 0.25},
    ...                                         {"target": "Cor", "distribution": "fixed", "value": 0.5}]})
    >>> sweep_problems(contagion.load_dataset("core-periphery"), cfg)
    ["sweep 'sweep': shocks[1].target: unknown institution 'Cor' (did you mean 'Core'?)"]
    """
    return _masks(net, config)[1]


def _plan(net, config: SweepConfig, method: str, params: Mapping[str, Any], base_payments: np.ndarray,
          units: np.ndarray | None = None, base_prices: np.ndarray | None = None) -> _Plan:
    masks, problems = _masks(net, config)
    if problems:
        raise ScenarioError.listing(problems)
    idx_parts, load_parts, groups = [], [], []
    start = 0
    for entry, mask in zip(config.shocks, masks):
        pos = np.flatnonzero(mask)
        rho = config.correlation if entry.correlation is None else entry.correlation
        idx_parts.append(pos)
        load_parts.append(np.full(pos.size, math.sqrt(rho)))
        groups.append((entry.distribution, entry.kwargs, np.arange(start, start + pos.size)))
        start += pos.size
    return _Plan(network=net, idx=np.concatenate(idx_parts), loading=np.concatenate(load_parts),
                 groups=tuple(groups), base_payments=base_payments, method=method, params=dict(params),
                 blocks_per_batch=clearing_batch(net), units=units, base_prices=base_prices)


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
    """Clear draws with loss fractions ``loss`` (draws x shocked): ``(outside assets lost (m, k), batch)``
    (a :class:`~contagion.clearing.firesale_batch.FireSaleBatchResult`, with prices, for the fire-sale methods)."""
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


def _sweep_task(plan: _Plan, seed: int, n: int, first_batch: int, last_batch: int, want: _Want) -> list[_Batch]:
    """Sample and clear batches ``first_batch .. last_batch - 1``; the summaries of each (:class:`_Batch`)."""
    p0 = plan.base_payments
    idx = plan.idx
    g = plan.blocks_per_batch
    hist = Histogram(*want.hist)
    out = []
    for u in range(first_batch, last_batch):
        # every call clears g whole blocks (the last one padded with the draws that follow, then dropped),
        # so that every call has the same shape whatever the chunking
        loss = np.concatenate([_block_losses(plan, seed, b) for b in range(u * g, (u + 1) * g)], axis=0)
        first = u * g * BLOCK
        size = min(n, (u + 1) * g * BLOCK) - first
        lost_all, batch = _clear_fractions(plan, loss)
        P = batch.payments[:, :size]
        D = batch.defaulted[:, :size]
        Q = batch.prices[:, :size] if plan.units is not None else None
        # what each one owed in each draw (caps of residual value guarantees are not obligations; guarantees
        # as called) and how its payments spread over its creditors: the batch's network, not the plan's
        owed, PiT = batch.owed[:, :size], batch.network.PiT
        dP = batch.unpaid_rise(plan.base_payments, plan.base_owed, plan.base_calls, size)   # rise in what is unpaid
        lost = np.ascontiguousarray(lost_all[:, :size])
        unpaid = np.subtract(owed, P)                                 # what each one leaves unpaid, per draw
        if batch.inflow is None:                                      # fall in what each one receives
            eq = np.asarray(PiT @ np.subtract(p0[:, None], P))
        else:                                                         # (claims paid by seniority, calls)
            eq = np.subtract(plan.base_received[:, None], batch.inflow[:, :size])
        if batch.obligations is not None:                             # and the rise in what it owes (calls)
            eq += np.subtract(owed, plan.base_owed[:, None])
        del batch
        eq[idx] += lost
        if Q is not None:                                             # fire sales: holdings marked down
            eq += plan.units @ (plan.base_prices[:, None] - Q)
        contribution = dP.sum(axis=1)
        contribution[idx] += lost.sum(axis=1)
        x = lost.sum(axis=0) + dP.sum(axis=0)                         # the system loss of each draw
        nd = D.sum(axis=0, dtype=np.int64)
        cells = np.bincount(hist.cell_of(x), minlength=hist.cells)
        nz = np.flatnonzero(cells)
        co = None
        if want.co_default:
            who = np.flatnonzero(D.any(axis=1))
            F = D[who].astype(np.float32)                             # 0/1: float32 sums exact below 2**24 draws
            co = who, np.rint(F @ F.T).astype(np.int64)
        prices = None
        if Q is not None:
            pc = []
            for a, (lo, hi) in enumerate(want.price_hist):
                h = Histogram(lo, hi, want.hist[2])
                c = np.bincount(h.cell_of(Q[a]), minlength=h.cells)
                pc.append((np.flatnonzero(c), c[c > 0]))
            prices = (Q.sum(axis=1), _m2(Q), Q.min(axis=1), Q.max(axis=1), pc)
        draws = None
        if want.draws:
            bits = np.packbits(D.T, axis=1, bitorder="little") if want.flags else None
            draws = (x, nd, bits, None if Q is None else np.array(Q))
        out.append(_Batch(
            u=u, count=size, first=first, defaults=D.sum(axis=1, dtype=np.int64),
            unpaid=unpaid.sum(axis=1), unpaid_m2=_m2(unpaid), equity_loss=eq.sum(axis=1), equity_loss_m2=_m2(eq),
            contribution=contribution, blocks=block_stats(x), xmin=float(x.min()), xmax=float(x.max()),
            hist=(nz, cells[nz]), n_defaults=np.bincount(nd, minlength=plan.network.n + 1),
            tail=top_records(x, np.arange(first, first + size, dtype=np.int32 if n < 2**31 else np.int64),
                             want.k, want.floor),
            co_default=co, prices=prices, draws=draws))
    return out


def _tail_task(plan: _Plan, seed: int, draws: np.ndarray, tail: np.ndarray, rules: tuple) -> np.ndarray:
    """Re-clear the tail draws ``draws`` (sorted draw numbers, losses ``tail``) and return ``sum_d l(d) w(d)``
    per level: ``(institutions, levels)``, where ``l_i(d)`` is institution i's outside assets lost plus the
    fall in its payments in draw ``d`` and ``w`` the weights :func:`_weights` gives by ``rules``."""
    blocks = np.unique(draws // BLOCK)
    loss = np.concatenate([_block_losses(plan, seed, int(b)) for b in blocks], axis=0)
    loss = loss[np.searchsorted(blocks, draws // BLOCK) * BLOCK + draws % BLOCK]
    lost, batch = _clear_fractions(plan, loss)
    ell = batch.unpaid_rise(plan.base_payments, plan.base_owed, plan.base_calls)
    ell[plan.idx] += lost
    return ell @ _weights(tail, rules)


def _weights(tail: np.ndarray, rules: tuple) -> np.ndarray:
    """The expected-shortfall weight of each tail draw at each level ``(draws, levels)``: per level ``(v, above,
    at)``, the weight ``above`` of a loss above the VaR ``v`` and ``at`` of a loss equal to it."""
    W = np.zeros((tail.size, len(rules)))
    for j, (v, above, at) in enumerate(rules):
        W[tail > v, j] = above
        W[tail == v, j] = at
    return W


def _tail_weights(loss: np.ndarray, draws: np.ndarray, n: int, levels: Sequence[float]
                  ) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The draws that carry weight in the expected shortfall at some level, their losses, and the weighting
    rules of :func:`_weights`, from the kept tail (``loss`` ascending, ``draws`` their numbers: every draw at
    or above each level's VaR).

    At level ``q`` with ``v = VaR_q``, ``a`` draws above ``v`` and ``t`` at it: ``1 / (n (1 - q))`` above,
    ``(1 - q - a / n) / ((1 - q) t)`` at ``v`` (the weighting of :meth:`SweepResult.es`, spread evenly over
    ties), so that ``sum_d w(d) L(d) = ES_q``. Draws with no loss carry nothing (every ``l_i`` is 0) and are
    left out. Draws come in increasing draw number.
    """
    k = loss.size
    vs = [float(loss[rank_of(n, q) - 1 - (n - k)]) for q in levels]
    idx = np.flatnonzero((loss >= min(vs)) & (loss != 0.0))
    idx = idx[np.argsort(draws[idx], kind="stable")]
    rules = []
    for q, v in zip(levels, vs):
        above = int(np.count_nonzero(loss > v))
        ties = int(np.count_nonzero(loss == v))
        rules.append((v, 1.0 / (n * (1.0 - q)), (1.0 - q - above / n) / ((1.0 - q) * ties)))
    return draws[idx], loss[idx], tuple(rules)


class _Fold:
    """The driver's side: batch summaries merged in batch order into the sweep's totals."""

    def __init__(self, plan: _Plan, n_inst: int, k: int, hist: tuple[float, float, int],
                 price_hist: tuple[tuple[float, float], ...], co_default: bool, writer: Any = None) -> None:
        self.count = 0
        self.n_blocks = 0
        self.defaults = np.zeros(n_inst, dtype=np.int64)
        self.unpaid = Moments(n_inst)
        self.equity_loss = Moments(n_inst)
        self.contribution = np.zeros(n_inst)
        self.blocks = BlockFold()
        self.xmin, self.xmax = math.inf, -math.inf
        self.hist = Histogram(*hist)
        self.n_defaults = np.zeros(n_inst + 1, dtype=np.int64)
        self.tail = TailReservoir(k)
        self.co_default = np.zeros((n_inst, n_inst), dtype=np.int64) if co_default else None
        A = len(price_hist)
        self.prices = Moments(A) if plan.units is not None else None
        self.pmin, self.pmax = np.full(A, np.inf), np.full(A, -np.inf)
        self.phist = [Histogram(lo, hi, hist[2]) for lo, hi in price_hist]
        self.want = _Want(k=k, floor=-math.inf, hist=hist, price_hist=price_hist, co_default=co_default,
                          draws=writer is not None, flags=writer is not None and writer.flags)
        self.writer = writer

    def next_want(self) -> _Want:
        return replace(self.want, floor=self.tail.floor)

    def reached(self, b: _Batch, target: float, cap: int) -> int | None:
        """With batch ``b`` next: the number of draws at the first block where the standard error of the mean
        system loss is at most ``target`` (from :data:`MIN_BLOCKS_UNTIL_SE` blocks on), else None."""
        f = self.blocks.copy()
        blocks = self.n_blocks
        for c, m, v in zip(*b.blocks):
            f.add(c, m, v)
            blocks += 1
            if blocks >= MIN_BLOCKS_UNTIL_SE and f.se <= target:
                return min(blocks * BLOCK, cap)
        return None

    def add(self, b: _Batch) -> None:
        self.count += b.count
        self.defaults += b.defaults
        self.unpaid.add(b.count, b.unpaid, b.unpaid_m2)
        self.equity_loss.add(b.count, b.equity_loss, b.equity_loss_m2)
        self.contribution += b.contribution
        for c, m, v in zip(*b.blocks):
            self.blocks.add(c, m, v)
            self.n_blocks += 1
        self.xmin, self.xmax = min(self.xmin, b.xmin), max(self.xmax, b.xmax)
        self.hist.add(*b.hist)
        self.n_defaults += b.n_defaults
        self.tail.add(*b.tail)
        if self.co_default is not None and b.co_default is not None:
            who, C = b.co_default
            self.co_default[np.ix_(who, who)] += C
        if self.prices is not None and b.prices is not None:
            total, m2, lo, hi, cells = b.prices
            self.prices.add(b.count, total, m2)
            self.pmin, self.pmax = np.minimum(self.pmin, lo), np.maximum(self.pmax, hi)
            for h, (c, k) in zip(self.phist, cells):
                h.add(c, k)
        if self.writer is not None:
            self.writer.add(*b.draws)


class _Runner:
    """Streams clearing batches through the executor (tasks of whole batches, a bounded number in flight) into
    a :class:`_Fold`, and re-clears the tail draws for the Euler contributions."""

    def __init__(self, seed: int, ex: Executor | None, workers: int, chunk_size: int | None,
                 progress: Callable[[int, int], None] | None, total: int) -> None:
        self.seed, self.ex, self.workers, self.chunk_size = seed, ex, workers, chunk_size
        self.progress, self.total, self.done = progress, total, 0

    def batches(self, plan: _Plan, n: int, first: int, last: int, fold: _Fold) -> Iterator[_Batch]:
        """The batches ``first .. last - 1`` of a sweep of ``n`` draws, in order (each task is built when it is
        sent, with the tail threshold ``fold`` has reached)."""
        unit = plan.blocks_per_batch * BLOCK
        if self.chunk_size is None:
            per_task = max(1, min(max(1, 4096 // unit), -(-(last - first) // (4 * self.workers))))
        else:
            per_task = -(-int(self.chunk_size) // unit)

        def tasks():
            for u in range(first, last, per_task):
                yield self.seed, n, u, min(u + per_task, last), fold.next_want()

        window = 2 * max(self.workers, 1)
        with closing(stream_tasks(_sweep_task, plan, tasks(), self.ex, window)) as parts:
            for part in parts:
                yield from part
                self.done += sum(b.count for b in part)
                if self.progress is not None:
                    self.progress(min(self.done, self.total), self.total)

    def tail(self, plan: _Plan, loss: np.ndarray, draws: np.ndarray, n: int, levels: Sequence[float]) -> np.ndarray:
        """Euler contributions ``(levels, institutions)`` from the re-cleared tail draws, one task per batch,
        streamed (a bounded number in flight) and added in batch order."""
        chosen, tail, rules = _tail_weights(loss, draws, n, levels)
        out = np.zeros((plan.network.n, len(levels)))
        if chosen.size:
            unit = plan.blocks_per_batch * BLOCK
            cuts = np.r_[0, np.flatnonzero(np.diff(chosen // unit)) + 1, chosen.size]
            tasks = ((self.seed, chosen[a:b], tail[a:b], rules) for a, b in zip(cuts[:-1], cuts[1:]))
            with closing(stream_tasks(_tail_task, plan, tasks, self.ex, 2 * max(self.workers, 1))) as parts:
                for part in parts:  # in batch order
                    out += part
        return out.T


def _support(plan: _Plan) -> tuple[float, float]:
    """Smallest and largest system loss any draw can have: every shocked institution at the bottom, then at the
    top, of its distribution's support (clearing is monotone in outside assets, so every draw lies between)."""
    lo = np.empty(plan.idx.size)
    hi = np.empty(plan.idx.size)
    for dist, kw, cols in plan.groups:
        ends = DISTRIBUTIONS[dist].ppf(np.array([0.0, 1.0]), **kw)
        lo[cols], hi[cols] = float(ends[0]), float(ends[1])
    lost, batch = _clear_fractions(plan, np.vstack([lo, hi]))
    x = lost.sum(axis=0) + batch.unpaid_rise(plan.base_payments, plan.base_owed, plan.base_calls).sum(axis=0)
    return float(min(x)), float(max(x))


def _collect(fold: _Fold, plan: _Plan, runner: _Runner, n: int, config: SweepConfig, z: float,
             contributions: bool, assets: Sequence[str]) -> tuple[LossSummary, np.ndarray | None, Any]:
    """The loss summary, the Euler contributions (tail draws re-cleared) and the price summaries of a fold."""
    fold.tail.trim(tail_size(n, config.levels, z))
    loss, draws = fold.tail.arrays()
    draws = draws.astype(np.int64)
    summary = LossSummary(n=n, mean=fold.blocks.mean, std=fold.blocks.std, mean_se=fold.blocks.se,
                          min=fold.xmin, max=fold.xmax, tail=loss, tail_draws=draws, histogram=fold.hist)
    es_contribution = runner.tail(plan, loss, draws, n, config.levels) if contributions else None
    prices = None
    if fold.prices is not None:
        from .result import PriceSummary

        prices = {name: PriceSummary(n=n, mean=float(fold.prices.mean[a]), mean_se=float(fold.prices.se[a]),
                                     std=float(fold.prices.std[a]), min=float(fold.pmin[a]),
                                     max=float(fold.pmax[a]), histogram=fold.phist[a])
                  for a, name in enumerate(assets)}
    return summary, es_contribution, prices


def _stream_until(runner: _Runner, plan: _Plan, fold: _Fold, cap: int, target: float | None
                  ) -> tuple[int | None, _Batch | None]:
    """Merge the batches of a sweep of ``cap`` draws into ``fold`` in order; with ``target``, stop before the
    batch in which the standard error of the mean system loss reaches it: ``(draws there, that batch)``."""
    unit = plan.blocks_per_batch * BLOCK
    for b in runner.batches(plan, cap, 0, -(-cap // unit), fold):
        if target is not None:
            N = fold.reached(b, target, cap)
            if N is not None:
                return N, b
        fold.add(b)
    return None, None


def run_sweep(net, config: SweepConfig, n: int = 10_000, seed: int = 0, chunk_size: int | None = None,
              executor: Executor | str | None = None, *, method: str = "eisenberg-noe",
              progress: Callable[[int, int], None] | None = None, scenarios: Sequence[Any] = (),
              blocks_per_call: int | None = None, until_se: float | None = None, confidence: float = 0.95,
              contributions: bool = True, draws_out: str | os.PathLike | None = None, draws_flags: int = 5,
              **params: Any) -> SweepResult:
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
        about four tasks per worker. At most two tasks per worker are in flight
        at a time.
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
        ``"eisenberg-noe"``, ``"rogers-veraart"`` (with ``alpha``, ``beta``),
        ``"fire-sale"`` (with ``impact``) or ``"fire-sale-leverage"`` (``impact``,
        ``leverage``): every draw cleared by the greatest fire-sale clearing
        (:mod:`contagion.clearing.firesale_batch`), the distribution of each
        asset's clearing price in ``SweepResult.prices``, and the fall in the
        value of the holdings in each institution's expected loss.
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
        ``run_sweep(n=result.n)`` with the same seed. (The batches in flight
        when it is reached are dropped; the batch that holds the stopping block
        is cleared again, shorter, unless it ends there.) Beware of rare
        losses: a run of draws without any loss has a standard error of 0.
    confidence : float
        Level of the confidence intervals, in (0, 1).
    contributions : bool
        Compute the Euler contributions to the expected shortfall
        (``SweepResult.es_contribution``; NaN when False). They need each
        institution's loss in every tail draw, which workers do not send (that
        would cost institutions x tail draws of memory): the draws at or above
        the smallest level's VaR (with a loss), known from the kept tail, are
        sampled and cleared again, in batches on the same executor -- about
        ``1 - min(levels)`` of the clearing work, plus sampling the blocks that
        hold them.
    draws_out : path, optional
        Also write one row per draw to this ``.parquet`` or ``.csv`` file
        (:class:`~contagion.sweep.draws.DrawsWriter`: streamed batch by batch,
        the file written atomically at the end): ``draw``, ``system_loss``,
        ``defaults``, ``defaulted:<name>`` for the ``draws_flags`` institutions
        most likely to default, ``price:<asset>`` with fire sales. The only way
        to keep per-draw data.

    Returns
    -------
    SweepResult
    """
    from scipy.special import ndtri

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
    if blocks_per_call is not None and (isinstance(blocks_per_call, bool) or int(blocks_per_call) < 1):
        raise ContagionError(f"blocks_per_call must be a positive whole number, got {blocks_per_call!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise ContagionError(f"chunk_size must be a positive whole number, got {chunk_size!r}")
    n, seed = int(n), int(seed)
    z = float(ndtri((1.0 + confidence) / 2.0))
    k = tail_size(n, config.levels, z)
    check_memory(k * BYTES_PER_TAIL_RECORD + (8 * net.n * net.n if net.n <= MAX_CO_DEFAULT else 0),
                 f"a sweep of {n:,} draws (the exact tail: the {k:,} largest losses)")
    from ..pipeline import prepare

    net, applied, _ = prepare(net, [*scenarios, *([config.scenario] if config.scenario else [])])
    base = clear_many(net, net.external_assets[:, None], method, **params)
    assets: tuple[str, ...] = tuple(getattr(base, "asset_names", ()) or ())
    units = base.holdings if assets else None
    plan = _plan(net, config, method, params, base.payments[:, 0].copy(), units,
                 base.prices[:, 0].copy() if assets else None)
    plan = replace(plan, base_received=base.received[:, 0].copy(), base_owed=base.owed[:, 0].copy(),
                   base_calls=None if base.unpaid_calls is None else base.unpaid_calls[:, 0].copy())
    per_call = plan.blocks_per_batch if blocks_per_call is None else int(blocks_per_call)
    plan = replace(plan, blocks_per_batch=min(per_call, -(-n // BLOCK)))
    cells = max(HIST_CELLS, 64 * config.bins)
    hist = (*_support(plan), cells)
    price_hist = tuple((float(s * math.exp(-i * u)), float(s)) for s, i, u in
                       zip(base.start_prices, _impact_array(params, assets), units.sum(axis=0))) if assets else ()
    writer = None
    if draws_out is not None:
        from .draws import DrawsWriter

        writer = DrawsWriter(draws_out, net.n, assets, flags=net.n <= MAX_FLAGGED)

    def new_fold(p: _Plan) -> _Fold:
        if writer is not None:
            writer.reset()
        return _Fold(p, net.n, k, hist, price_hist, net.n <= MAX_CO_DEFAULT, writer)

    work = float(n) * (net.n + net.liabilities.nnz)
    reached = None
    try:
        with resolve_executor(executor, work) as (ex, workers):
            runner = _Runner(seed, ex, workers, chunk_size, progress, n)
            fold = new_fold(plan)
            N, at = _stream_until(runner, plan, fold, n, None if until_se is None else float(until_se))
            if until_se is not None:
                reached = N is not None
            if N is not None:                     # until_se reached inside batch `at`
                final_g = min(per_call, -(-N // BLOCK))
                if final_g != plan.blocks_per_batch:   # a sweep of N draws is one shorter batch: clear it again
                    plan = replace(plan, blocks_per_batch=final_g)
                    fold = new_fold(plan)
                    _stream_until(runner, plan, fold, N, None)
                elif at.first + at.count == N:          # the batch ends there: the same as in a sweep of N draws
                    fold.add(at)
                else:                                   # cleared again with its draws after N left out
                    for b in runner.batches(plan, N, at.u, at.u + 1, fold):
                        fold.add(b)
                n = N
            loss, es_contribution, prices = _collect(fold, plan, runner, n, config, z, contributions, assets)
        res = SweepResult(
            names=net.names, types=net.types, default_probability=fold.defaults / n,
            expected_unpaid=fold.unpaid.mean, expected_loss=fold.equity_loss.mean, loss=loss,
            defaults_count=fold.n_defaults, n=n, seed=seed, method=method, config=config, params=dict(params),
            scenarios=tuple(sc.name for sc in applied), expected_unpaid_se=fold.unpaid.se,
            expected_loss_se=fold.equity_loss.se, loss_contribution=fold.contribution / n,
            es_contribution=es_contribution, co_default_counts=fold.co_default, confidence=float(confidence),
            until_se=None if until_se is None else float(until_se), target_reached=reached, ids=net.ids,
            prices=prices)
        if writer is not None:
            writer.finish(res.ranking()[:max(int(draws_flags), 0)], net.names)
    finally:
        if writer is not None:
            writer.close()
    return res


def _impact_array(params: Mapping[str, Any], assets: Sequence[str]) -> np.ndarray:
    """The fire-sale price impact of each asset (a number for all, or a mapping by asset name)."""
    imp = params.get("impact", 0.01)
    if isinstance(imp, Mapping):
        return np.array([float(imp[a]) for a in assets])
    return np.full(len(assets), float(imp))
