"""Reconstruct who owes whom from each institution's totals, and clear under that uncertainty.

Supervisors often know every bank's total interbank assets and liabilities
but not the bilateral amounts. This module fills in ``L[i, j]`` (what ``i``
owes ``j``) so that the row sums are the liabilities and the column sums the
assets, with a zero diagonal, known bilateral amounts kept fixed and
forbidden links left empty:

``"max-entropy"``
    The matrix closest (Kullback--Leibler) to the uniform prior on the allowed
    links: RAS / iterative proportional fitting (Upper 2011; Upper & Worm 2004).
    Spreads every exposure as evenly as the totals allow: dense.
``"min-density"``
    As few links as the totals allow (Anand, Craig & von Peter 2015): a greedy
    heuristic -- links already in place are filled first, then the new link
    carrying the largest amount, preferring a pair whose two remaining totals
    are equal (one link closes both); when only forbidden pairs remain it
    reroutes along an augmenting path. The minimum itself is NP-hard; this is
    deterministic (``seed`` is not used).
``"ensemble"``
    One draw from the Erdős--Rényi--exponential model conditioned on the totals
    (Gandy & Veraart 2017): a link exists with probability ``p``, its amount
    is exponential with rate ``lam``; a Gibbs sampler on cycles (which keep
    every total exactly) starts from the maximum-entropy matrix. See
    :mod:`contagion._reconstruct_kernels`. :func:`sample_ensemble` draws many.

:func:`clear_ensemble` clears every draw of an ensemble and reports per
institution the probability of default and its loss on network claims, with
Monte Carlo standard errors and a band across reconstructions;
:func:`spread_syndicates` spreads what a syndicate is owed over its members.

The module is callable: ``contagion.reconstruct(...)`` is :func:`reconstruct`.

References
----------
Upper, C. (2011). Simulation methods to assess the danger of contagion in
interbank markets. Journal of Financial Stability 7(3), 111-125.
Anand, K., Craig, B. and von Peter, G. (2015). Filling in the blanks: network
structure and interbank contagion. Quantitative Finance 15(4), 625-636.
Gandy, A. and Veraart, L. A. M. (2017). A Bayesian methodology for systemic
risk assessment in financial networks. Management Science 63(12), 4428-4446.
"""

from __future__ import annotations

import math
import sys
import types
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ContagionError, ConvergenceError, InvalidNetworkError, Problem

__all__ = ["RECONSTRUCTION_METHODS", "ENSEMBLE_BLOCK", "Marginals", "EnsembleResult", "reconstruct",
           "sample_ensemble", "read_marginals", "write_reconstruction", "clear_ensemble", "spread_syndicates", "syndicates_of"]

#: Reconstruction methods (the CLI's ``--method`` choices come from here).
RECONSTRUCTION_METHODS = ("max-entropy", "min-density", "ensemble")

#: Draws per Markov chain of the ensemble sampler: the unit of randomness (one seed each) and of work sent to an
#: executor. Part of the reproducibility contract: changing it changes the draws for a given seed.
ENSEMBLE_BLOCK = 16

#: Relative tolerance on ``sum(assets) == sum(liabilities)``; within it the assets are rescaled to match exactly.
TOTALS_RTOL = 1e-9


# ---------------------------------------------------------------------------------------------- marginals
@dataclass(frozen=True)
class Marginals:
    """What is known: totals per institution, known bilateral amounts, forbidden links.

    Attributes
    ----------
    names : tuple of str
    interbank_assets, interbank_liabilities : ndarray, shape (n,)
        Column sums and row sums of the matrix to reconstruct.
    known : scipy.sparse.csr_array, shape (n, n)
        Known amounts ``known[i, j]`` (what ``i`` owes ``j``), kept fixed.
    forbidden : scipy.sparse.csr_array of bool, shape (n, n)
        Links that must stay empty (the diagonal always is).
    external_assets, external_liabilities : ndarray, shape (n,)
        Used when a reconstruction is cleared (default 0).
    types : tuple of str
    """

    names: tuple[str, ...]
    interbank_assets: np.ndarray
    interbank_liabilities: np.ndarray
    known: sp.csr_array
    forbidden: sp.csr_array
    external_assets: np.ndarray
    external_liabilities: np.ndarray
    types: tuple[str, ...] = field(default=())
    source: str = ""

    @property
    def n(self) -> int:
        return len(self.names)

    @classmethod
    def from_network(cls, net: Any) -> "Marginals":
        """The totals of a network's liabilities matrix (no bilateral amount known)."""
        n = net.n
        return cls(names=tuple(net.names), interbank_assets=net.interbank_assets.copy(),
                   interbank_liabilities=net.interbank_liabilities.copy(), known=sp.csr_array((n, n)),
                   forbidden=sp.csr_array((n, n), dtype=bool), external_assets=net.external_assets.copy(),
                   external_liabilities=net.external_liabilities.copy(), types=tuple(map(str, net.types)),
                   source=str(net.metadata.get("dataset") or net.metadata.get("source") or ""))

    def to_network(self, L: Any) -> Any:
        """A :class:`~contagion.FinancialNetwork` with liabilities ``L`` and these outside balances."""
        from .network import FinancialNetwork

        return FinancialNetwork.from_matrix(L, self.external_assets, self.external_liabilities, self.names,
                                            types=self.types or None,
                                            metadata={"source": self.source, "reconstructed": True})


def _problem_of(problem: Any, method: str = "max-entropy") -> "_Problem":
    return problem if isinstance(problem, _Problem) else _Problem.build(problem, method)


