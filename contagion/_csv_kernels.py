"""Compiled (numba) kernels of :mod:`contagion.io.csvtext`: the rows of a CSV table put together from its
columns' text (Arrow string buffers), one column at a time, without a Python object per cell.

Imported only for long tables (``import contagion`` does not import numba). Arrow writes each float's
shortest round-trip digits; :func:`float_fixes` finds the cells whose text differs from Python's ``repr``
(a whole number lacks ``.0``; exponent notation is left to ``repr`` by the caller), and :func:`put_column`
copies a column's cells into their rows' places, adding the ``.0`` and the separator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_DOT = np.uint8(ord("."))
_E = np.uint8(ord("e"))


@njit(cache=True, nogil=True)
def float_fixes(off, data, plain, fix):
    """``fix[r]``: 0 = the cell is written as it is, 1 = add ``.0`` (a whole number), 2 = write Python's
    ``repr`` instead (not in plain decimal range, or Arrow wrote an exponent). Returns the number of 2s."""
    others = 0
    for r in range(off.size - 1):
        if not plain[r]:
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
    """``length[r] +=`` the bytes of cell ``r`` as written (``.0`` where ``fix[r] == 1``) and its separator."""
    for r in range(off.size - 1):
        length[r] += off[r + 1] - off[r] + 1 + (2 if fix[r] == 1 else 0)


@njit(cache=True, nogil=True)
def put_column(off, data, fix, sep, out, cursor):
    """Copy cell ``r`` to ``out[cursor[r]:]`` (with ``.0`` where ``fix[r] == 1``), then ``sep``; advance
    ``cursor[r]``."""
    for r in range(off.size - 1):
        o = np.uint64(cursor[r])
        a = np.uint64(off[r])
        size = np.uint64(off[r + 1]) - a
        for k in range(size):
            out[o + k] = data[a + k]
        o += size
        if fix[r] == 1:
            out[o] = _DOT
            out[o + np.uint64(1)] = np.uint8(48)
            o += np.uint64(2)
        out[o] = sep
        cursor[r] = o + np.uint64(1)
