"""Batched clearing (many vectors of external assets on one network).

The reference path solves each column exactly with the fictitious-default
algorithm. Faster paths may replace it; they must give the same answers.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError
from .core import fda_solve


def solve_batch(net, E: np.ndarray, alpha: float = 1.0, beta: float = 1.0):
    """Return ``(payments, defaulted, iterations, residual, solver)`` for every column of ``E``."""
    n, K = E.shape
    P = np.empty((n, K))
    D = np.empty((n, K), dtype=bool)
    its = np.empty(K, dtype=np.int64)
    res = np.empty(K)
    PiT, pbar, cap, forced = net.PiT, net.total_obligations, net.payment_cap, net.forced_default
    for k in range(K):
        sol = fda_solve(PiT, pbar, E[:, k], cap=cap, forced=forced, alpha=alpha, beta=beta)
        if not sol.converged:
            raise ConvergenceError(f"scenario {k} did not converge", sol.iterations, sol.residual)
        P[:, k] = sol.payments
        D[:, k] = sol.defaulted
        its[k] = sol.iterations
        res[k] = sol.residual
    return P, D, its, res, "fda-per-column"
