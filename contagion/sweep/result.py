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
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .config import SweepConfig

__all__ = ["SweepResult", "running_mean_se", "BLOCK"]

#: Draws per block: the unit of randomness (one SeedSequence child each), of batched clearing and of the
#: running standard error. Part of the reproducibility contract: changing it changes the numbers for a seed.
BLOCK = 256


def running_mean_se(x: np.ndarray) -> np.ndarray:
    """Standard error of the mean of ``x[:k * BLOCK]`` for every block boundary ``k = 1, 2, ...``.

    Entry ``k - 1`` is ``std(x[:k * BLOCK], ddof=1) / sqrt(k * BLOCK)`` (the last entry: of the whole of
    ``x``), computed from each block's sum and sum of squared deviations combined in block order
    (Chan, Golub & LeVeque 1983), so that it depends only on the first ``k`` blocks.

    >>> x = np.arange(600, dtype=float)
    >>> se = running_mean_se(x)
    >>> len(se), bool(np.isclose(se[-1], x.std(ddof=1) / np.sqrt(600)))
    (3, True)
    >>> bool(np.isclose(se[0], x[:256].std(ddof=1) / 16))
    True
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    nb = -(-n // BLOCK)
    if nb == 0:
        return np.empty(0)
    xb = np.zeros(nb * BLOCK)
    xb[:n] = x
    xb = xb.reshape(nb, BLOCK)
    counts = np.full(nb, BLOCK, dtype=np.int64)
    counts[-1] = n - (nb - 1) * BLOCK
    means = xb.sum(axis=1) / counts
    dev = xb - means[:, None]
    dev[-1, counts[-1]:] = 0.0
    m2 = np.einsum("ij,ij->i", dev, dev)
    out = np.empty(nb)
    tot, mean, acc = 0, 0.0, 0.0
    for b in range(nb):
        c = int(counts[b])
        delta = float(means[b]) - mean
        new = tot + c
        mean += delta * c / new
        acc += float(m2[b]) + delta * delta * tot * c / new
        tot = new
        out[b] = math.sqrt(acc / (tot - 1) / tot) if tot > 1 else math.nan
    return out


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
        outside-asset loss plus what its debtors fail to pay): the loss it *bears*.
    expected_unpaid_se, expected_loss_se : ndarray
        Their standard errors (sample standard deviation over ``sqrt(n)``).
    loss_contribution : ndarray
        ``E[l_i]``, where ``l_i`` is the part of the system loss that arises at
        institution ``i`` in a draw: its outside assets lost plus the fall in its
        payments from the base clearing. ``sum_i l_i`` is the system loss in
        every draw, so the contributions add up to the mean system loss.
    es_contribution : ndarray, shape (len(levels), n_institutions)
        Euler contributions to the expected shortfall: row ``k`` is
        ``E[l_i | L >= VaR_q]`` at ``q = levels[k]``, with the draws at the VaR
        weighted as in :meth:`es`, so each row adds up to ``es(q)``
        (Tasche 1999). Re-cleared for the tail draws only (see :func:`run_sweep`).
    system_loss : ndarray
        Per draw, the Glasserman--Young system loss: outside assets lost plus
        the increase in total shortfall over the base clearing.
    defaults : ndarray of int
        Per draw, the number of institutions in default.
    default_bits : ndarray of uint8, shape (draws, ceil(n_institutions / 8)), or None
        Per draw, who defaulted, packed (``numpy.unpackbits(..., axis=1, count=n, bitorder="little")``);
        feeds :meth:`co_default` and :meth:`draws_frame`. None for networks of more than
        :data:`~contagion.sweep.engine.MAX_FLAGGED` institutions.
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
    system_loss: np.ndarray = field(repr=False)
    defaults: np.ndarray = field(repr=False)
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
    default_bits: np.ndarray | None = field(default=None, repr=False)
    confidence: float = 0.95
    until_se: float | None = None
    target_reached: bool | None = None
    ids: tuple[str, ...] | None = field(default=None, repr=False)

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
    @cached_property
    def _sorted(self) -> np.ndarray:
        return np.sort(self.system_loss, kind="stable")

    @cached_property
    def mean_se(self) -> float:
        """Standard error of the mean system loss (block by block; see :func:`running_mean_se`)."""
        se = running_mean_se(self.system_loss)
        return float(se[-1]) if se.size else math.nan

    def mean_ci(self) -> tuple[float, float]:
        m = float(np.mean(self.system_loss))
        return m - self.z * self.mean_se, m + self.z * self.mean_se

    def var(self, level: float) -> float:
        """Value-at-Risk of the system loss: the smallest ``x`` with ``P(loss <= x) >= level``.

        On the sample, the order statistic ``L_(ceil(n * level))`` (1-based).
        """
        s = self._sorted
        return float(s[_rank(len(s), level) - 1])

    def _order(self, level: float, width: float) -> tuple[float, float]:
        s = self._sorted
        n = len(s)
        half = width * math.sqrt(n * level * (1.0 - level))
        lo = min(max(int(math.floor(n * level - half)), 1), n)
        hi = min(max(int(math.ceil(n * level + half)), 1), n)
        return float(s[lo - 1]), float(s[hi - 1])

    def var_ci(self, level: float) -> tuple[float, float]:
        """Distribution-free interval of order statistics ``(L_(j), L_(k))``, ``j, k = n q -+ z sqrt(n q (1 - q))``."""
        return self._order(level, self.z)

    def var_se(self, level: float) -> float:
        """``(L_(k1) - L_(j1)) / 2`` with ``j1, k1 = n q -+ sqrt(n q (1 - q))``."""
        lo, hi = self._order(level, 1.0)
        return (hi - lo) / 2.0

    def _tail_weights(self, level: float) -> tuple[np.ndarray, float]:
        """Weights (summing to 1) of the sorted sample in :meth:`es`, and the index of the first non-zero one."""
        n = len(self._sorted)
        m = _rank(n, level)
        w = np.zeros(n)
        w[m:] = 1.0 / (n * (1.0 - level))
        w[m - 1] = (m / n - level) / (1.0 - level)
        return w, m - 1

    def es(self, level: float) -> float:
        """Expected shortfall (conditional tail expectation) of the system loss at ``level``.

        The mean of the worst ``1 - level`` share of the sample, with the
        boundary draw weighted fractionally (Acerbi & Tasche 2002, eq. 3.3)::

            ES = ( sum_{k > m} L_(k) / n + (m / n - level) L_(m) ) / (1 - level),  m = ceil(n * level)
        """
        s = self._sorted
        n = len(s)
        m = _rank(n, level)
        tail = float(np.sum(s[m:])) / n + (m / n - level) * float(s[m - 1])
        return tail / (1.0 - level)

    def es_se(self, level: float) -> float:
        """Asymptotic standard error of :meth:`es`: ``sqrt((Var[L | tail] + q (ES - VaR)^2) / (n (1 - q)))``."""
        s = self._sorted
        w, first = self._tail_weights(level)
        es = self.es(level)
        tail_var = float(np.dot(w[first:], (s[first:] - es) ** 2))
        return math.sqrt(max(tail_var + level * (es - self.var(level)) ** 2, 0.0) / (len(s) * (1.0 - level)))

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
        """``(counts, edges)`` of the system loss (``bins`` default: the configuration's)."""
        return np.histogram(self.system_loss, bins=bins or self.config.bins)

    # ------------------------------------------------------------------ defaults per draw
    def ranking(self) -> np.ndarray:
        """Positions of the institutions, most likely to default first (ties: larger expected unpaid first,
        then network order)."""
        return np.lexsort((np.arange(len(self.names)), -self.expected_unpaid, -self.default_probability))

    def default_flags(self, positions: Any) -> np.ndarray:
        """Per draw, whether each institution at ``positions`` defaulted: bool ``(draws, len(positions))``."""
        if self.default_bits is None:
            raise ValueError("per-draw defaults were not kept (a network of more institutions than "
                             "contagion.sweep.engine.MAX_FLAGGED)")
        pos = np.asarray(positions, dtype=np.int64)
        out = np.empty((self.default_bits.shape[0], pos.size), dtype=bool)
        step = 1 << 16
        for a in range(0, out.shape[0], step):
            bits = np.unpackbits(self.default_bits[a:a + step], axis=1, count=len(self.names), bitorder="little")
            out[a:a + step] = bits[:, pos].astype(bool)
        return out

    def co_default(self, k: int = 10) -> pd.DataFrame:
        """Joint default probabilities of the ``k`` institutions most likely to default (:meth:`ranking`).

        Entry ``(i, j)`` is the share of draws in which both ``i`` and ``j``
        default; the diagonal is :attr:`default_probability`. An empty frame
        when per-draw defaults were not kept.
        """
        top = self.ranking()[:k]
        labels = pd.Index([self.names[i] for i in top], name="name")
        if self.default_bits is None:
            return pd.DataFrame(index=labels[:0], columns=labels[:0], dtype=float)
        F = self.default_flags(top).astype(np.float64)
        return pd.DataFrame(F.T @ F / self.n, index=labels, columns=list(labels))

    def draws_frame(self, top: int = 10) -> pd.DataFrame:
        """One row per draw: ``system_loss``, ``defaults`` and ``defaulted:<name>`` (bool) for the ``top``
        institutions most likely to default (none when per-draw defaults were not kept)."""
        out = pd.DataFrame({"system_loss": self.system_loss, "defaults": self.defaults},
                           index=pd.RangeIndex(len(self.system_loss), name="draw"))
        if self.default_bits is not None and top > 0:
            pos = self.ranking()[:top]
            flags = self.default_flags(pos)
            for c, i in enumerate(pos):
                out[f"defaulted:{self.names[i]}"] = flags[:, c]
        return out

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
            cols[f"es_contribution_{_level_key(q)}"] = self.es_contributions(q)
        return pd.DataFrame(cols, index=pd.Index(list(self.names), name="name"))

    def summary(self) -> dict[str, Any]:
        """System-level numbers as plain Python values (``var``, ``es`` and their errors keyed by level)."""
        loss = self.system_loss
        counts, edges = self.histogram()
        keys = [_level_key(q) for q in self.levels]
        d = self.defaults
        any_p = float(np.mean(d > 0))
        any_lo, any_hi = wilson(np.array([any_p]), self.n, self.z)
        d_se = float(np.std(d, ddof=1) / math.sqrt(self.n)) if self.n > 1 else math.nan
        d_mean = float(np.mean(d))
        return {
            "draws": int(self.n),
            "seed": int(self.seed),
            "method": self.method,
            "confidence": float(self.confidence),
            "until_se": self.until_se,
            "target_reached": self.target_reached,
            "system_loss": {
                "mean": float(np.mean(loss)),
                "mean_se": self.mean_se,
                "mean_ci": list(self.mean_ci()),
                "std": float(np.std(loss)),
                "min": float(np.min(loss)),
                "max": float(np.max(loss)),
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
                "probability_any_se": math.sqrt(any_p * (1.0 - any_p) / self.n),
                "probability_any_ci": [float(any_lo[0]), float(any_hi[0])],
                "max": int(np.max(d)),
            },
        }

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

    def __repr__(self) -> str:
        return (f"SweepResult(n={self.n}, seed={self.seed}, mean_loss={float(np.mean(self.system_loss)):.6g} "
                f"+- {self.mean_se:.2g}, institutions={len(self.names)})")


def wilson(p: np.ndarray, n: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval ``(low, high)`` of binomial proportions ``p`` out of ``n`` draws."""
    p = np.asarray(p, dtype=float)
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def _rank(n: int, level: float) -> int:
    return max(int(math.ceil(n * level - 1e-9)), 1)


def _level_key(q: float) -> str:
    return f"{q:g}"
