"""Compiled (numba) kernels for the long text columns of a network, on their Arrow buffers (no Python object
per value): whether a column may need stripping, and the lookup of text ids -- the position of each debtor
and creditor of an edge table in the node table.

Imported only for long edge tables (``import contagion`` does not import numba).

Arrow's ``index_in`` hashes each value into one table of all ids: at 10^6 ids that table (~48 MB with the
ids' text) does not fit the cache, and each of 10^7 lookups waits on memory (~230 ns a value on the 2-core
benchmark machine). Here the ids' table is cut into partitions by the high bits of a 64-bit hash, each
about 100 kB with its ids' text; the values are hashed a block at a time, their hashes and text copied into
partition order (a counting sort), and each partition's group probes its own small table while it sits in
cache. A hit is confirmed byte by byte against the id's text, so the answer is exact (the hash only
chooses where to look); the first occurrence of a repeated id wins, as in ``index_in``. Measured at 10^6
ids and 10^7 values: ~0.9 s against ``index_in``'s ~2.3 s on one core; the debtors and creditors of a
network side by side in two threads ~1.5-1.9 s against ~3.1 s.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Ids per partition (on average): the partition's table (16 bytes a slot, at most half full) and its ids'
#: text stay in L2.
PART_IDS = 2048
#: Values hashed and grouped at a time, at least (their hashes, text and answers: ~30 bytes each, ~16 MB a
#: block); more for a large table of ids (:func:`block_for`).
BLOCK = 1 << 19
#: Values at a time at most (~120 MB of buffers).
MAX_BLOCK = 1 << 22


def block_for(ids: int) -> int:
    """Values to look up at a time among ``ids`` ids: each block reads every partition's table once (~50 bytes
    an id), so a block of twice as many values as there are ids keeps that read below the values' own traffic.
    Measured at 10^6 ids and 10^7 values, one thread: 1.7 s with blocks of 2^19, 1.1 s with 2^21, 1.1 s with
    2^22, 1.4 s with 2^23 (the buffers no longer fit the memory the OS has ready)."""
    return int(min(MAX_BLOCK, max(BLOCK, 2 * ids)))

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


@njit(cache=True, nogil=True, inline="always")
def _hash(data, a, b):
    """FNV-1a over bytes ``data[a:b]``, then murmur3's finaliser (the partition uses the high bits, the
    slot the low bits: both must be well mixed)."""
    h = _FNV_OFFSET
    for k in range(a, b):
        h = (h ^ np.uint64(data[k])) * _FNV_PRIME
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


@njit(cache=True, nogil=True, inline="always")
def _same(d1, a1, b1, d2, a2, b2):
    """Whether ``d1[a1:b1]`` and ``d2[a2:b2]`` hold the same bytes (unsigned positions: no check for
    negative indices in the loop)."""
    if b1 - a1 != b2 - a2:
        return False
    u1, u2 = np.uint64(a1), np.uint64(a2)
    for k in range(np.uint64(b1 - a1)):
        if d1[u1 + k] != d2[u2 + k]:
            return False
    return True


@njit(cache=True, nogil=True)
def may_need_strip(off, data, lead, tail):
    """Whether some non-empty value's first byte is in ``lead`` or its last byte in ``tail`` (bool tables)."""
    for r in range(off.size - 1):
        a, b = off[r], off[r + 1]
        if b > a and (lead[data[a]] or tail[data[b - 1]]):
            return True
    return False


@njit(cache=True, nogil=True)
def build_table(off, data, valid, bits):
    """The partitioned table of ids ``i`` (text ``data[off[i]:off[i+1]]``; ``valid[i]`` False: no id).

    Returns ``(start, mask, slots, pos, toff, tdata)``. The ids are copied in partition order: the ``g``-th
    has text ``tdata[toff[g]:toff[g+1]]`` and is id ``pos[g]``. Partition ``p``'s slots are ``start[p] ..
    start[p] + mask[p]``; ``slots[2k]`` holds a hash (as int64) and ``slots[2k+1]`` the ``g`` of its id, -1
    when empty. A repeated id keeps its first occurrence; different ids with one hash each get a slot.
    """
    n = off.size - 1
    shift = np.uint64(64 - bits)
    nparts = 1 << bits
    h = np.empty(n, dtype=np.uint64)
    first = np.zeros(nparts + 1, dtype=np.int64)
    nbytes = np.zeros(nparts + 1, dtype=np.int64)
    for i in range(n):
        if valid[i]:
            h[i] = _hash(data, off[i], off[i + 1])
            p = np.int64(h[i] >> shift)
            first[p + 1] += 1
            nbytes[p + 1] += off[i + 1] - off[i]
    start = np.empty(nparts + 1, dtype=np.int64)
    mask = np.empty(nparts, dtype=np.int64)
    total = 0
    for p in range(nparts):
        cap = 4
        while cap < 2 * first[p + 1]:
            cap *= 2
        start[p] = total
        mask[p] = cap - 1
        total += cap
        first[p + 1] += first[p]
        nbytes[p + 1] += nbytes[p]
    start[nparts] = total
    # the ids' text in partition order (a partition's ids are then side by side in memory)
    m_ids = first[nparts]
    pos = np.empty(m_ids, dtype=np.int64)
    toff = np.empty(m_ids + 1, dtype=np.int64)
    tdata = np.empty(nbytes[nparts], dtype=np.uint8)
    cursor = first[:nparts].copy()
    bcursor = nbytes[:nparts].copy()
    for i in range(n):
        if valid[i]:
            p = np.int64(h[i] >> shift)
            g = cursor[p]
            cursor[p] = g + 1
            pos[g] = i
            b = bcursor[p]
            toff[g] = b
            for k in range(off[i], off[i + 1]):
                tdata[b] = data[k]
                b += 1
            bcursor[p] = b
    toff[m_ids] = nbytes[nparts]
    slots = np.full(2 * total, -1, dtype=np.int64)
    for p in range(nparts):
        base, m = start[p], mask[p]
        for g in range(first[p], first[p + 1]):  # in order of the ids: the first occurrence comes first
            hg = np.int64(h[pos[g]])
            s = hg & m
            while True:
                k = 2 * (base + s)
                e = slots[k + 1]
                if e < 0:
                    slots[k] = hg
                    slots[k + 1] = g
                    break
                if slots[k] == hg and _same(tdata, toff[e], toff[e + 1], tdata, toff[g], toff[g + 1]):
                    break  # a repeated id: the first occurrence keeps the slot
                s = (s + 1) & m
    return start, mask, slots, pos, toff, tdata


