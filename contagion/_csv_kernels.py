"""Compiled (numba) kernels of :mod:`contagion.io.csvtext`: the rows of a CSV table put together from its
columns' text (Arrow string buffers), one column at a time, without a Python object per cell.

Imported only for long tables (``import contagion`` does not import numba). Arrow writes each float's
shortest round-trip digits; :func:`float_fixes` finds the cells whose text differs from Python's ``repr``
(a whole number lacks ``.0``; NaN is an empty cell; exponent notation is left to ``repr`` by the caller), and :func:`put_column`
copies a column's cells into their rows' places, adding the ``.0`` and the separator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_DOT = np.uint8(ord("."))
_E = np.uint8(ord("e"))


@njit(cache=True, nogil=True)
def float_fixes(off, data, values, fix):
    """``fix[r]`` for the float ``values[r]`` and Arrow's text of it, cell ``r``: 0 = the cell is written as it
    is, 1 = add ``.0`` (a whole number), 2 = write Python's ``repr`` instead (outside plain decimal notation,
    ``1e-4 <= |x| < 1e16`` or 0 -- the rule of ``contagion.io.csvtext._plain_range``, here in the same pass --
    or Arrow wrote an exponent), 3 = NaN, an empty cell. Returns the number of 2s."""
    others = 0
    for r in range(off.size - 1):
        x = values[r]
        if x != x:
            fix[r] = 3
            continue
        size = abs(x)
        if not (size < 1e16 and (size >= 1e-4 or size == 0.0)):
            fix[r] = 2
            others += 1
            continue
        code = 1
        for k in range(np.uint64(off[r]), np.uint64(off[r + 1])):
            c = data[k]
            if c == _E:
                code = 2
                break
            if c == _DOT:
                code = 0
        fix[r] = code
        if code == 2:
            others += 1
    return others


@njit(cache=True, nogil=True)
def add_lengths(off, fix, length):
    """``length[r] +=`` the bytes of cell ``r`` as written (``.0`` where ``fix[r] == 1``, nothing where
    ``fix[r] == 3``) and its separator."""
    for r in range(off.size - 1):
        f = fix[r]
        length[r] += 1 if f == 3 else off[r + 1] - off[r] + 1 + (2 if f == 1 else 0)


@njit(cache=True, nogil=True)
def put_column(off, data, fix, sep, out, cursor):
    """Copy cell ``r`` to ``out[cursor[r]:]`` (with ``.0`` where ``fix[r] == 1``, nothing where
    ``fix[r] == 3``), then ``sep``; advance ``cursor[r]``."""
    for r in range(off.size - 1):
        o = np.uint64(cursor[r])
        f = fix[r]
        if f != 3:
            a = np.uint64(off[r])
            size = np.uint64(off[r + 1]) - a
            for k in range(size):
                out[o + k] = data[a + k]
            o += size
            if f == 1:
                out[o] = _DOT
                out[o + np.uint64(1)] = np.uint8(48)
                o += np.uint64(2)
        out[o] = sep
        cursor[r] = o + np.uint64(1)
