"""Compiled (numba) Gibbs steps on cycles for :mod:`contagion.reconstruct`'s ensemble sampler.

Imported only when an ensemble is drawn (``import contagion`` does not import numba).

The model (Gandy & Veraart 2017, "A Bayesian methodology for systemic risk
assessment in financial networks", Management Science 63(12), §3): each
allowed link ``(i, j)`` exists with probability ``p[i, j]`` and, if it
exists, carries an amount drawn from an exponential distribution with rate
``lam[i, j]``; the sampler draws from that model conditioned on every row and
column sum. One step moves the matrix along a cycle of allowed links
``(r_t, c_t)``, ``(r_t, c_{t+1 mod k})`` (``k`` distinct rows, ``k``
distinct columns): ``X[r_t, c_t] += d``, ``X[r_t, c_{t+1 mod k}] -= d``,
which keeps every total. Given the rest of the matrix, ``d`` lies in
``[lo, hi]`` (every entry stays non-negative); its conditional law is a
truncated exponential inside the interval (all ``2k`` entries present) plus
an atom at each end (one entry becomes an absent link, weight ``1 - p``
instead of ``p lam exp(-lam x)``). An end that empties two or more entries
at once is a lower-dimensional point that the interval's density cannot
reach; as in the reference sampler it is taken outright (both ends: chosen
by likelihood).

The cycle is found by a walk on the allowed links only: an allowed link
``(i_0, j_0)`` drawn uniformly, then from the column just reached an allowed
link to a row not yet visited, from that row an allowed link to a column not
yet visited, and so on. Once the column reached has an allowed link back to
an earlier row of the walk (not the one it came from), the walk closes a
cycle through one of them (drawn uniformly) with probability 1/2, and always
when it cannot go on; the rows before that one are left out. A walk that can
neither go on nor close leaves the matrix as it is. Where the walk goes depends only on which links are allowed and on
the random numbers, never on the amounts, so each step is a mixture (over
cycles, with weights fixed in advance) of exact conditional draws along one
cycle; each of these leaves the conditioned model invariant and is
reversible, hence so is the mixture -- no Metropolis--Hastings correction is
needed. (Not so for the outright rule above: where cycle ends empty two links
at once -- totals in which some rows owe exactly what some columns are owed,
as with small whole numbers -- the law of the draws depends on how cycles are
chosen.) With most links forbidden the walk still finds the cycles there are
(a ring where ``i`` may owe only ``i + 1`` and ``i + 2`` has one, through
every row), where drawing ``k`` rows and columns at random almost never
hits one.

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
def _pick(ptr, idx, at, seen):
    """A random entry of ``idx[ptr[at]:ptr[at + 1]]`` not yet ``seen`` (-1 when there is none)."""
    a = ptr[at]
    m = ptr[at + 1] - a
    if m == 0:
        return -1
    for _ in range(4):                       # most entries are unseen: a few tries usually suffice
        v = idx[a + np.random.randint(m)]
        if not seen[v]:
            return v
    free = 0
    for t in range(m):
        if not seen[idx[a + t]]:
            free += 1
    if free == 0:
        return -1
    r = np.random.randint(free)
    for t in range(m):
        v = idx[a + t]
        if not seen[v]:
            if r == 0:
                return v
            r -= 1
    return -1


@njit(cache=True)
def _walk(allowed, row_ptr, row_cols, link_rows, col_ptr, col_rows, seen_r, seen_c, wr, wc):
    """An alternating walk on allowed links that closes a cycle. Returns ``(s, k)``: the cycle's rows are
    ``wr[s:k]`` and its columns ``wc[s:k]``, row ``wr[t]`` holding the links ``(wr[t], wc[t])`` and
    ``(wr[t], wc[t - 1])`` (``wc[k - 1]`` for ``t = s``); ``k - s < 2`` when the walk ran into a dead end."""
    e = np.random.randint(row_cols.size)
    wr[0] = link_rows[e]
    wc[0] = row_cols[e]
    seen_r[wr[0]] = True
    seen_c[wc[0]] = True
    k = 1
    s = -1
    while True:
        j = wc[k - 1]
        back = 0                              # earlier rows (not the last one) with an allowed link to column j
        for t in range(k - 1):
            if allowed[wr[t], j]:
                back += 1
        if not (back and np.random.random() < 0.5):      # go on (when it can)
            i = _pick(col_ptr, col_rows, j, seen_r)
            jn = -1 if i < 0 else _pick(row_ptr, row_cols, i, seen_c)
            if jn >= 0:
                wr[k] = i
                wc[k] = jn
                seen_r[i] = True
                seen_c[jn] = True
                k += 1
                continue
            if not back:
                break
        r = np.random.randint(back)           # close at one of them, drawn uniformly
        for t in range(k - 1):
            if allowed[wr[t], j]:
                if r == 0:
                    s = t
                    break
                r -= 1
        break
    for t in range(k):
        seen_r[wr[t]] = False
        seen_c[wc[t]] = False
    if s < 0:
        return 0, 0
    return s, k


@njit(cache=True)
def gibbs_chain(X, allowed, p, lam, row_ptr, row_cols, link_rows, col_ptr, col_rows, steps, seed, eps, out,
                every):
    """Run ``steps`` cycle steps on ``X`` (changed in place); every ``every`` steps after the first
    ``steps - out.shape[0] * every`` copy ``X`` into the next slice of ``out``.

    ``allowed`` is the (n, n) bool matrix of the links that may carry an amount; ``row_ptr``/``row_cols`` list
    them by row (CSR), ``link_rows`` gives each one's row, ``col_ptr``/``col_rows`` list them by column (CSC).
    """
    np.random.seed(seed)
    n = X.shape[0]
    seen_r = np.zeros(n, dtype=np.bool_)
    seen_c = np.zeros(n, dtype=np.bool_)
    wr = np.empty(n, dtype=np.int64)
    wc = np.empty(n, dtype=np.int64)
    rr = np.empty(n, dtype=np.int64)
    cc = np.empty(n, dtype=np.int64)
    first_out = steps - out.shape[0] * every
    taken = 0
    for step in range(steps):
        s0, k1 = _walk(allowed, row_ptr, row_cols, link_rows, col_ptr, col_rows, seen_r, seen_c, wr, wc)
        k = k1 - s0
        for t in range(k):           # row rr[t] holds (rr[t], cc[t]) and (rr[t], cc[t + 1 mod k])
            rr[t] = wr[s0 + (t + 1) % k]
            cc[t] = wc[s0 + t]
        if k >= 2:
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
