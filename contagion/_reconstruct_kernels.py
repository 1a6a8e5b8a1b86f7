"""Compiled (numba) Gibbs steps on cycles for :mod:`contagion.reconstruct`'s ensemble sampler.

Imported only when an ensemble is drawn (``import contagion`` does not import numba).

The model (Gandy & Veraart 2017, "A Bayesian methodology for systemic risk
assessment in financial networks", Management Science 63(12), §3): each
allowed link ``(i, j)`` exists with probability ``p[i, j]`` and, if it
exists, carries an amount drawn from an exponential distribution with rate
``lam[i, j]``; the sampler draws from that model conditioned on every row and
column sum. One step picks ``k`` distinct rows ``r_0..r_{k-1}`` and ``k``
distinct columns ``c_0..c_{k-1}`` at random and moves ``X[r_t, c_t] += d``,
``X[r_t, c_{t+1 mod k}] -= d``, which keeps every total. Given the rest of
the matrix, ``d`` lies in ``[lo, hi]`` (every entry stays non-negative); its
conditional law is a truncated exponential inside the interval (all ``2k``
entries present) plus an atom at each end (one entry becomes an absent
link, weight ``1 - p`` instead of ``p lam exp(-lam x)``). An end that empties
two or more entries at once is a lower-dimensional point that the
interval's density cannot reach; as in the reference sampler it is taken
outright (both ends: chosen by likelihood). Cycle lengths ``k = 2, 3, ...``
are chosen with probabilities halving at each length, up to ``kmax``.

Random numbers come from numba's generator, seeded at the start of every
chain (``np.random.seed`` inside a compiled function seeds the calling
thread's stream only), so a chain's draws depend on its seed alone -- not on
the thread or process that runs it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _loglik(X, p, lam, rr, cc, k, d, eps):
    """Log-likelihood of the ``2k`` entries of the cycle after moving them by ``d``."""
    out = 0.0
    for t in range(k):
        i = rr[t]
        for s in range(2):
            j = cc[t] if s == 0 else cc[(t + 1) % k]
            v = X[i, j] + d if s == 0 else X[i, j] - d
            if v < eps:
                q = 1.0 - p[i, j]
                out += math.log(q) if q > 0.0 else -np.inf
            else:
                out += math.log(p[i, j]) + math.log(lam[i, j]) - lam[i, j] * v
    return out


@njit(cache=True)
def _apply(X, rr, cc, k, d, eps):
    for t in range(k):
        i = rr[t]
        a = X[i, cc[t]] + d
        b = X[i, cc[(t + 1) % k]] - d
        X[i, cc[t]] = a if a >= eps else 0.0
        X[i, cc[(t + 1) % k]] = b if b >= eps else 0.0


@njit(cache=True)
def _zeros_at(X, rr, cc, k, d, eps):
    z = 0
    for t in range(k):
        i = rr[t]
        if X[i, cc[t]] + d < eps:
            z += 1
        if X[i, cc[(t + 1) % k]] - d < eps:
            z += 1
    return z


@njit(cache=True)
def gibbs_chain(X, allowed, p, lam, rows, cols, steps, kmax, seed, eps, out, every):
    """Run ``steps`` cycle steps on ``X`` (changed in place); every ``every`` steps after the first
    ``steps - out.shape[0] * every`` copy ``X`` into the next slice of ``out``."""
    np.random.seed(seed)
    nr = rows.size
    nc = cols.size
    rbuf = rows.copy()
    cbuf = cols.copy()
    rr = np.empty(kmax, dtype=np.int64)
    cc = np.empty(kmax, dtype=np.int64)
    first_out = steps - out.shape[0] * every
    taken = 0
    for step in range(steps):
        # cycle length: P(k) proportional to 2 ** -(k - 2), k = 2 .. kmax
        k = 2
        u = np.random.random() * (1.0 - 0.5 ** (kmax - 1))
        w = 0.5
        while k < kmax and u >= w:
            u -= w
            w *= 0.5
            k += 1
        for t in range(k):
            a = t + np.random.randint(nr - t)
            rbuf[t], rbuf[a] = rbuf[a], rbuf[t]
            b = t + np.random.randint(nc - t)
            cbuf[t], cbuf[b] = cbuf[b], cbuf[t]
            rr[t] = rbuf[t]
            cc[t] = cbuf[t]
        ok = True
        for t in range(k):
            if not allowed[rr[t], cc[t]] or not allowed[rr[t], cc[(t + 1) % k]]:
                ok = False
                break
        if ok:
            lo = -np.inf
            hi = np.inf
            for t in range(k):
                lo = max(lo, -X[rr[t], cc[t]])
                hi = min(hi, X[rr[t], cc[(t + 1) % k]])
            length = hi - lo
            if length > eps:
                z_lo = _zeros_at(X, rr, cc, k, lo, eps)
                z_hi = _zeros_at(X, rr, cc, k, hi, eps)
                if z_lo <= 1 and z_hi <= 1:
                    m = 0.0
                    for t in range(k):
                        m += lam[rr[t], cc[t]] - lam[rr[t], cc[(t + 1) % k]]
                    mid = 0.5 * (lo + hi)
                    s = abs(m)
                    if s * length < 1e-12:
                        log_int = math.log(length)
                    else:  # log of the integral of exp(-m (d - mid)) over [lo, hi]
                        log_int = 0.5 * s * length + math.log(-math.expm1(-s * length)) - math.log(s)
                    l_in = _loglik(X, p, lam, rr, cc, k, mid, eps) + log_int
                    l_lo = _loglik(X, p, lam, rr, cc, k, lo, eps)
                    l_hi = _loglik(X, p, lam, rr, cc, k, hi, eps)
                    top = max(l_in, max(l_lo, l_hi))
                    w_in = math.exp(l_in - top)
                    w_lo = math.exp(l_lo - top)
                    w_hi = math.exp(l_hi - top)
                    v = np.random.random() * (w_in + w_lo + w_hi)
                    if v < w_in:
                        r = np.random.random()
                        if s * length < 1e-12:
                            d = lo + r * length
                        else:
                            x = -math.log1p(r * math.expm1(-s * length)) / s
                            d = lo + x if m > 0 else hi - x
                        d = min(max(d, lo), hi)
                    elif v < w_in + w_lo:
                        d = lo
                    else:
                        d = hi
                elif z_lo > z_hi:
                    d = lo
                elif z_hi > z_lo:
                    d = hi
                else:
                    l_lo = _loglik(X, p, lam, rr, cc, k, lo, eps)
                    l_hi = _loglik(X, p, lam, rr, cc, k, hi, eps)
                    top = max(l_lo, l_hi)
                    w_lo = math.exp(l_lo - top)
                    w_hi = math.exp(l_hi - top)
                    d = lo if np.random.random() * (w_lo + w_hi) < w_lo else hi
                _apply(X, rr, cc, k, d, eps)
        if step >= first_out and (step - first_out + 1) % every == 0 and taken < out.shape[0]:
            out[taken, :, :] = X
            taken += 1
    return taken
