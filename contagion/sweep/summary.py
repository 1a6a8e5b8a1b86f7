"""Mergeable summaries of a sweep's draws: what workers send back instead of per-draw data.

A worker clears a batch of draws and reduces it at once to summaries that the
driver merges in batch order, so that the driver's memory does not grow with the
number of draws (only the exact tail does, by ``1 - min(levels)`` of it):

- :func:`block_stats`: per block of :data:`BLOCK` draws, the count, sum and sum
  of squared deviations of the system loss; :class:`BlockFold` folds them in
  block order (Chan, Golub & LeVeque 1983) into the standard deviation and the
  standard error of the mean after every block (what ``--until-se`` judges),
  and adds the sums exactly (Shewchuk 1997) for the mean;
- :class:`Moments`: per institution, sums added in batch order (the means) and
  sums of squared deviations merged pairwise (Chan et al.; the standard errors);
- :class:`Histogram`: counts on fixed cells over the support of the system
  loss (known before the first draw), coarsened to the configured number of
  bins over the observed range at the end;
- :class:`TailReservoir`: the ``k`` largest losses with their draw numbers
  (and every draw tied with the smallest of them), ``k`` chosen from the number
  of draws, the levels and the confidence (:func:`tail_size`) so that every
  order statistic VaR, ES and their intervals read is kept: the tail is exact.

Integer counts (defaults per institution, co-defaults, histogram cells, the
number of defaults per draw) are exact whatever the order of merging; float sums
are merged in batch order, so a sweep gives the same numbers to the bit whatever
its chunking and its workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["BLOCK", "block_stats", "BlockFold", "Moments", "Histogram", "TailReservoir", "tail_size",
           "top_records", "rank_of", "HIST_CELLS"]

#: Draws per block: the unit of randomness (one SeedSequence child each), of batched clearing and of the
#: running standard error. Part of the reproducibility contract: changing it changes the numbers for a seed.
BLOCK = 256

#: Fewest cells of the fixed histogram over the support (64 per configured bin when that is more).
HIST_CELLS = 16_384


def rank_of(n: int, level: float) -> int:
    """1-based rank of the order statistic that is the VaR at ``level``: ``ceil(n * level)`` (at least 1), with
    ``level`` read as the decimal it is written as, in exact arithmetic: 0.1 of 1,000 draws is rank 100 (the
    float 0.1 is a hair above 1/10), 0.9500000000005 is rank 951 (a tolerance of 1e-9 made it 950).

    >>> rank_of(1000, 0.1), rank_of(1000, 0.95), rank_of(1000, 0.9500000000005), rank_of(3, 0.999)
    (100, 950, 951, 3)
    """
    from fractions import Fraction

    return max(int(math.ceil(Fraction(repr(float(level))) * n)), 1)


def order_ranks(n: int, level: float, width: float) -> tuple[int, int]:
    """1-based ranks ``n q -+ width sqrt(n q (1 - q))`` (floor / ceil, clipped to [1, n]): the VaR interval."""
    half = width * math.sqrt(n * level * (1.0 - level))
    lo = min(max(int(math.floor(n * level - half)), 1), n)
    hi = min(max(int(math.ceil(n * level + half)), 1), n)
    return lo, hi


def tail_size(n: int, levels, z: float) -> int:
    """How many of the largest of ``n`` losses a sweep keeps so that VaR, ES, their standard errors and
    intervals at every level (confidence quantile ``z``) read only kept order statistics.

    >>> tail_size(100_000, (0.95, 0.99), 1.96)    # ranks from 94,864 (n q - 1.96 sqrt(n q (1 - q))) up
    5137
    """
    if n <= 0:
        return 0
    lowest = n
    for q in levels:
        lowest = min(lowest, rank_of(n, q), order_ranks(n, q, max(z, 1.0))[0])
    return n - lowest + 1


# ---------------------------------------------------------------------------------------------- blocks
def block_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block of :data:`BLOCK` values of ``x`` (the last one may be short): ``(counts, sums, m2)``, where
    ``m2`` is the sum of squared deviations from the block's mean. Each block's numbers depend only on its
    own values, so workers and :func:`~contagion.sweep.running_mean_se` compute the same ones."""
    x = np.asarray(x, dtype=float)
    n = x.size
    nb = -(-n // BLOCK)
    if nb == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    xb = np.zeros(nb * BLOCK)
    xb[:n] = x
    xb = xb.reshape(nb, BLOCK)
    counts = np.full(nb, BLOCK, dtype=np.int64)
    counts[-1] = n - (nb - 1) * BLOCK
    sums = xb.sum(axis=1)
    dev = xb - (sums / counts)[:, None]
    dev[-1, counts[-1]:] = 0.0
    return counts, sums, np.einsum("ij,ij->i", dev, dev)


def _grow(partials: list, x: float) -> None:
    """Add ``x`` to the exact sum held as non-overlapping ``partials`` (Shewchuk 1997; what ``math.fsum`` does)."""
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo:
            partials[i] = lo
            i += 1
        x = hi
    partials[i:] = [x]


@dataclass
class BlockFold:
    """Blocks folded in order: the count, the exact sum of the block sums (its mean is the correctly rounded
    mean of those sums, whatever the order), and the mean and sum of squared deviations merged pairwise in
    block order (Chan, Golub & LeVeque 1983) for the standard deviation and the standard error."""

    count: int = 0
    running_mean: float = 0.0
    m2: float = 0.0
    partials: list = field(default_factory=list)

    def add(self, c: int, total: float, m2: float) -> None:
        c = int(c)
        mean = float(total) / c
        delta = mean - self.running_mean
        new = self.count + c
        self.running_mean += delta * c / new
        self.m2 += float(m2) + delta * delta * self.count * c / new
        self.count = new
        _grow(self.partials, float(total))

    def copy(self) -> "BlockFold":
        return BlockFold(self.count, self.running_mean, self.m2, list(self.partials))

    @property
    def mean(self) -> float:
        """The blocks' sums (each summed in floating point) added exactly, over the number of draws."""
        return math.fsum(self.partials) / self.count if self.count else math.nan

    @property
    def se(self) -> float:
        """Standard error of the mean, ``sqrt(m2 / (count - 1) / count)`` (NaN below two draws)."""
        return math.sqrt(self.m2 / (self.count - 1) / self.count) if self.count > 1 else math.nan

    @property
    def std(self) -> float:
        """Population standard deviation (``ddof=0``)."""
        return math.sqrt(max(self.m2, 0.0) / self.count) if self.count else math.nan


# ---------------------------------------------------------------------------------------------- moments
class Moments:
    """Per-component sums (added in batch order) and sums of squared deviations (merged pairwise)."""

    def __init__(self, size: int) -> None:
        self.count = 0
        self.sum = np.zeros(size)
        self._mean = np.zeros(size)
        self.m2 = np.zeros(size)

    def add(self, count: int, total: np.ndarray, m2: np.ndarray) -> None:
        """Merge a batch of ``count`` draws with per-component ``total`` and ``m2``."""
        if count <= 0:
            return
        self.sum += total
        mean_b = total / count
        delta = mean_b - self._mean
        new = self.count + count
        self._mean += delta * (count / new)
        self.m2 += m2 + delta * delta * (self.count * count / new)
        self.count = new

    @property
    def mean(self) -> np.ndarray:
        """The sums over the number of draws."""
        return self.sum / self.count

    @property
    def se(self) -> np.ndarray:
        """Standard error of each mean (sample standard deviation over ``sqrt(count)``)."""
        if self.count < 2:
            return np.full_like(self.sum, np.nan)
        return np.sqrt(np.maximum(self.m2, 0.0) / (self.count - 1) / self.count)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.m2, 0.0) / max(self.count, 1))


