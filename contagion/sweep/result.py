"""The outcome of a Monte Carlo sweep: per-institution averages, the system-loss distribution, and their
Monte Carlo errors.

Standard errors and confidence intervals (level :attr:`SweepResult.confidence`, default 95%, with
``z = Phi^{-1}((1 + confidence) / 2)``); draws are independent, so every one is a plain i.i.d. formula:

- a probability ``p`` (default probabilities, ``P(at least one default)``): binomial standard error
  ``sqrt(p (1 - p) / n)`` and the Wilson score interval (which stays inside [0, 1] and is not empty when ``p``
  is 0 or 1);
- a mean (expected unpaid, expected loss, mean system loss, mean number of defaults): the sample standard
  deviation (``ddof=1``) over ``sqrt(n)``, interval ``mean +- z se``. The system loss's is computed block by
  block (:data:`~contagion.sweep.BLOCK` draws, combined in order), so that the standard error after ``k`` blocks
  is the same number whether the sweep stops there or goes on (``--until-se``);
- VaR at level ``q``: the distribution-free interval of order statistics ``[L_(j), L_(k)]``,
  ``j, k = n q -+ z sqrt(n q (1 - q))`` (normal approximation of the binomial count of draws below the
  quantile); standard error ``(L_(k1) - L_(j1)) / 2`` with ``j1, k1 = n q -+ sqrt(n q (1 - q))`` (the
  order-statistic estimate of ``sqrt(q (1 - q) / n) / f(VaR)``);
- ES at level ``q``: the asymptotic variance of the empirical expected shortfall (Manistre & Hancock 2005;
  Brazauskas et al. 2008), ``(Var[L | tail] + q (ES - VaR)^2) / (n (1 - q))``, the tail variance taken with
  the same weights as :meth:`SweepResult.es`; interval ``ES +- z se``.

None of these needs a random number, so they are identical for a seed whatever the chunking and the workers.
With few draws in the tail (``n (1 - q)`` below a few dozen) the VaR and ES intervals are rough.

A result holds summaries, not draws (:mod:`contagion.sweep.summary`): the system loss's mean, standard
deviation and block-by-block standard error, its smallest and largest value, a histogram on fixed cells, and
the exact tail -- the largest :func:`~contagion.sweep.summary.tail_size` losses with their draw numbers, every
order statistic the VaR, ES and their intervals read at the configured levels and confidence
(:class:`LossSummary`); the number of draws with 0, 1, 2, ... defaults; the co-default counts. Per-draw data
are written only by ``run_sweep(draws_out=...)``.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .config import SweepConfig
from .summary import BLOCK, BlockFold, Histogram, HIST_CELLS, block_stats, order_ranks, rank_of, tail_size

__all__ = ["SweepResult", "LossSummary", "PriceSummary", "running_mean_se", "level_key", "BLOCK"]


def running_mean_se(x: np.ndarray) -> np.ndarray:
    """Standard error of the mean of ``x[:k * BLOCK]`` for every block boundary ``k = 1, 2, ...``.

    Entry ``k - 1`` is ``std(x[:k * BLOCK], ddof=1) / sqrt(k * BLOCK)`` (the last entry: of the whole of
    ``x``), computed from each block's sum and sum of squared deviations combined in block order
    (Chan, Golub & LeVeque 1983), so that it depends only on the first ``k`` blocks -- the same numbers a
    sweep's workers and driver compute (:func:`~contagion.sweep.summary.block_stats`).

    >>> x = np.arange(600, dtype=float)
    >>> se = running_mean_se(x)
    >>> len(se), bool(np.isclose(se[-1], x.std(ddof=1) / np.sqrt(600)))
    (3, True)
    >>> bool(np.isclose(se[0], x[:256].std(ddof=1) / 16))
    True
    """
    counts, sums, m2 = block_stats(x)
    out = np.empty(counts.size)
    fold = BlockFold()
    for b in range(counts.size):
        fold.add(counts[b], sums[b], m2[b])
        out[b] = fold.se
    return out


@dataclass(frozen=True, eq=False)
class LossSummary:
    """What a sweep keeps of the distribution of the system loss over its ``n`` draws.

    Attributes
    ----------
    n : int
    mean, std : float
        Mean and standard deviation (``ddof=0``), from the blocks of draws merged in order.
    mean_se : float
        Standard error of the mean, block by block (:func:`running_mean_se`).
    min, max : float
    tail : ndarray
        The largest ``len(tail)`` losses, ascending: the order statistics ``L_(n - len + 1) .. L_(n)``
        (every draw tied with the smallest of them included).
    tail_draws : ndarray of int
        Their draw numbers (:func:`contagion.sweep.sample_losses` gives their shocks).
    histogram : Histogram
        Counts on fixed cells over the support of the loss.
    """

    n: int
    mean: float
    std: float
    mean_se: float
    min: float
    max: float
    tail: np.ndarray = field(repr=False)
    tail_draws: np.ndarray = field(repr=False)
    histogram: Histogram = field(repr=False)

    @classmethod
    def from_losses(cls, x: Any, levels=(0.95, 0.99), confidence: float = 0.95,
                    support: tuple[float, float] | None = None, cells: int = HIST_CELLS) -> "LossSummary":
        """The summary a sweep would keep of the losses ``x`` (draw ``d`` is ``x[d]``): for tests and for
        losses computed elsewhere. ``support`` (default: the range of ``x``) fixes the histogram's cells."""
        from scipy.special import ndtri

        x = np.asarray(x, dtype=float)
        fold = BlockFold()
        for c, m, v in zip(*block_stats(x)):
            fold.add(c, m, v)
        k = tail_size(x.size, levels, float(ndtri((1.0 + confidence) / 2.0)))
        order = np.argsort(x, kind="stable")[x.size - k:]
        lo, hi = support if support is not None else (float(x.min()), float(x.max()))
        hist = Histogram(lo, hi, cells)
        np.add.at(hist.counts, hist.cell_of(x), 1)
        return cls(n=int(x.size), mean=fold.mean, std=fold.std, mean_se=fold.se, min=float(x.min()),
                   max=float(x.max()), tail=x[order], tail_draws=order.astype(np.int64), histogram=hist)

    def _first_kept(self) -> int:
        return self.n - self.tail.size + 1

    def from_rank(self, rank: int) -> np.ndarray:
        """The order statistics ``L_(rank) .. L_(n)`` (1-based, ascending), from the kept tail.

        Raises
        ------
        ValueError
            ``rank`` lies below the kept tail (a level or confidence the sweep did not keep the draws for).
        """
        first = self._first_kept()
        if rank < first:
            raise ValueError(f"the order statistic of rank {rank:,} of {self.n:,} draws was not kept (the sweep "
                             f"kept the {self.tail.size:,} largest losses, for its levels and confidence); run the "
                             f"sweep with that level among its levels")
        return self.tail[rank - first:]

    def order(self, rank: int) -> float:
        """The order statistic ``L_(rank)`` (1-based, ascending)."""
        return float(self.from_rank(rank)[0])