@dataclass(frozen=True)
class _Problem:
    """A checked reconstruction problem: residual totals after the known amounts, and the free links."""

    n: int
    names: tuple[str, ...]
    row: np.ndarray            # residual liabilities (row sums still to place)
    col: np.ndarray            # residual assets (column sums still to place)
    free: np.ndarray           # (n, n) bool: links that may carry an amount
    known: sp.csr_array
    total: float

    @classmethod
    def build(cls, m: Marginals, method: str) -> "_Problem":
        n = m.n
        a = np.asarray(m.interbank_assets, dtype=np.float64)
        lia = np.asarray(m.interbank_liabilities, dtype=np.float64)
        for what, v in (("interbank_assets", a), ("interbank_liabilities", lia)):
            if v.shape != (n,):
                raise InvalidNetworkError(f"{what} has shape {v.shape}, expected ({n},)")
            bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
            if bad.size:
                k = int(bad[0])
                raise InvalidNetworkError(Problem("not a finite non-negative amount", row=k, column=what,
                                                  value=f"{m.names[k]}: {v[k]!r}"))
        known = sp.csr_array(m.known, dtype=np.float64)
        forbidden = sp.csr_array(m.forbidden, dtype=bool)
        if known.shape != (n, n) or forbidden.shape != (n, n):
            raise InvalidNetworkError(f"known and forbidden must be ({n}, {n}) matrices")
        if known.nnz and (not np.isfinite(known.data).all() or (known.data < 0).any()):
            raise InvalidNetworkError("known amounts must be finite and non-negative")
        kd = known.diagonal()
        if (kd > 0).any():
            k = int(np.flatnonzero(kd > 0)[0])
            raise InvalidNetworkError(f"known amount on the diagonal: {m.names[k]!r} owes itself {kd[k]:g}")
        where = f"{m.source}: " if m.source else ""
        ta, tl = float(a.sum()), float(lia.sum())
        scale = max(ta, tl, 1e-300)
        if abs(ta - tl) > TOTALS_RTOL * scale:
            raise ContagionError(f"{where}the totals cannot be matched: interbank assets sum to {ta:.10g} but interbank "
                                 f"liabilities to {tl:.10g} (difference {ta - tl:.3g}); every amount owed is "
                                 f"someone's asset, so the two sums must be equal")
        if ta > 0 and ta != tl:
            a = a * (tl / ta)
        row = lia - np.asarray(known.sum(axis=1)).ravel()
        col = a - np.asarray(known.sum(axis=0)).ravel()
        tol = 1e-12 * max(tl, 1.0)
        for what, v, side in (("interbank_liabilities", row, "owed by"), ("interbank_assets", col, "owed to")):
            over = np.flatnonzero(v < -tol)
            if over.size:
                k = int(over[0])
                raise ContagionError(f"{where}the known amounts {side} {m.names[k]!r} add up to more than its {what} "
                                     f"(by {-v[k]:.6g})")
        row = np.where(row < tol, 0.0, row)
        col = np.where(col < tol, 0.0, col)
        free = np.ones((n, n), dtype=bool)
        np.fill_diagonal(free, False)
        if forbidden.nnz:
            fi, fj = forbidden.nonzero()
            free[fi, fj] = False
        if known.nnz:
            ki, kj = known.nonzero()
            free[ki, kj] = False
        prob = cls(n=n, names=tuple(m.names), row=row, col=col, free=free, known=known, total=tl)
        try:
            prob._check_links()
        except ContagionError as exc:
            raise ContagionError(f"{where}{exc}") from None
        return prob

    @property
    def tol(self) -> float:
        return 1e-12 * max(self.total, 1.0)

    def support(self) -> np.ndarray:
        return self.free & (self.row[:, None] > 0) & (self.col[None, :] > 0)

    def _check_links(self) -> None:
        s = self.support()
        for what, v, has, side in (("interbank_liabilities", self.row, s.any(axis=1), "creditor"),
                                   ("interbank_assets", self.col, s.any(axis=0), "debtor")):
            stuck = np.flatnonzero((v > 0) & ~has)
            if stuck.size:
                k = int(stuck[0])
                raise ContagionError(f"the totals cannot be matched: {self.names[k]!r} has {what} {v[k]:.6g} "
                                     f"left to place but every link to a {side} with an amount left is forbidden "
                                     f"(or is the diagonal)")

    def finish(self, X: np.ndarray) -> sp.csr_array:
        """``X`` plus the known amounts, as CSR."""
        out = sp.csr_array(X) + self.known
        out = sp.csr_array(out)
        out.eliminate_zeros()
        out.sort_indices()
        return out


# ---------------------------------------------------------------------------------------------- methods
def _ras(prob: _Problem, tol: float = 1e-13, max_iter: int = 20_000) -> np.ndarray:
    """Maximum entropy by RAS on the free links; raises ConvergenceError if the totals are not reached."""
    X = prob.support().astype(np.float64)
    if not X.any():
        return X
    row, col = prob.row, prob.col
    scale = max(prob.total, 1e-300)
    err = math.inf
    for it in range(1, max_iter + 1):
        rs = X.sum(axis=1)
        X *= np.divide(row, rs, out=np.zeros_like(row), where=rs > 0)[:, None]
        cs = X.sum(axis=0)
        X *= np.divide(col, cs, out=np.zeros_like(col), where=cs > 0)[None, :]
        err = float(np.abs(X.sum(axis=1) - row).sum()) / scale
        if err <= tol:
            return X
    raise ConvergenceError("maximum entropy (RAS) did not reach the totals: they leave some allowed links no "
                           "room, so no matrix spreads over all of them; use min-density, or forbid those links",
                           it, err)


def _augment(prob: _Problem, X: np.ndarray, r: np.ndarray, c: np.ndarray) -> bool:
    """One augmenting path from a row with amount left to a column with room: +d on new links, -d on existing
    ones. Returns False when there is none (the remaining amounts cannot be placed)."""
    tol = prob.tol
    n = prob.n
    start = np.flatnonzero(r > tol)
    seen_r = np.zeros(n, dtype=bool)
    seen_c = np.zeros(n, dtype=bool)
    via_row = np.full(n, -1)     # column j reached from row via_row[j] (on a free link)
    via_col = np.full(n, -1)     # row i reached from column via_col[i] (by taking from X[i, j])
    seen_r[start] = True
    frontier = start
    while frontier.size:
        reach = prob.free[frontier] & ~seen_c[None, :]
        cols = np.flatnonzero(reach.any(axis=0))
        if not cols.size:
            return False
        via_row[cols] = frontier[np.argmax(reach[:, cols], axis=0)]
        seen_c[cols] = True
        done = cols[c[cols] > tol]
        if done.size:
            j = int(done[0])
            path = []                         # (i, j, sign)
            while True:
                i = int(via_row[j])
                path.append((i, j, 1))
                if via_col[i] < 0:
                    break
                j2 = int(via_col[i])
                path.append((i, j2, -1))
                j = j2
            i0 = path[-1][0]
            d = min(r[i0], c[path[0][1]], min((X[i, j] for i, j, s in path if s < 0), default=math.inf))
            for i, j, s in path:
                X[i, j] = max(X[i, j] + s * d, 0.0)
            r[i0] -= d
            c[path[0][1]] -= d
            return True
        back = X[:, cols] > tol                          # rows holding an amount in a reached column
        back[seen_r] = False
        rows = np.flatnonzero(back.any(axis=1))
        via_col[rows] = cols[np.argmax(back[rows], axis=1)]
        seen_r[rows] = True
        frontier = rows
    return False


