"""Compiled round 0 of the fictitious-default algorithm when ``PiT @ pbar`` is already known."""

from __future__ import annotations

from numba import njit, prange


@njit(parallel=True, cache=True)
def round0(a, pbar, e, forced, tie_rtol, tie_abs, a_out, short_out):
    """``a_out = a`` and ``short_out`` = institutions short even if everyone pays in full (or forced)."""
    cnt = 0
    for i in prange(pbar.size):
        s = a[i]
        a_out[i] = s
        sh = pbar[i] > 0.0 and (forced[i] or e[i] + s < pbar[i] - (tie_rtol * pbar[i] + tie_abs))
        short_out[i] = sh
        if sh:
            cnt += 1
    return cnt
