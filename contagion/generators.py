"""Seeded random financial networks for benchmarks, tests and experiments.

Three families, each with average out-degree ``avg_degree`` (default 10):

- ``"erdos-renyi"``: debtor and creditor of every obligation drawn uniformly;
- ``"scale-free"``: Chung--Lu with Pareto node weights (hubs of very large
  degree), a debtor drawn proportionally to its out-weight and a creditor to
  its in-weight;
- ``"core-periphery"``: a core of ``core_share`` (2%) of the institutions
  that intermediates: most periphery obligations are owed to the core, the
  core owes both the core and the periphery.

Amounts are heavy-tailed (Pareto). Node labels are randomly permuted, so that
no solver profits from a convenient order.

Balance sheets follow one recipe. External liabilities are a fraction
``theta`` of each institution's total obligations: ``theta ~ U(0.10, 0.20)``
in the ``"hard"`` regime (liabilities mostly inside the network, slow
contraction of the clearing map) and ``U(0.40, 0.60)`` in the ``"easy"``
regime. External assets cover the net interbank position plus a capital
buffer ``kappa * u_i * pbar_i`` (``u_i`` log-normal); ``kappa`` is calibrated
by bisection so that when a random 3% of institutions lose all their external
assets (:func:`shock`), about 20% of all institutions default.

Examples
--------
>>> from contagion.generators import make_network, shock
>>> net = make_network("core-periphery", 500, seed=1)
>>> net.n, 4000 < net.n_edges < 5500
(500, True)
>>> shocked = shock(net, seed=2)
>>> float(shocked.external_assets.sum()) < float(net.external_assets.sum())
True
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import scipy.sparse as sp

from .network import FinancialNetwork

__all__ = ["FAMILIES", "REGIMES", "liabilities_matrix", "network_arrays", "make_network", "shock", "shock_matrix",
           "shocked_nodes", "calibrate_buffer"]

#: Fraction of obligations owed outside the network, per regime (uniform range).
REGIMES: dict[str, tuple[float, float]] = {"hard": (0.10, 0.20), "easy": (0.40, 0.60)}

#: Share of institutions hit by :func:`shock`, and the target share of defaults.
SHOCKED_SHARE = 0.03
TARGET_DEFAULT_SHARE = 0.20


def _pareto_amounts(rng: np.random.Generator, m: int, shape: float = 1.5) -> np.ndarray:
    # Pareto (Lomax + 1) amounts, capped so that a single obligation cannot dwarf a whole system
    return np.minimum(rng.pareto(shape, m) + 1.0, 1e4)


def _erdos_renyi(rng: np.random.Generator, n: int, m: int):
    return rng.integers(0, n, m), rng.integers(0, n, m), None, None


def _scale_free(rng: np.random.Generator, n: int, m: int, exponent: float = 2.1):
    # Chung-Lu: node weights ~ Pareto with tail exponent `exponent` (degree distribution ~ k^-exponent)
    w_out = rng.pareto(exponent - 1.0, n) + 1.0
    w_in = rng.pareto(exponent - 1.0, n) + 1.0
    cap = np.sqrt(n) * 10.0
    w_out, w_in = np.minimum(w_out, cap), np.minimum(w_in, cap)
    c_out = np.cumsum(w_out)
    c_in = np.cumsum(w_in)
    d = np.searchsorted(c_out, rng.random(m) * c_out[-1], side="right")
    c = np.searchsorted(c_in, rng.random(m) * c_in[-1], side="right")
    return np.minimum(d, n - 1), np.minimum(c, n - 1), None, None


#: core-periphery: shares of obligations core->core, core->periphery, periphery->core, periphery->periphery
CORE_BLOCK_SHARES = (0.55, 0.20, 0.20, 0.05)
#: core-periphery: shares of the total *amount* owed in each block (the core's interbank market dominates)
CORE_VALUE_SHARES = (0.70, 0.12, 0.12, 0.06)
#: core-periphery: the core runs thinner capital buffers (this fraction of the periphery's)
CORE_BUFFER_FACTOR = 0.25


def _core_periphery(rng: np.random.Generator, n: int, m: int, core_share: float = 0.02):
    nc = max(2, int(round(core_share * n)))
    npp = n - nc
    # edges per block; a block never gets more draws than half its possible pairs (the core of a small
    # network is saturated), the excess goes to the other blocks in proportion to their shares
    shares = np.asarray(CORE_BLOCK_SHARES)
    capacity = 0.5 * np.array([nc * (nc - 1), nc * npp, npp * nc, npp * (npp - 1)], dtype=float)
    want = shares * m
    full = want >= capacity
    if full.any():
        want[full] = capacity[full]
        want[~full] += (m - want.sum()) * shares[~full] / shares[~full].sum()
    counts = np.floor(np.minimum(want, capacity)).astype(np.int64)
    block = np.repeat(np.arange(4), counts)
    m = block.size
    d_core = block < 2
    c_core = (block == 0) | (block == 2)
    d = np.where(d_core, rng.integers(0, nc, m), nc + rng.integers(0, npp, m))
    c = np.where(c_core, rng.integers(0, nc, m), nc + rng.integers(0, npp, m))
    # scale amounts so that each block carries its share of value (amounts have mean ~3)
    factor = (np.asarray(CORE_VALUE_SHARES) / np.maximum(counts, 1) * m)[block]
    buffer = np.where(np.arange(n) < nc, CORE_BUFFER_FACTOR, 1.0)
    return d, c, factor, buffer


#: family name -> edge sampler ``f(rng, n, m) -> (debtors, creditors, amount factor, buffer factor)``
FAMILIES: dict[str, Callable] = {
    "erdos-renyi": _erdos_renyi,
    "scale-free": _scale_free,
    "core-periphery": _core_periphery,
}


def _sample(family: str, n: int, avg_degree: float, seed: int) -> tuple[sp.csr_array, np.ndarray]:
    try:
        sampler = FAMILIES[family]
    except KeyError:
        raise ValueError(f"unknown family {family!r}; choose one of {sorted(FAMILIES)}") from None
    rng = np.random.default_rng(seed)
    m = int(round(avg_degree * n))
    d, c, factor, buffer = sampler(rng, n, m)
    amount = _pareto_amounts(rng, d.size)
    if factor is not None:
        amount = amount * factor
    perm = rng.permutation(n).astype(np.int32)
    d, c = perm[d], perm[c]
    keep = d != c
    L = sp.csr_array((amount[keep], (d[keep], c[keep])), shape=(n, n))
    L.sum_duplicates()
    L.sort_indices()
    buf = np.ones(n)
    if buffer is not None:
        buf[perm] = buffer
    return L, buf


def liabilities_matrix(family: str, n: int, avg_degree: float = 10.0, seed: int = 0) -> sp.csr_array:
    """Random liabilities matrix ``L`` (CSR, float64) of the given family.

    Self-loops are dropped and parallel draws summed, so ``nnz`` is slightly
    below ``avg_degree * n`` (noticeably so for the dense core of small
    core-periphery networks).
    """
    return _sample(family, n, avg_degree, seed)[0]


def _balance_sheets(L: sp.csr_array, buffer_factor: np.ndarray, regime: str, seed: int):
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; choose one of {sorted(REGIMES)}")
    lo, hi = REGIMES[regime]
    rng = np.random.default_rng(seed + 7919)
    n = L.shape[0]
    owed = np.asarray(L.sum(axis=1)).ravel()
    claims = np.asarray(L.sum(axis=0)).ravel()
    theta = rng.uniform(lo, hi, n)
    base = np.where(owed > 0, owed, np.median(owed[owed > 0]) if (owed > 0).any() else 1.0)
    ext_liab = base * theta / (1.0 - theta)
    pbar = owed + ext_liab
    buffer = rng.lognormal(0.0, 0.5, n) * pbar * buffer_factor
    ext_assets_base = np.maximum(pbar - claims, 0.0)
    return ext_liab, ext_assets_base, buffer


def shocked_nodes(n: int, seed: int, share: float = SHOCKED_SHARE) -> np.ndarray:
    """Positions of the ``share`` of institutions hit by a shock (seeded, without repetition)."""
    rng = np.random.default_rng(seed)
    return rng.choice(n, size=max(1, int(round(share * n))), replace=False)


def shock(net: FinancialNetwork, seed: int = 1, share: float = SHOCKED_SHARE,
          loss: float | tuple[float, float] = 1.0) -> FinancialNetwork:
    """A random ``share`` of institutions lose ``loss`` (a fraction, or a uniform range) of their external assets."""
    hit = shocked_nodes(net.n, seed, share)
    rng = np.random.default_rng(seed + 1)
    frac = loss if np.isscalar(loss) else rng.uniform(loss[0], loss[1], hit.size)
    e = net.external_assets.copy()
    e[hit] *= 1.0 - np.asarray(frac)
    return net.replace(external_assets=e)


def shock_matrix(net: FinancialNetwork, K: int, seed: int = 1, share: float = SHOCKED_SHARE,
                 loss: tuple[float, float] = (0.5, 1.0)) -> np.ndarray:
    """``(n, K)`` external assets: in each column a random ``share`` of institutions lose 50-100% of theirs.

    The array is Fortran-ordered (each scenario contiguous), the layout
    :func:`contagion.clear_many` reads without a copy.
    """
    n = net.n
    rng = np.random.default_rng(seed)
    k = max(1, int(round(share * n)))
    Et = np.repeat(net.external_assets[None, :], K, axis=0)
    for col in range(K):
        hit = rng.choice(n, size=k, replace=False)
        Et[col, hit] *= 1.0 - rng.uniform(loss[0], loss[1], k)
    return Et.T


def _default_share(L, buffer_factor, regime: str, kappa: float, seed: int) -> float:
    from .clearing import clear

    ext_liab, base, buffer = _balance_sheets(L, buffer_factor, regime, seed)
    net = FinancialNetwork.from_matrix(L, base + kappa * buffer, ext_liab)
    return float(clear(shock(net, seed=seed + 1)).defaulted.mean())


@lru_cache(maxsize=64)
def calibrate_buffer(family: str, regime: str = "hard", avg_degree: float = 10.0, seed: int = 0,
                     n: int = 20_000, target: float = TARGET_DEFAULT_SHARE) -> float:
    """Capital-buffer scale ``kappa`` giving about ``target`` defaults after :func:`shock`.

    Bisection (20 steps, on a log scale) on a network of ``n`` institutions
    of the same family; the result is reused for every size.
    """
    L, bf = _sample(family, n, avg_degree, seed)
    lo, hi = 1e-6, 1.0
    for _ in range(20):
        mid = np.sqrt(lo * hi)
        if _default_share(L, bf, regime, mid, seed) > target:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


def network_arrays(family: str, n: int, *, regime: str = "hard", avg_degree: float = 10.0, seed: int = 0,
                   kappa: float | None = None) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """``(L, external_assets, external_liabilities)`` of :func:`make_network`, without building the network.

    For benchmarks that time :meth:`FinancialNetwork.from_matrix` itself.
    """
    L, bf = _sample(family, n, avg_degree, seed)
    if kappa is None:
        kappa = calibrate_buffer(family, regime, avg_degree, seed, n=min(n, 20_000))
    ext_liab, base, buffer = _balance_sheets(L, bf, regime, seed)
    return L, base + kappa * buffer, ext_liab


def make_network(family: str, n: int, *, regime: str = "hard", avg_degree: float = 10.0, seed: int = 0,
                 kappa: float | None = None) -> FinancialNetwork:
    """A random network with calibrated balance sheets (see the module docstring).

    Parameters
    ----------
    family : {"erdos-renyi", "scale-free", "core-periphery"}
    n : int
        Number of institutions.
    regime : {"hard", "easy"}
        External liabilities 10-20% (hard) or 40-60% (easy) of total obligations.
    avg_degree : float
        Obligations per institution.
    seed : int
        Seed of the graph, the amounts and the balance sheets.
    kappa : float, optional
        Capital-buffer scale; default :func:`calibrate_buffer` for the family
        and regime (computed once per process on a 20,000-institution network,
        or on this one when it is smaller).
    """
    if kappa is None:
        kappa = calibrate_buffer(family, regime, avg_degree, seed, n=min(n, 20_000))
    L, e, ext = network_arrays(family, n, regime=regime, avg_degree=avg_degree, seed=seed, kappa=kappa)
    return FinancialNetwork.from_matrix(L, e, ext, metadata={"dataset": f"{family}-{regime}-{n}", "kappa": kappa,
                                                             "seed": seed})