# ---------------------------------------------------------------------------------------------- histogram
@dataclass
class Histogram:
    """Counts on ``cells`` equal cells over ``[low, high]`` (values outside, by rounding, go to the end cells).

    The cells are fixed before the first draw (the support of the loss), so counts from any batch add up.
    :meth:`coarse` gives at most ``bins`` bins made of whole cells that cover the observed range.
    """

    low: float
    high: float
    cells: int
    counts: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.counts is None:
            self.counts = np.zeros(self.cells, dtype=np.int64)

    @property
    def width(self) -> float:
        return (self.high - self.low) / self.cells

    def edge(self, j) -> np.ndarray:
        return self.low + np.asarray(j, dtype=float) * self.width

    def cell_of(self, x: np.ndarray) -> np.ndarray:
        """The cell of each value: ``low + j w <= x < low + (j + 1) w`` with the edges as :meth:`edge` computes
        them (the last cell closed; outside values clipped to the end cells)."""
        x = np.asarray(x, dtype=float)
        if not self.high > self.low:
            return np.zeros(x.shape, dtype=np.int64)
        j = np.floor((x - self.low) * (self.cells / (self.high - self.low)))
        j = np.clip(np.nan_to_num(j, nan=0.0), 0, self.cells - 1).astype(np.int64)
        # the division may land one cell off the edges as computed: correct it as numpy's histogram does
        j -= (x < self.edge(j)) & (j > 0)
        j += (x >= self.edge(j + 1)) & (j < self.cells - 1)
        return j

    def sparse(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(cells, counts)`` of the values ``x``, non-empty cells only (what a worker sends)."""
        cells, counts = np.unique(self.cell_of(x), return_counts=True)
        return cells, counts.astype(np.int64)

    def add(self, cells: np.ndarray, counts: np.ndarray) -> None:
        np.add.at(self.counts, cells, counts)

    def coarse(self, bins: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)``: at most ``bins`` equal bins of whole cells from the cell of ``lo`` (the observed
        minimum) on, the last one holding ``hi`` (the maximum): as few bins of ``ceil(occupied cells / bins)``
        cells as reach it, so no bin lies wholly past the maximum; one bin ``[lo - 0.5, lo + 0.5]`` when the
        support is a single point (as numpy does)."""
        total = int(self.counts.sum())
        if not self.high > self.low or total == 0:
            return np.array([total], dtype=np.int64), np.array([lo - 0.5, lo + 0.5])
        first, last = (int(c) for c in self.cell_of(np.array([lo, hi])))
        span = last - first + 1
        bins = max(int(bins), 1)
        g = -(-span // bins)
        nb = -(-span // g)         # bins of g cells up to the maximum's cell (bins of them only when g divides)
        padded = np.zeros(nb * g, dtype=np.int64)
        stop = min(first + nb * g, self.cells)
        padded[:stop - first] = self.counts[first:stop]
        return padded.reshape(nb, g).sum(axis=1), self.edge(first + g * np.arange(nb + 1))


# ---------------------------------------------------------------------------------------------- tail
def top_records(loss: np.ndarray, draws: np.ndarray, k: int, floor: float = -math.inf
                ) -> tuple[np.ndarray, np.ndarray]:
    """The records with the ``k`` largest losses (all of those tied with the ``k``-th) at or above ``floor``."""
    keep = loss >= floor if math.isfinite(floor) else np.ones(loss.size, dtype=bool)
    if np.count_nonzero(keep) > k:
        sel = loss[keep]
        t = np.partition(sel, sel.size - k)[sel.size - k] if k > 0 else math.inf
        keep &= loss >= t
    return loss[keep], draws[keep]


class TailReservoir:
    """The ``k`` largest losses seen and their draw numbers, plus every draw tied with the ``k``-th.

    Records arrive in any order; they are buffered and cut back to the top ``k`` once the buffer holds an
    eighth more, so the content after :meth:`arrays` is the same set whatever the order (memory: about 40
    bytes per kept record at the peak of a cut, 12 or 16 when idle). :attr:`floor` (the
    smallest kept loss once ``k`` are kept, else ``-inf``) only rises: records below it are never needed.
    """

    def __init__(self, k: int) -> None:
        self.k = int(k)
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []
        self.size = 0
        self.floor = -math.inf

    def add(self, loss: np.ndarray, draws: np.ndarray) -> None:
        if math.isfinite(self.floor):
            keep = loss >= self.floor
            loss, draws = loss[keep], draws[keep]
        if loss.size:
            self.parts.append((loss, draws))
            self.size += loss.size
        if self.size > self.k + max(self.k // 8, 4 * BLOCK):
            self._compact()

    def _compact(self) -> None:
        if len(self.parts) > 1:
            loss = np.concatenate([p[0] for p in self.parts])
            self.parts = [(None, p[1]) for p in self.parts]       # the losses' parts go now, the draws' next
            draws = np.concatenate([p[1] for p in self.parts])
            self.parts = []
        elif self.parts:
            loss, draws = self.parts[0]
        else:
            return
        if loss.size >= self.k > 0:
            loss, draws = top_records(loss, draws, self.k)
            self.floor = float(loss.min())
        self.parts = [(loss, draws)]
        self.size = loss.size

    def trim(self, k: int) -> None:
        """Keep only the top ``k`` (with ties): what a shorter sweep would have kept."""
        self.k = int(k)
        self._compact()

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(losses ascending, their draw numbers)``; the reservoir is emptied (its memory handed over)."""
        self._compact()
        if not self.parts:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        loss, draws = self.parts.pop()
        self.size = 0
        order = np.lexsort((draws, loss))
        loss = loss[order]
        return loss, draws[order]
