"""Totals, known and forbidden links: the problem a reconstruction solves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ContagionError, InvalidNetworkError, Problem


#: Reconstruction methods (the CLI's ``--method`` choices come from here).
RECONSTRUCTION_METHODS = ("max-entropy", "min-density", "ensemble")

#: Draws per Markov chain of the ensemble sampler: the unit of randomness (one seed each) and of work sent to an
#: executor. Part of the reproducibility contract: changing it changes the draws for a given seed.
ENSEMBLE_BLOCK = 16

#: Amounts smaller than this fraction of the total are zero (a residual total, a link's amount, an end of a
#: sampler's cycle). Relative only: scaling every total by any factor scales the reconstruction by it.
AMOUNT_RTOL = 1e-12

#: Relative tolerance on ``sum(assets) == sum(liabilities)``; within it the assets are rescaled to match exactly.
TOTALS_RTOL = 1e-9


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
    #: the institutions' ids when they are not their names (a marginals file with ``id`` and ``name``)
    ids: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def keys(self) -> tuple[str, ...]:
        """The ids (the names when no ids were given)."""
        return self.ids or self.names

    @classmethod
    def from_network(cls, net: Any) -> "Marginals":
        """The totals of a network's liabilities matrix (no bilateral amount known)."""
        n = net.n
        return cls(names=tuple(net.names), interbank_assets=net.interbank_assets.copy(),
                   interbank_liabilities=net.interbank_liabilities.copy(), known=sp.csr_array((n, n)),
                   forbidden=sp.csr_array((n, n), dtype=bool), external_assets=net.external_assets.copy(),
                   external_liabilities=net.external_liabilities.copy(), types=tuple(map(str, net.types)),
                   source=str(net.metadata.get("dataset") or net.metadata.get("source") or ""),
                   ids=tuple(map(str, net.ids)))

    def to_network(self, L: Any) -> Any:
        """A :class:`~contagion.FinancialNetwork` with liabilities ``L`` and these outside balances."""
        from ..network import FinancialNetwork

        return FinancialNetwork.from_matrix(L, self.external_assets, self.external_liabilities, self.names,
                                            types=self.types or None, ids=self.ids or None,
                                            metadata={"source": self.source, "reconstructed": True})


def _check_method(method: Any) -> str:
    if method not in RECONSTRUCTION_METHODS:
        raise ContagionError(f"unknown reconstruction method {method!r}; choose one of "
                             f"{', '.join(RECONSTRUCTION_METHODS)}")
    return method


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
            coo = known.tocoo()
            k = int(np.flatnonzero(~np.isfinite(coo.data) | (coo.data < 0))[0])
            i, j = int(coo.row[k]), int(coo.col[k])
            raise InvalidNetworkError(f"known amounts must be finite and non-negative: what {m.names[i]!r} owes "
                                      f"{m.names[j]!r} is {float(coo.data[k])!r}")
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
        tol = AMOUNT_RTOL * tl
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
        """Amounts below this are zero: :data:`AMOUNT_RTOL` of the total (no absolute floor, so a result does not
        depend on the unit the amounts are given in)."""
        return AMOUNT_RTOL * self.total

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