@dataclass(frozen=True, eq=False)
class PriceSummary:
    """A fire-sale sweep's distribution of one asset's clearing price: mean (its standard error), standard
    deviation, extremes and a histogram on fixed cells over ``[start x exp(-impact x units held), start]``."""

    n: int
    mean: float
    mean_se: float
    std: float
    min: float
    max: float
    histogram: Histogram = field(repr=False)

    def to_dict(self, z: float, bins: int) -> dict[str, Any]:
        counts, edges = self.histogram.coarse(bins, self.min, self.max)
        return {"mean": self.mean, "mean_se": self.mean_se, "mean_ci": [self.mean - z * self.mean_se,
                                                                         self.mean + z * self.mean_se],
                "std": self.std, "min": self.min, "max": self.max,
                "histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Aggregated outcome of a Monte Carlo sweep (immutable; arrays aligned with ``names``).

    Every estimate comes with its Monte Carlo standard error and a confidence interval at level
    :attr:`confidence` (methods in the module docstring of :mod:`contagion.sweep.result`).

    Attributes
    ----------
    names, types : tuple, ndarray
    default_probability : ndarray
        Share of draws in which the institution defaults (standard error
        :attr:`default_probability_se`, interval :meth:`default_probability_ci`).
    expected_unpaid : ndarray
        Mean amount the institution leaves unpaid, ``E[pbar - p]``. (Called
        ``expected_shortfall`` before; that name stays as a deprecated alias for
        one release. The *expected shortfall* of the system is the tail measure
        :meth:`es`.)
    expected_loss : ndarray
        Mean fall of the institution's equity from the base clearing (its own
        outside-asset loss plus what its debtors fail to pay, by seniority and
        collateral where they rank their claims, and the rise of the guarantee
        calls it owes): the loss it *bears*.
    expected_unpaid_se, expected_loss_se : ndarray
        Their standard errors (sample standard deviation over ``sqrt(n)``).
    loss_contribution : ndarray
        ``E[l_i]``, where ``l_i`` is the part of the system loss that arises at
        institution ``i`` in a draw: its outside assets lost plus the fall in its
        payments from the base clearing (what a guarantor pays on a call counts
        as paid on the obligation the call covers: an unpaid call is counted
        once, as in :func:`~contagion.measures.loss_summary`). ``sum_i l_i`` is
        the system loss in every draw, so the contributions add up to the mean
        system loss.
    es_contribution : ndarray, shape (len(levels), n_institutions)
        Euler contributions to the expected shortfall: row ``k`` is
        ``E[l_i | L >= VaR_q]`` at ``q = levels[k]``, with the draws at the VaR
        weighted as in :meth:`es`, so each row adds up to ``es(q)``
        (Tasche 1999). Re-cleared for the tail draws only (see :func:`run_sweep`).
    loss : LossSummary
        The distribution of the Glasserman--Young system loss over the draws
        (outside assets lost plus the increase in total shortfall over the base
        clearing): mean, standard deviation, extremes, histogram and the exact tail.
    defaults_count : ndarray of int, shape (n_institutions + 1,)
        Entry ``j``: the number of draws in which ``j`` institutions default.
    co_default_counts : ndarray of int, shape (n_institutions, n_institutions), or None
        Entry ``(i, j)``: draws in which both default (the diagonal: draws in
        which ``i`` defaults); feeds :meth:`co_default`. None for networks of
        more than :data:`~contagion.sweep.engine.MAX_CO_DEFAULT` institutions.
    prices : mapping or None
        Fire-sale sweeps: asset name -> :class:`PriceSummary` of its clearing price.
    n, seed, method, config, levels
        How it was produced.
    scenarios : tuple of str
        Names of the scenarios applied before the draws (those asked for,
        then the configuration's ``scenario``).
    confidence : float
        Level of every confidence interval (default 0.95).
    until_se : float or None
        The target standard error of the mean system loss when the sweep ran
        until it reached it (``run_sweep(until_se=...)``), else None;
        ``target_reached`` says whether it did before the cap of draws.
    ids : tuple of str
        Institution ids, aligned with ``names``.
    """

    names: tuple[str, ...]
    types: np.ndarray
    default_probability: np.ndarray
    expected_unpaid: np.ndarray
    expected_loss: np.ndarray
    loss: LossSummary = field(repr=False)
    defaults_count: np.ndarray = field(repr=False)
    n: int = 0
    seed: int = 0
    method: str = "eisenberg-noe"
    config: SweepConfig = field(default_factory=SweepConfig, repr=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    scenarios: tuple[str, ...] = ()
    expected_unpaid_se: np.ndarray | None = field(default=None, repr=False)
    expected_loss_se: np.ndarray | None = field(default=None, repr=False)
    loss_contribution: np.ndarray | None = field(default=None, repr=False)
    es_contribution: np.ndarray | None = field(default=None, repr=False)
    co_default_counts: np.ndarray | None = field(default=None, repr=False)
    confidence: float = 0.95
    until_se: float | None = None
    target_reached: bool | None = None
    ids: tuple[str, ...] | None = field(default=None, repr=False)
    prices: Mapping[str, PriceSummary] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ deprecated names
    @property
    def expected_shortfall(self) -> np.ndarray:
        """Deprecated alias of :attr:`expected_unpaid` (removed in the next release)."""
        warnings.warn("SweepResult.expected_shortfall is now expected_unpaid (the mean amount left unpaid); "
                      "'expected shortfall' is the tail measure es()", DeprecationWarning, stacklevel=2)
        return self.expected_unpaid

    @property
    def levels(self) -> tuple[float, ...]:
        return self.config.levels

    @property
    def z(self) -> float:
        """The normal quantile of the confidence intervals, ``Phi^{-1}((1 + confidence) / 2)`` (1.96 at 95%)."""
        from scipy.special import ndtri

        return float(ndtri((1.0 + self.confidence) / 2.0))

    # ------------------------------------------------------------------ per institution
    def _nan(self, a: np.ndarray | None) -> np.ndarray:
        return np.full(len(self.names), np.nan) if a is None else a

    @property
    def default_probability_se(self) -> np.ndarray:
        """Binomial standard error ``sqrt(p (1 - p) / n)`` of each default probability."""
        p = self.default_probability
        return np.sqrt(p * (1.0 - p) / self.n)

    def default_probability_ci(self) -> tuple[np.ndarray, np.ndarray]:
        """Wilson score interval ``(low, high)`` of each default probability at :attr:`confidence`."""
        return wilson(self.default_probability, self.n, self.z)

    def expected_unpaid_ci(self) -> tuple[np.ndarray, np.ndarray]:
        """``expected_unpaid -+ z se``."""
        se = self._nan(self.expected_unpaid_se)
        return self.expected_unpaid - self.z * se, self.expected_unpaid + self.z * se

    def expected_loss_ci(self) -> tuple[np.ndarray, np.ndarray]:
        """``expected_loss -+ z se``."""
        se = self._nan(self.expected_loss_se)
        return self.expected_loss - self.z * se, self.expected_loss + self.z * se

    # ------------------------------------------------------------------ system loss
    @property
    def mean(self) -> float:
        """Mean system loss over the draws."""
        return self.loss.mean

    @property
    def mean_se(self) -> float:
        """Standard error of the mean system loss (block by block; see :func:`running_mean_se`)."""
        return self.loss.mean_se

    def mean_ci(self) -> tuple[float, float]:
        m = self.loss.mean
        return m - self.z * self.mean_se, m + self.z * self.mean_se

    def var(self, level: float) -> float:
        """Value-at-Risk of the system loss: the smallest ``x`` with ``P(loss <= x) >= level``.

        On the sample, the order statistic ``L_(ceil(n * level))`` (1-based).
        """
        return self.loss.order(rank_of(self.n, level))

    def _order(self, level: float, width: float) -> tuple[float, float]:
        lo, hi = order_ranks(self.n, level, width)
        return self.loss.order(lo), self.loss.order(hi)

    def var_ci(self, level: float) -> tuple[float, float]:
        """Distribution-free interval of order statistics ``(L_(j), L_(k))``, ``j, k = n q -+ z sqrt(n q (1 - q))``."""
        return self._order(level, self.z)

    def var_se(self, level: float) -> float:
        """``(L_(k1) - L_(j1)) / 2`` with ``j1, k1 = n q -+ sqrt(n q (1 - q))``."""
        lo, hi = self._order(level, 1.0)
        return (hi - lo) / 2.0

    def es(self, level: float) -> float:
        """Expected shortfall (conditional tail expectation) of the system loss at ``level``.

        The mean of the worst ``1 - level`` share of the sample, with the
        boundary draw weighted fractionally (Acerbi & Tasche 2002, eq. 3.3)::

            ES = ( sum_{k > m} L_(k) / n + (m / n - level) L_(m) ) / (1 - level),  m = ceil(n * level)

        computed as ``L_(m) + sum_{k > m} (L_(k) - L_(m)) / (n (1 - level))``, the same number: VaR plus the
        mean excess over it, so that ES is never below VaR by rounding (and equals it when the tail is flat).
        """
        n = self.n
        m = rank_of(n, level)
        s = self.loss.from_rank(m)
        var = float(s[0])
        return var + float(np.sum(s[1:] - var)) / (n * (1.0 - level))

    def es_se(self, level: float) -> float:
        """Asymptotic standard error of :meth:`es`: ``sqrt((Var[L | tail] + q (ES - VaR)^2) / (n (1 - q)))``."""
        n = self.n
        m = rank_of(n, level)
        s = self.loss.from_rank(m)
        w = np.empty(s.size)
        w[1:] = 1.0 / (n * (1.0 - level))
        w[0] = (m / n - level) / (1.0 - level)
        es = self.es(level)
        tail_var = float(np.dot(w, (s - es) ** 2))
        return math.sqrt(max(tail_var + level * (es - self.var(level)) ** 2, 0.0) / (n * (1.0 - level)))

    def es_ci(self, level: float) -> tuple[float, float]:
        es, se = self.es(level), self.es_se(level)
        return es - self.z * se, es + self.z * se

    def es_contributions(self, level: float) -> np.ndarray:
        """Euler contributions to :meth:`es` at one of the configured ``levels`` (they add up to it)."""
        if self.es_contribution is None:
            return np.full(len(self.names), np.nan)
        return self.es_contribution[self._level_index(level)]

    def _level_index(self, level: float) -> int:
        for k, q in enumerate(self.levels):
            if math.isclose(q, level):
                return k
        raise ValueError(f"level {level:g} is not one of the configured levels {list(self.levels)}")

    def histogram(self, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, edges)`` of the system loss: at most ``bins`` (default: the configuration's) equal bins
        made of whole cells of the fixed histogram, covering the smallest to the largest loss drawn."""
        return self.loss.histogram.coarse(bins or self.config.bins, self.loss.min, self.loss.max)

    # ------------------------------------------------------------------ defaults
    def ranking(self) -> np.ndarray:
        """Positions of the institutions, most likely to default first (ties: larger expected unpaid first,
        then network order)."""
        return np.lexsort((np.arange(len(self.names)), -self.expected_unpaid, -self.default_probability))

    def co_default(self, k: int = 10) -> pd.DataFrame:
        """Joint default probabilities of the ``k`` institutions most likely to default (:meth:`ranking`).

        Entry ``(i, j)`` is the share of draws in which both ``i`` and ``j``
        default; the diagonal is :attr:`default_probability`. An empty frame
        when the co-default counts were not kept (networks of more than
        :data:`~contagion.sweep.engine.MAX_CO_DEFAULT` institutions).
        """
        top = self.ranking()[:k]
        labels = pd.Index([self.names[i] for i in top], name="name")
        if self.co_default_counts is None:
            return pd.DataFrame(index=labels[:0], columns=labels[:0], dtype=float)
        C = self.co_default_counts[np.ix_(top, top)].astype(np.float64)
        return pd.DataFrame(C / self.n, index=labels, columns=list(labels))

    # ------------------------------------------------------------------ tables
    def to_frame(self) -> pd.DataFrame:
        """Per-institution table indexed by name.

        Columns: ``id, type``; ``default_probability``, ``expected_unpaid`` and ``expected_loss``, each with
        ``_se``, ``_ci_low`` and ``_ci_high``; ``loss_contribution``; ``es_contribution_<level>`` per level.
        """
        p_lo, p_hi = self.default_probability_ci()
        u_lo, u_hi = self.expected_unpaid_ci()
        l_lo, l_hi = self.expected_loss_ci()
        cols: dict[str, Any] = {
            "id": list(self.ids) if self.ids is not None else list(self.names),
            "type": self.types,
            "default_probability": self.default_probability,
            "default_probability_se": self.default_probability_se,
            "default_probability_ci_low": p_lo,
            "default_probability_ci_high": p_hi,
            "expected_unpaid": self.expected_unpaid,
            "expected_unpaid_se": self._nan(self.expected_unpaid_se),
            "expected_unpaid_ci_low": u_lo,
            "expected_unpaid_ci_high": u_hi,
            "expected_loss": self.expected_loss,
            "expected_loss_se": self._nan(self.expected_loss_se),
            "expected_loss_ci_low": l_lo,
            "expected_loss_ci_high": l_hi,
            "loss_contribution": self._nan(self.loss_contribution),
        }
        for q in self.levels:
            cols[f"es_contribution_{level_key(q)}"] = self.es_contributions(q)
        return pd.DataFrame(cols, index=pd.Index(list(self.names), name="name"))

    def summary(self) -> dict[str, Any]:
        """System-level numbers as plain Python values (``var``, ``es`` and their errors keyed by level)."""
        loss = self.loss
        counts, edges = self.histogram()
        keys = [level_key(q) for q in self.levels]
        n = self.n
        c = np.asarray(self.defaults_count, dtype=np.int64)
        j = np.arange(c.size, dtype=np.int64)
        s1, s2 = int(np.dot(c, j)), int(np.dot(c, j * j))       # exact integers
        any_p = (n - int(c[0])) / n
        any_lo, any_hi = wilson(np.array([any_p]), n, self.z)
        # sample variance of the number of defaults, exactly (then rounded once): (n s2 - s1^2) / (n (n - 1))
        d_se = math.sqrt(float(Fraction(n * s2 - s1 * s1, n * n * (n - 1)))) if n > 1 else math.nan
        d_mean = s1 / n
        out = {
            "draws": int(n),
            "seed": int(self.seed),
            "method": self.method,
            "confidence": float(self.confidence),
            "until_se": self.until_se,
            "target_reached": self.target_reached,
            "system_loss": {
                "mean": float(loss.mean),
                "mean_se": self.mean_se,
                "mean_ci": list(self.mean_ci()),
                "std": float(loss.std),
                "min": float(loss.min),
                "max": float(loss.max),
                "var": {k: self.var(q) for k, q in zip(keys, self.levels)},
                "var_se": {k: self.var_se(q) for k, q in zip(keys, self.levels)},
                "var_ci": {k: list(self.var_ci(q)) for k, q in zip(keys, self.levels)},
                "es": {k: self.es(q) for k, q in zip(keys, self.levels)},
                "es_se": {k: self.es_se(q) for k, q in zip(keys, self.levels)},
                "es_ci": {k: list(self.es_ci(q)) for k, q in zip(keys, self.levels)},
                "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
            },
            "defaults": {
                "mean": d_mean,
                "mean_se": d_se,
                "mean_ci": [d_mean - self.z * d_se, d_mean + self.z * d_se],
                "probability_any": any_p,
                "probability_any_se": math.sqrt(any_p * (1.0 - any_p) / n),
                "probability_any_ci": [float(any_lo[0]), float(any_hi[0])],
                "max": int(np.flatnonzero(c)[-1]) if c.any() else 0,
            },
        }
        if self.prices:
            out["prices"] = {name: ps.to_dict(self.z, self.config.bins) for name, ps in self.prices.items()}
        return out

    def to_dict(self, co_default: int = 10) -> dict[str, Any]:
        """``{"institutions": [records], "system_loss": {...}, "defaults": {...}, "co_default": {...},
        "config": {...}, ...}``.

        Institution records carry ``..._se`` and ``..._ci`` (``[low, high]``) for each estimate and
        ``es_contribution`` keyed by level; ``co_default`` has the ``names`` of the ``co_default``
        institutions most likely to default and their joint default ``probability`` matrix.
        """
        out = {"institutions": self.records(self.to_frame())}
        out.update(self.summary())
        cd = self.co_default(co_default)
        out["co_default"] = {"names": list(cd.index), "probability": cd.to_numpy().tolist()}
        out["config"] = self.config.to_dict()
        return out

    def records(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """Rows of (a slice of) :meth:`to_frame` as JSON records: ``..._ci_low/_ci_high`` become ``..._ci``
        lists and ``es_contribution_<level>`` an ``es_contribution`` mapping."""
        rows = []
        for name, row in frame.iterrows():
            rec: dict[str, Any] = {"name": name}
            es: dict[str, float] = {}
            for col, v in row.items():
                v = _py(v)
                if col.endswith("_ci_low"):
                    rec[col[:-4]] = [v, _py(row[col[:-4] + "_high"])]
                elif col.endswith("_ci_high"):
                    continue
                elif col.startswith("es_contribution_"):
                    es[col[len("es_contribution_"):]] = v
                else:
                    rec[col] = v
            rec["es_contribution"] = es
            rows.append(rec)
        return rows

    def _repr_html_(self, max_rows: int = 10) -> str:
        """Jupyter display: the system loss with its standard errors and intervals, then the ``max_rows``
        institutions most likely to default (:meth:`ranking`), every text escaped."""
        from html import escape

        from ..formatting import fmt_amount, fmt_share, summary_html

        def est(x: float, se: float, ci: tuple[float, float], fmt=fmt_amount) -> str:
            return f"{fmt(x)} \u00b1 {fmt(se)} [{fmt(ci[0])}, {fmt(ci[1])}]"

        what = f"{self.n:,} draws, seed {self.seed}, {self.method}"
        if self.until_se is not None:
            what += f", until SE \u2264 {self.until_se:g} ({'reached' if self.target_reached else 'not reached'})"
        rows = [("sweep", what), ("mean system loss", est(self.mean, self.mean_se, self.mean_ci()))]
        for q in self.levels:
            rows.append((f"VaR {level_key(q)}", est(self.var(q), self.var_se(q), self.var_ci(q))))
            rows.append((f"ES {level_key(q)}", est(self.es(q), self.es_se(q), self.es_ci(q))))
        head = summary_html(f"Monte Carlo sweep (estimate \u00b1 standard error [{self.confidence:.0%} interval])",
                            rows)
        p_lo, p_hi = self.default_probability_ci()
        se = self.default_probability_se
        cells = []
        for i in self.ranking()[:max_rows]:
            cells.append("<tr>" + f'<th style="text-align:left">{escape(str(self.names[i]))}</th>' + "".join(
                f'<td style="text-align:right">{escape(v)}</td>' for v in (
                    est(self.default_probability[i], se[i], (p_lo[i], p_hi[i]), fmt_share),
                    f"{fmt_amount(self.expected_unpaid[i])} \u00b1 {fmt_amount(self._nan(self.expected_unpaid_se)[i])}",
                    f"{fmt_amount(self.expected_loss[i])} \u00b1 {fmt_amount(self._nan(self.expected_loss_se)[i])}")
            ) + "</tr>")
        more = len(self.names) - len(cells)
        caption = f"most likely to default ({more:,} more in to_frame())" if more > 0 else "institutions"
        table = ('<table><caption style="text-align:left">' + escape(caption) + "</caption><tr>"
                 + "".join(f'<th style="text-align:{a}">{h}</th>' for a, h in (
                     ("left", "name"), ("right", "default probability"), ("right", "expected unpaid"),
                     ("right", "expected loss"))) + "</tr>" + "".join(cells) + "</table>")
        return head[:-len("</div>")] + table + "</div>"

    def __repr__(self) -> str:
        return (f"SweepResult(n={self.n}, seed={self.seed}, mean_loss={self.loss.mean:.6g} "
                f"(s.e. {self.mean_se:.3g}), institutions={len(self.names)})")


def wilson(p: np.ndarray, n: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval ``(low, high)`` of binomial proportions ``p`` out of ``n`` draws."""
    p = np.asarray(p, dtype=float)
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def level_key(q: float) -> str:
    """A level as a key: its shortest exact text (``0.95``; ``0.9999995``, which ``:g`` made ``1``)."""
    return repr(float(q))