def _min_density(prob: _Problem) -> np.ndarray:
    n, tol = prob.n, prob.tol
    X = np.zeros((n, n))
    r, c = prob.row.copy(), prob.col.copy()
    while r.sum() > n * tol:
        open_ = prob.free & (r[:, None] > tol) & (c[None, :] > tol)
        if not open_.any():
            if not _augment(prob, X, r, c):
                left = [prob.names[k] for k in np.flatnonzero(r > tol)][:5]
                raise ContagionError(f"the totals cannot be matched with the links allowed: the liabilities "
                                     f"left at {', '.join(map(repr, left))} have no allowed creditor with room")
            continue
        amount = np.where(open_, np.minimum(r[:, None], c[None, :]), 0.0)
        existing = open_ & (X > 0)
        if existing.any():
            score = np.where(existing, amount, -1.0)
        else:
            both = np.abs(r[:, None] - c[None, :]) <= tol
            score = np.where(open_, amount + np.where(both, prob.total + 1.0, 0.0), -1.0)
        i, j = np.unravel_index(int(np.argmax(score)), score.shape)
        x = amount[i, j]
        X[i, j] += x
        r[i] -= x
        c[j] -= x
        r[i] = 0.0 if r[i] <= tol else r[i]
        c[j] = 0.0 if c[j] <= tol else c[j]
    return X