@njit(cache=True, nogil=True)
def probe(off, data, valid, start, mask, slots, pos, toff, tdata, bits, out, block):
    """``out[r]`` = position of value ``r``'s text among the ids (:func:`build_table`), -1 when absent or
    ``valid[r]`` is False; ``block`` values at a time (:data:`BLOCK`).

    A block of values at a time: hash them in row order; copy each value's hash and text into its
    partition's stretch of a buffer (sequential writes, one stream per partition); probe each partition's
    table in turn and compare the text with its ids' (all in cache); then walk the rows in order again and
    take each row's answer from its partition's stream. Nothing is read at random from a large array.
    """
    n = off.size - 1
    if n == 0:
        return
    shift = np.uint64(64 - bits)  # bits >= 1 (a shift by 64 is undefined)
    nparts = 1 << bits
    block = max(1, min(block, n))
    h = np.empty(block, dtype=np.uint64)
    pair_h = np.empty(block, dtype=np.uint64)
    pair_b = np.empty(block + 1, dtype=np.int64)
    pair_j = np.empty(block, dtype=np.int32)
    first = np.empty(nparts + 1, dtype=np.int64)
    nbytes = np.empty(nparts + 1, dtype=np.int64)
    cursor = np.empty(nparts, dtype=np.int64)
    bcursor = np.empty(nparts, dtype=np.int64)
    text = np.empty(0, dtype=np.uint8)
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        first[:] = 0
        nbytes[:] = 0
        for r in range(b0, b1):
            if valid[r]:
                hr = _hash(data, off[r], off[r + 1])
                h[r - b0] = hr
                p = np.int64(hr >> shift)
                first[p + 1] += 1
                nbytes[p + 1] += off[r + 1] - off[r]
        for p in range(nparts):
            first[p + 1] += first[p]
            nbytes[p + 1] += nbytes[p]
        if text.size < nbytes[nparts]:
            text = np.empty(nbytes[nparts] + nbytes[nparts] // 4, dtype=np.uint8)
        cursor[:] = first[:nparts]
        bcursor[:] = nbytes[:nparts]
        for r in range(b0, b1):
            if valid[r]:
                hr = h[r - b0]
                p = np.int64(hr >> shift)
                c = cursor[p]
                cursor[p] = c + 1
                pair_h[c] = hr
                b = bcursor[p]
                pair_b[c] = b
                a0 = np.uint64(off[r])
                size = np.uint64(off[r + 1]) - a0
                for k in range(size):
                    text[np.uint64(b) + k] = data[a0 + k]
                bcursor[p] = b + np.int64(size)
        pair_b[first[nparts]] = nbytes[nparts]
        for p in range(nparts):
            base, m = np.uint64(start[p]), np.uint64(mask[p])
            for q in range(np.uint64(first[p]), np.uint64(first[p + 1])):
                hq = np.int64(pair_h[q])
                s = np.uint64(hq) & m
                found = -1
                while True:
                    k = np.uint64(2) * (base + s)
                    g = slots[k + 1]
                    if g < 0:
                        break
                    if slots[k] == hq and _same(text, pair_b[q], pair_b[q + 1], tdata, toff[g], toff[g + 1]):
                        found = pos[g]
                        break
                    s = (s + np.uint64(1)) & m
                pair_j[q] = found
        cursor[:] = first[:nparts]
        for r in range(b0, b1):
            if valid[r]:
                p = np.int64(h[r - b0] >> shift)
                out[r] = pair_j[cursor[p]]
                cursor[p] += 1
            else:
                out[r] = -1