def _polish(prob: _Problem, X: np.ndarray, rounds: int = 3) -> np.ndarray:
    """A few RAS passes on ``X``'s own links: removes the rounding drift of many small moves."""
    for _ in range(rounds):
        rs = X.sum(axis=1)
        X *= np.divide(prob.row, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = X.sum(axis=0)
        X *= np.divide(prob.col, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
    return X


@dataclass(frozen=True)
class _Sampler:
    """Everything a worker needs to draw ensemble blocks (picklable)."""

    prob: _Problem
    start: np.ndarray
    p: np.ndarray
    lam: np.ndarray
    burn_in: int
    thin: int
    kmax: int


def _sampler(prob: _Problem, p: float, lam: float | None, burn_in: int | None, thin: int | None) -> _Sampler:
    if not 0.0 < float(p) <= 1.0:
        raise ContagionError(f"p (link probability) must lie in (0, 1], got {p!r}")
    start = _ras(prob)
    s = prob.support()
    links = int(s.sum())
    lam_v = float(lam) if lam is not None else (p * links / prob.total if prob.total > 0 else 1.0)
    if not lam_v > 0 or not math.isfinite(lam_v):
        raise ContagionError(f"lam (rate of the amounts) must be a positive number, got {lam!r}")
    rows = int((prob.row > 0).sum())
    cols = int((prob.col > 0).sum())
    return _Sampler(prob=prob, start=start, p=np.where(s, float(p), 0.0), lam=np.where(s, lam_v, 1.0),
                    burn_in=int(burn_in) if burn_in is not None else 100 * max(links, 10),
                    thin=int(thin) if thin is not None else 10 * max(links, 10),
                    kmax=max(2, min(rows, cols, 8)))


def _chain_seed(seed: int, block: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=(block,)).generate_state(1)[0])


def _draw_block(sm: _Sampler, seed: int, block: int, count: int) -> list[sp.csr_array]:
    """The first ``count`` draws of chain ``block`` (the same whatever ``count`` is beyond them)."""
    prob = sm.prob
    rows = np.flatnonzero(prob.row > 0)
    cols = np.flatnonzero(prob.col > 0)
    if rows.size < 2 or cols.size < 2:   # at most one way to fill the matrix
        return [prob.finish(sm.start.copy()) for _ in range(count)]
    from ._reconstruct_kernels import gibbs_chain

    X = sm.start.copy()
    out = np.empty((count, prob.n, prob.n))
    gibbs_chain(X, prob.free & (sm.p > 0), sm.p, sm.lam, rows.astype(np.int64), cols.astype(np.int64),
                sm.burn_in + count * sm.thin, sm.kmax, _chain_seed(seed, block), prob.tol, out, sm.thin)
    return [prob.finish(_polish(prob, out[k])) for k in range(count)]


def _check_seed(seed: Any, what: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ContagionError(f"{what} must be a non-negative whole number, got {seed!r}")
    return int(seed)


def _as_marginals(interbank_assets: Any, interbank_liabilities: Any, known: Any, forbidden: Any,
                  names: Sequence[str] | None) -> Marginals:
    a = np.asarray(interbank_assets, dtype=np.float64).ravel()
    lia = np.asarray(interbank_liabilities, dtype=np.float64).ravel()
    if a.shape != lia.shape:
        raise InvalidNetworkError(f"interbank_assets has {a.size} values but interbank_liabilities {lia.size}")
    n = a.size
    names = tuple(names) if names is not None else tuple(str(k) for k in range(n))
    kn = sp.csr_array((n, n)) if known is None else sp.csr_array(known, dtype=np.float64)
    if forbidden is None:
        fb = sp.csr_array((n, n), dtype=bool)
    elif sp.issparse(forbidden) or np.ndim(forbidden) == 2 and np.shape(forbidden) == (n, n):
        fb = sp.csr_array(forbidden, dtype=bool)
    else:
        pairs = np.asarray(list(forbidden), dtype=np.int64).reshape(-1, 2)
        fb = sp.csr_array((np.ones(len(pairs), dtype=bool), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return Marginals(names=names, interbank_assets=a, interbank_liabilities=lia, known=kn, forbidden=fb,
                     external_assets=np.zeros(n), external_liabilities=np.zeros(n))


def reconstruct(interbank_assets: Any, interbank_liabilities: Any, method: str = "max-entropy", known: Any = None,
                seed: int | None = None, *, forbidden: Any = None, names: Sequence[str] | None = None,
                p: float = 0.5, lam: float | None = None, burn_in: int | None = None,
                thin: int | None = None) -> sp.csr_array:
    """A liabilities matrix with the given totals: ``L[i, j]`` is what ``i`` owes ``j``.

    Parameters
    ----------
    interbank_assets : array_like, shape (n,)
        What each institution is owed by the others: the column sums.
    interbank_liabilities : array_like, shape (n,)
        What each owes the others: the row sums.
    method : {"max-entropy", "min-density", "ensemble"}
        See the module docstring. ``"ensemble"`` returns one draw: the first of
        :func:`sample_ensemble` with the same seed.
    known : array_like or sparse, shape (n, n), optional
        Known bilateral amounts, kept as they are; the rest is reconstructed
        around them.
    seed : int, optional
        For ``"ensemble"`` (default 0); the other methods are deterministic.
    forbidden : bool matrix (n, n) or iterable of (debtor, creditor) positions, optional
        Links that must stay empty. Self-loops are always forbidden.
    names : sequence of str, optional
        Used in error messages.
    p, lam : float
        Ensemble model: link probability and rate of the exponential amounts
        (default: ``p * links / total``, so the expected total is the total).
    burn_in, thin : int, optional
        Ensemble: cycle steps before the first draw (default ``100 x`` the
        number of allowed links) and between draws (``10 x``).

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
        Row sums equal ``interbank_liabilities`` and column sums
        ``interbank_assets`` (to about 1e-12 of the total), zero diagonal,
        known amounts in place, nothing on forbidden links.

    Raises
    ------
    ContagionError
        Totals that cannot be matched: the two sums differ (by more than
        :data:`TOTALS_RTOL` of the total; within it the assets are rescaled),
        known amounts exceed a total, or an amount left to place has no
        allowed link.
    ConvergenceError
        ``"max-entropy"`` when the totals leave some allowed link no room.

    Notes
    -----
    Max entropy solves ``min sum L log(L / Q)`` over matrices with these
    margins and the allowed support, ``Q`` uniform on it; RAS (alternate row
    and column scaling) converges to it (Upper 2011, §3). Dense ``n x n``
    working arrays: sized for up to a few thousand institutions.

    Examples
    --------
    The seven banks of Anand, Craig & von Peter (2015, p. 628):

    >>> import numpy as np
    >>> A = [7, 5, 3, 1, 3, 0, 1]; Lb = [4, 5, 5, 0, 0, 2, 4]
    >>> L = reconstruct(A, Lb, "max-entropy")
    >>> np.round(L.toarray()[:, 0], 2).tolist()      # what each bank owes bank a
    [0.0, 2.53, 2.18, 0.0, 0.0, 0.74, 1.55]
    >>> M = reconstruct(A, Lb, "min-density")
    >>> M.nnz, np.allclose(M.sum(axis=1), Lb), np.allclose(M.sum(axis=0), A)
    (8, True, True)
    """
    if method not in RECONSTRUCTION_METHODS:
        raise ContagionError(f"unknown reconstruction method {method!r}; choose one of "
                             f"{', '.join(RECONSTRUCTION_METHODS)}")
    m = _as_marginals(interbank_assets, interbank_liabilities, known, forbidden, names)
    return _reconstruct(m, method, seed, p=p, lam=lam, burn_in=burn_in, thin=thin)


def _reconstruct(m: Marginals | _Problem, method: str, seed: int | None, **kw: Any) -> sp.csr_array:
    prob = _problem_of(m, method)
    if method == "max-entropy":
        return prob.finish(_ras(prob))
    if method == "min-density":
        return prob.finish(_min_density(prob))
    sm = _sampler(prob, kw.get("p", 0.5), kw.get("lam"), kw.get("burn_in"), kw.get("thin"))
    return _draw_block(sm, _check_seed(0 if seed is None else seed), 0, 1)[0]


def sample_ensemble(interbank_assets: Any, interbank_liabilities: Any, n: int, seed: int = 0, known: Any = None,
                    *, forbidden: Any = None, names: Sequence[str] | None = None, p: float = 0.5,
                    lam: float | None = None, burn_in: int | None = None,
                    thin: int | None = None) -> tuple[sp.csr_array, ...]:
    """``n`` draws of the ensemble (see :func:`reconstruct`), each keeping every total exactly.

    Draws come in chains of :data:`ENSEMBLE_BLOCK`; chain ``b`` has its own
    seed (``SeedSequence(seed, spawn_key=(b,))``), so draw ``k`` is the same
    whatever ``n`` (beyond ``k``) and whoever computes it.

    >>> Ls = sample_ensemble([7, 5, 3, 1, 3, 0, 1], [4, 5, 5, 0, 0, 2, 4], n=3, seed=1)
    >>> len(Ls), all(abs(L.sum() - 20) < 1e-9 for L in Ls)
    (3, True)
    """
    m = _as_marginals(interbank_assets, interbank_liabilities, known, forbidden, names)
    seed = _check_seed(seed)
    n = _check_seed(n, "n")
    sm = _sampler(_problem_of(m), p, lam, burn_in, thin)
    out: list[sp.csr_array] = []
    for b in range(-(-n // ENSEMBLE_BLOCK)):
        out += _draw_block(sm, seed, b, min(ENSEMBLE_BLOCK, n - b * ENSEMBLE_BLOCK))
    return tuple(out)


# ---------------------------------------------------------------------------------------------- files
MARGINAL_COLUMNS = ("id", "interbank_assets", "interbank_liabilities")
KNOWN_COLUMNS = ("debtor", "creditor", "amount")


def read_marginals(path: Any, known: Any = None) -> Marginals:
    """Read a marginals CSV (``id, interbank_assets, interbank_liabilities``; optional ``name``, ``type``,
    ``external_assets``, ``external_liabilities``) and an optional known-edges CSV (``debtor, creditor,
    amount``: a positive amount is kept fixed, an amount of 0 forbids the link).

    Every bad value is reported with file, row (header = row 1), column and
    value (:class:`~contagion.errors.InvalidNetworkError`).
    """
    from pathlib import Path

    from ._columns import _check_columns, _check_unique, _number_column, _text_column
    from .io.formats import _read_csv_table

    path = Path(path)
    problems: list[Problem] = []
    table = _read_csv_table(path, problems, set())
    if table is None:
        raise InvalidNetworkError(problems)
    file = str(path)
    _check_columns(table, MARGINAL_COLUMNS, file, problems)
    if problems:
        raise InvalidNetworkError(problems)
    ids = _text_column(table, "id", file, problems, 2, required=True)
    _check_unique(ids, "id", problems, file, 2)
    nums = {col: _number_column(table, col, file, problems, 2, required=col in MARGINAL_COLUMNS)
            for col in ("interbank_assets", "interbank_liabilities", "external_assets", "external_liabilities")}
    names = _text_column(table, "name", file, problems, 2, False) if "name" in table.columns else ids
    names = pd.Series([nm or i for nm, i in zip(names, ids)])
    types_ = (_text_column(table, "type", file, problems, 2, False) if "type" in table.columns
              else pd.Series([""] * len(ids)))
    if problems:
        raise InvalidNetworkError(problems)
    _check_unique(names, "name", problems, file, 2)
    if problems:
        raise InvalidNetworkError(problems)
    n = len(ids)
    kn = sp.csr_array((n, n))
    fb = sp.csr_array((n, n), dtype=bool)
    if known is not None:
        kn, fb = _read_known(Path(known), {v: k for k, v in enumerate(ids)})
    return Marginals(names=tuple(names), interbank_assets=nums["interbank_assets"],
                     interbank_liabilities=nums["interbank_liabilities"], known=kn, forbidden=fb,
                     external_assets=nums["external_assets"], external_liabilities=nums["external_liabilities"],
                     types=tuple(t or "institution" for t in types_), source=file)


def _read_known(path: Any, index: Mapping[str, int]) -> tuple[sp.csr_array, sp.csr_array]:
    from ._columns import _check_columns, _number_column, _text_column
    from .io.formats import _read_csv_table

    problems: list[Problem] = []
    table = _read_csv_table(path, problems, set())
    if table is None:
        raise InvalidNetworkError(problems)
    file = str(path)
    _check_columns(table, KNOWN_COLUMNS, file, problems)
    if problems:
        raise InvalidNetworkError(problems)
    deb = _text_column(table, "debtor", file, problems, 2, required=True)
    cred = _text_column(table, "creditor", file, problems, 2, required=True)
    amount = _number_column(table, "amount", file, problems, 2, required=True)
    seen: dict[tuple[int, int], int] = {}
    di, ci = [], []
    for k, (d, c) in enumerate(zip(deb, cred)):
        bad = False
        for col, v in (("debtor", d), ("creditor", c)):
            if v and v not in index:
                problems.append(Problem("unknown id (not in the marginals file)", file=file, row=k + 2,
                                        column=col, value=v))
                bad = True
        if bad or not d or not c:
            di.append(-1), ci.append(-1)
            continue
        if d == c:
            problems.append(Problem("self-loop (an institution cannot owe itself)", file=file, row=k + 2,
                                    column="creditor", value=c))
        pair = (index[d], index[c])
        if pair in seen:
            problems.append(Problem(f"duplicate debtor-creditor pair (first seen at row {seen[pair]})", file=file,
                                    row=k + 2, column="creditor", value=c))
        seen.setdefault(pair, k + 2)
        di.append(pair[0]), ci.append(pair[1])
    if problems:
        raise InvalidNetworkError(problems)
    n = len(index)
    di_a, ci_a = np.asarray(di, dtype=np.int64), np.asarray(ci, dtype=np.int64)
    pos = amount > 0
    kn = sp.csr_array((amount[pos], (di_a[pos], ci_a[pos])), shape=(n, n))
    fb = sp.csr_array((np.ones(int((~pos).sum()), dtype=bool), (di_a[~pos], ci_a[~pos])), shape=(n, n))
    return kn, fb


def write_reconstruction(marginals: Marginals, out: Any, method: str = "max-entropy", n: int = 1,
                         seed: int = 0, **kw: Any) -> tuple[Any, ...]:
    """Write reconstructed networks as network folders (``nodes.csv`` + ``edges.csv``); returns their paths.

    ``"max-entropy"`` and ``"min-density"``: one folder ``out``. ``"ensemble"``:
    ``out`` holds ``draw-0001`` .. ``draw-N`` (zero-padded to the width of
    ``n``), draw ``k`` being the ``k``-th of :func:`sample_ensemble` with
    ``seed``. Edges carry ``kind = "reconstructed"`` (``"known"`` for a known
    amount) and the node table the totals used.
    """
    from pathlib import Path

    from .io import write_network

    prob = _problem_of(marginals)
    if method == "ensemble":
        seed = _check_seed(seed)
        sm = _sampler(prob, kw.get("p", 0.5), kw.get("lam"), kw.get("burn_in"), kw.get("thin"))
        mats: list[sp.csr_array] = []
        for b in range(-(-_check_seed(n, "n") // ENSEMBLE_BLOCK)):
            mats += _draw_block(sm, seed, b, min(ENSEMBLE_BLOCK, n - b * ENSEMBLE_BLOCK))
        width = max(4, len(str(n)))
        targets = [Path(out) / f"draw-{k + 1:0{width}d}" for k in range(n)]
    else:
        mats, targets = [_reconstruct(prob, method, None)], [Path(out)]
    if method == "ensemble":
        Path(out).mkdir(parents=True, exist_ok=True)
    return tuple(write_network(_labelled(marginals, prob, L, method), t, format="csv")
                 for L, t in zip(mats, targets))


def _labelled(m: Marginals, prob: _Problem, L: sp.csr_array, method: str) -> Any:
    from .network import FinancialNetwork

    coo = sp.coo_array(L)
    known = np.asarray(prob.known[coo.row, coo.col]).ravel() > 0 if prob.known.nnz else np.zeros(coo.nnz, bool)
    edges = pd.DataFrame({"debtor": [m.names[i] for i in coo.row], "creditor": [m.names[j] for j in coo.col],
                          "amount": coo.data, "kind": np.where(known, "known", "reconstructed"),
                          "source": np.where(known, "known", f"reconstruct {method}")})
    nodes = pd.DataFrame({"id": m.names, "type": m.types or ["institution"] * m.n,
                          "external_assets": m.external_assets, "external_liabilities": m.external_liabilities,
                          "interbank_assets_given": m.interbank_assets,
                          "interbank_liabilities_given": m.interbank_liabilities})
    return FinancialNetwork.from_edges(edges, nodes, metadata={"source": m.source, "reconstructed": method})


# ---------------------------------------------------------------------------------------------- syndicates
def syndicates_of(net: Any) -> tuple[str, ...]:
    """Ids of the institutions with member rows (edges of kind ``syndicate_share``) and something owed to them."""
    e = net.edges
    if "kind" not in e.columns:
        return ()
    members = e.loc[e["kind"] == "syndicate_share", "debtor"].astype(str)
    owed = set(e.loc[(e["kind"] != "syndicate_share") & (e["amount"] > 0), "creditor"].astype(str))
    return tuple(dict.fromkeys(s for s in members if s in owed))


@dataclass(frozen=True)
class _Spread:
    """A network with every claim on a syndicate split into one row per member (amounts set per draw)."""

    network: Any                 # template network (member rows carry the point estimate)
    rows: tuple                  # per syndicate: (edge rows of the template, claim amounts, member positions)
    alpha: tuple                 # per syndicate: Dirichlet parameters of the unknown members' part
    fixed: tuple                 # per syndicate: known fraction per member (0 = unknown)
    base_amounts: np.ndarray


def _spread_plan(net: Any, syndicates: Iterable[str] | None, weights: Any, shares: Mapping[str, Mapping[str, float]]
                 | None, concentration: float | None) -> _Spread:
    from .network import FinancialNetwork

    synd = tuple(syndicates) if syndicates is not None else syndicates_of(net)
    if not synd:
        raise ContagionError("no syndicate to spread: no institution has member rows (kind 'syndicate_share') "
                             "and something owed to it")
    e = net.edges.reset_index(drop=True)
    nodes = net.nodes
    ids = [str(i) for i in nodes["id"]]
    pos = {v: k for k, v in enumerate(ids)}
    if weights is None:
        weights = "external_assets"
    wcol = None
    if isinstance(weights, str):
        if weights not in nodes.columns:
            raise ContagionError(f"weights: the network has no node column {weights!r}")
        wcol = pd.to_numeric(nodes[weights], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    keep = np.ones(len(e), dtype=bool)
    new_rows: list[pd.DataFrame] = []
    plans = []
    for s in synd:
        if s not in pos:
            raise ContagionError(f"unknown syndicate {s!r}")
        mem = e[(e["debtor"].astype(str) == s) & (e.get("kind", "") == "syndicate_share")]
        members = list(dict.fromkeys(mem["creditor"].astype(str)))
        claims = e[(e["creditor"].astype(str) == s) & (e["amount"] > 0) & (e.get("kind", "") != "syndicate_share")]
        if not members:
            raise ContagionError(f"syndicate {s!r} has no member rows (kind 'syndicate_share')")
        total = float(claims["amount"].sum())
        if total <= 0:
            raise ContagionError(f"syndicate {s!r} is owed nothing: there is nothing to spread")
        fixed = np.zeros(len(members))
        row_amt = dict(zip(mem["creditor"].astype(str), mem["amount"].astype(float)))
        for j, m in enumerate(members):
            fixed[j] = row_amt.get(m, 0.0) / total
        for m, f in (shares or {}).get(s, {}).items():
            if m not in members:
                raise ContagionError(f"shares: {m!r} is not a member of syndicate {s!r}")
            if not 0 <= float(f) <= 1:
                raise ContagionError(f"shares: the share of {m!r} in {s!r} must lie in [0, 1], got {f!r}")
            fixed[members.index(m)] = float(f)
        if fixed.sum() > 1 + 1e-9:
            raise ContagionError(f"the known shares of syndicate {s!r} add up to {fixed.sum():.6g} > 1")
        unknown = fixed == 0
        if isinstance(weights, Mapping):
            w = np.array([float(weights.get(m, 1.0)) for m in members])
        elif wcol is not None:
            w = np.array([wcol[pos[m]] for m in members])
        else:
            w = np.asarray(weights, dtype=float)[[pos[m] for m in members]]
        w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
        if unknown.any() and w[unknown].sum() <= 0:
            w = np.ones(len(members))
        rest = max(0.0, 1.0 - fixed.sum())
        if not unknown.any() and rest > 1e-9:
            raise ContagionError(f"every member share of syndicate {s!r} is known but they add up to "
                                 f"{fixed.sum():.6g}, not 1")
        wu = np.where(unknown, w, 0.0)
        c = float(concentration) if concentration is not None else float(unknown.sum())
        alpha = np.where(unknown, c * wu / max(wu.sum(), 1e-300), 0.0)
        point = fixed + (rest * wu / wu.sum() if wu.sum() > 0 else 0.0)
        keep[claims.index] = False
        keep[mem.index] = False
        mem0 = mem.copy()
        mem0["amount"] = 0.0
        new_rows.append(mem0)
        idx = []
        for _, row in claims.iterrows():
            rep = pd.DataFrame([row] * len(members)).reset_index(drop=True)
            rep["creditor"] = members
            rep["amount"] = float(row["amount"]) * point
            if "edge_id" in rep.columns:
                rep["edge_id"] = [f"{row['edge_id']}~{m}" for m in members]
            rep["reconstructed"] = True
            rep["reconstructed_from"] = (f"claim on syndicate {s} spread over its members: known shares fixed, "
                                         f"the rest by weight ({weights if isinstance(weights, str) else 'given'})")
            new_rows.append(rep)
            idx.append(float(row["amount"]))
        plans.append((s, np.asarray(idx), len(members), alpha, fixed, rest))
    body = pd.concat([e[keep].assign(reconstructed=False, reconstructed_from="")] + new_rows, ignore_index=True)
    body["reconstructed"] = body["reconstructed"].fillna(False).astype(bool)
    body["reconstructed_from"] = body["reconstructed_from"].fillna("").astype(str)
    template = FinancialNetwork.from_edges(body, nodes, metadata={**net.metadata, "spread_syndicates": list(synd)})
    # where each syndicate's new rows sit in the template's edge table (they follow the kept rows in order)
    start = int(keep.sum())
    rows, alphas, fixeds = [], [], []
    for s, claim_amounts, k, alpha, fixed, rest in plans:
        start += k                                              # the zeroed member rows
        at = start + np.arange(claim_amounts.size * k).reshape(claim_amounts.size, k)
        start += claim_amounts.size * k
        rows.append((at, claim_amounts, rest))
        alphas.append(alpha)
        fixeds.append(fixed)
    return _Spread(network=template, rows=tuple(rows), alpha=tuple(alphas), fixed=tuple(fixeds),
                   base_amounts=template.edges["amount"].to_numpy(dtype=float).copy())


def _spread_amounts(plan: _Spread, rng: np.random.Generator | None) -> np.ndarray:
    amounts = plan.base_amounts.copy()
    for (at, claim, rest), alpha, fixed in zip(plan.rows, plan.alpha, plan.fixed):
        if rng is None:
            share = fixed + (rest * alpha / alpha.sum() if alpha.sum() > 0 else 0.0)
        else:
            share = fixed.copy()
            u = alpha > 0
            if u.any():
                share[u] += rest * rng.dirichlet(alpha[u])
        amounts[at] = claim[:, None] * share[None, :]
    return amounts


def spread_syndicates(net: Any, syndicates: Iterable[str] | None = None, *, weights: Any = None,
                      shares: Mapping[str, Mapping[str, float]] | None = None, seed: int | None = None,
                      concentration: float | None = None) -> Any:
    """Spread what each syndicate is owed over its member institutions.

    A syndicate node is owed the claims of a loan whose allocation is not
    disclosed; its member rows (edges ``syndicate -> member`` of kind
    ``syndicate_share``, amount 0) say who the lenders are. Every claim
    ``debtor -> syndicate`` becomes one row ``debtor -> member`` per member
    (attributes copied, ``edge_id`` suffixed ``~member``, columns
    ``reconstructed`` / ``reconstructed_from`` set), so a member's loss is its
    share of what the debtor fails to pay.

    Parameters
    ----------
    net : FinancialNetwork
    syndicates : iterable of ids, optional
        Default: every syndicate (:func:`syndicates_of`).
    weights : str, mapping or array, optional
        Size weights of the members for the part of a syndicate not known: a
        node column (default ``"external_assets"``, a proxy for size), a
        mapping ``id -> weight`` (missing: 1) or an array aligned with the
        nodes. Members with no positive weight count as 1 when all do.
    shares : mapping ``syndicate -> {member: fraction}``, optional
        Known shares (fractions of the syndicate's claims), kept fixed. A
        member row with a positive amount is a known share too (that amount
        out of the syndicate's total claims).
    seed : int, optional
        ``None``: the maximum-entropy spread (the unknown part in proportion
        to the weights). An integer: one draw of the ensemble -- the unknown
        part split by a Dirichlet law with mean proportional to the weights
        and total ``concentration`` (default: the number of unknown members,
        so equal weights give the uniform law on the simplex: independent
        exponential amounts conditioned on their total, the Gandy--Veraart
        model with every link present).

    Returns
    -------
    FinancialNetwork
        The same institutions; the syndicate nodes are owed nothing.

    >>> import contagion
    >>> net = contagion.load_dataset("ai-infrastructure")
    >>> spread = spread_syndicates(net, ["synd_cw_revolver"])
    >>> e = spread.edges[spread.edges["reconstructed"]]
    >>> sorted(e["creditor"]), round(float(e["amount"].sum()), 6) == round(float(
    ...     net.edges.loc[net.edges["creditor"] == "synd_cw_revolver", "amount"].sum()), 6)
    (['goldman', 'jpmorgan', 'morgan_stanley'], True)
    """
    plan = _spread_plan(net, syndicates, weights, shares, concentration)
    rng = None if seed is None else np.random.Generator(np.random.PCG64(_check_seed(seed)))
    return plan.network.replace(edge_amounts=_spread_amounts(plan, rng))


# ---------------------------------------------------------------------------------------------- clearing
@dataclass(frozen=True)
class EnsembleResult:
    """Per institution, clearing results across reconstructions.

    ``default_probability`` (share of draws in which it defaults) with its
    Monte Carlo standard error ``sqrt(q (1 - q) / n)``; ``loss_mean`` (loss on
    its network claims, :attr:`ClearingResult.interbank_loss`) with standard
    error ``std / sqrt(n)``; ``loss_low`` / ``loss_high``: the ``band``
    quantile range of the loss across draws (what the reconstruction leaves
    open, not a Monte Carlo error).
    """

    names: tuple[str, ...]
    types: tuple[str, ...]
    default_probability: np.ndarray
    default_probability_se: np.ndarray
    loss_mean: np.ndarray
    loss_se: np.ndarray
    loss_low: np.ndarray
    loss_high: np.ndarray
    losses: np.ndarray          # (draws, n)
    defaulted: np.ndarray       # (draws, n) bool
    n: int
    seed: int
    method: str
    band: float
    scenarios: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per institution, indexed by name."""
        return pd.DataFrame({"type": self.types, "default_probability": self.default_probability,
                             "default_probability_se": self.default_probability_se, "loss_mean": self.loss_mean,
                             "loss_se": self.loss_se, "loss_low": self.loss_low, "loss_high": self.loss_high},
                            index=pd.Index(self.names, name="name"))


@dataclass(frozen=True)
class _ClearPlan:
    kind: str                   # "marginals" or "syndicates"
    sampler: Any                # _Sampler / _Problem or _Spread
    base: Any                   # network the draws replace the liabilities of (marginals: None)
    marginals: Any
    scenarios: tuple
    method: str
    clearing: str
    params: Mapping[str, Any]


def _clear_block(plan: _ClearPlan, seed: int, block: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    from .clearing import clear
    from .pipeline import prepare

    nets = []
    if plan.kind == "syndicates":
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        for _ in range(count):
            nets.append(plan.base.replace(edge_amounts=_spread_amounts(plan.sampler, rng)))
    else:
        if plan.method == "ensemble":
            mats = _draw_block(plan.sampler, seed, block, count)
        else:
            mats = [plan.sampler.finish(_ras(plan.sampler) if plan.method == "max-entropy"
                                        else _min_density(plan.sampler))] * count
        nets = [plan.marginals.to_network(L) for L in mats]
    losses = np.empty((count, len(nets[0].names)))
    defaulted = np.empty((count, len(nets[0].names)), dtype=bool)
    for k, net in enumerate(nets):
        if plan.scenarios:
            net, _, _ = prepare(net, list(plan.scenarios))
        res = clear(net, plan.clearing, **plan.params)
        losses[k] = res.interbank_loss
        defaulted[k] = res.defaulted
    return losses, defaulted


def clear_ensemble(net_or_marginals: Any, n: int, seed: int = 0, method: str = "ensemble",
                   executor: Executor | str | None = None, *, scenarios: Sequence[Any] = (),
                   syndicates: Iterable[str] | None = None, band: float = 0.9, clearing: str = "eisenberg-noe",
                   weights: Any = None, shares: Mapping[str, Mapping[str, float]] | None = None,
                   concentration: float | None = None, p: float = 0.5, lam: float | None = None,
                   burn_in: int | None = None, thin: int | None = None, **params: Any) -> EnsembleResult:
    """Clear ``n`` reconstructions and report default probabilities and losses with their uncertainty.

    Parameters
    ----------
    net_or_marginals : Marginals or FinancialNetwork
        :class:`Marginals` (e.g. from :func:`read_marginals`): the whole
        liabilities matrix is reconstructed by ``method`` for every draw. A
        network: with ``syndicates`` (ids, or ``"all"``) the claims on those
        syndicates are spread over their members (:func:`spread_syndicates`,
        one Dirichlet draw each time); without, its matrix is reconstructed
        from its own totals (:meth:`Marginals.from_network`).
    n : int
        Number of reconstructions.
    seed : int
        Same seed, same numbers, whatever ``executor`` and the number of workers
        (draws come in blocks of :data:`ENSEMBLE_BLOCK`, one seed per block).
    method : str
        ``"ensemble"`` (default), or a deterministic method (every draw is the
        same: the standard errors are 0).
    executor : concurrent.futures.Executor, "auto", "processes", "inline" or None
        Where the blocks run (see :func:`contagion.executors.resolve_executor`).
    scenarios : sequence
        Scenario names, files or objects applied to every reconstruction
        (through :func:`contagion.pipeline.prepare`) before clearing.
    band : float
        Width of the loss band across draws (0.9: the 5th to 95th percentile).
    clearing : str
        Clearing method (``"eisenberg-noe"``, ``"rogers-veraart"`` with
        ``alpha``/``beta`` in ``params``).

    Returns
    -------
    EnsembleResult

    >>> import contagion
    >>> from contagion.reconstruct import Marginals
    >>> m = Marginals.from_network(contagion.load_dataset("core-periphery"))
    >>> res = clear_ensemble(m, n=4, seed=0)
    >>> res.n, res.default_probability.shape, res.to_frame().columns[:3].tolist()
    (4, (5,), ['type', 'default_probability', 'default_probability_se'])
    """
    from .executors import resolve_executor, run_tasks

    n = _check_seed(n, "n")
    seed = _check_seed(seed)
    if n < 1:
        raise ContagionError("n (number of reconstructions) must be at least 1")
    if not 0 < band < 1:
        raise ContagionError(f"band must lie strictly between 0 and 1, got {band!r}")
    if method not in RECONSTRUCTION_METHODS:
        raise ContagionError(f"unknown reconstruction method {method!r}; choose one of "
                             f"{', '.join(RECONSTRUCTION_METHODS)}")
    from .pipeline import resolve

    if isinstance(net_or_marginals, Marginals):
        marg, base, kind = net_or_marginals, None, "marginals"
    elif syndicates is not None:
        marg, base, kind = None, net_or_marginals, "syndicates"
    else:
        marg, base, kind = Marginals.from_network(net_or_marginals), None, "marginals"
    if kind == "syndicates":
        # shocks first (they may name the claims on a syndicate by edge_id), then the spread of the shocked claims
        from .pipeline import prepare

        base, resolved_s, _ = prepare(base, list(scenarios)) if scenarios else (base, (), False)
        plan_s = _spread_plan(base, None if syndicates == "all" else syndicates, weights, shares, concentration)
        probe = plan_s.network
        sampler: Any = plan_s
        names, types_ = tuple(probe.names), tuple(map(str, probe.types))
        base = probe
    else:
        prob = _problem_of(marg)
        sampler = _sampler(prob, p, lam, burn_in, thin) if method == "ensemble" else prob
        probe = marg.to_network(prob.finish(_ras(prob)) if method != "min-density" else prob.finish(
            _min_density(prob)))
        names, types_ = marg.names, tuple(map(str, probe.types))
    if kind == "syndicates":
        resolved, per_draw = tuple(resolved_s), ()
    else:
        resolved = resolve(probe, list(scenarios))[0] if scenarios else ()
        per_draw = tuple(resolved)
    plan = _ClearPlan(kind=kind, sampler=sampler, base=base, marginals=marg, scenarios=per_draw,
                      method=method, clearing=clearing, params=dict(params))
    blocks = -(-n // ENSEMBLE_BLOCK)
    tasks = [(seed, b, min(ENSEMBLE_BLOCK, n - b * ENSEMBLE_BLOCK)) for b in range(blocks)]
    with resolve_executor(executor, float(n) * (len(names) ** 2)) as (ex, _):
        parts = run_tasks(_clear_block, plan, tasks, ex, sizes=[t[2] for t in tasks])
    losses = np.concatenate([pt[0] for pt in parts], axis=0)
    defaulted = np.concatenate([pt[1] for pt in parts], axis=0)
    q = defaulted.mean(axis=0)
    lo, hi = np.quantile(losses, [(1 - band) / 2, (1 + band) / 2], axis=0)
    sd = losses.std(axis=0, ddof=1) if n > 1 else np.zeros(len(names))
    return EnsembleResult(names=names, types=types_, default_probability=q,
                          default_probability_se=np.sqrt(q * (1 - q) / n), loss_mean=losses.mean(axis=0),
                          loss_se=sd / math.sqrt(n), loss_low=lo, loss_high=hi, losses=losses, defaulted=defaulted,
                          n=n, seed=seed, method=method if kind == "marginals" else "syndicate-dirichlet",
                          band=float(band), scenarios=tuple(s.name for s in resolved))


# ``contagion.reconstruct(...)`` calls :func:`reconstruct`, and ``contagion.reconstruct.clear_ensemble`` is this
# module's function: the module is callable (module ``__class__`` assignment, Python >= 3.5).
class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> sp.csr_array:
        return reconstruct(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
#: this module (what ``contagion.reconstruct`` resolves to, through ``contagion._LAZY``)
_module = sys.modules[__name__]
