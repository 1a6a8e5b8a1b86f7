"""Compiled (numba) kernels for the long text columns of a network, on their Arrow buffers (no Python object
per value): whether a column may need stripping, and the lookup of text ids -- the position of each debtor
and creditor of an edge table in the node table.

Imported only for long edge tables (``import contagion`` does not import numba).

Arrow's ``index_in`` hashes each value into one table of all ids: at 10^6 ids that table (~48 MB with the
ids' text) does not fit the cache, and each of 10^7 lookups waits on memory (~230 ns a value on the 2-core
benchmark machine). Here the ids' table is cut into partitions by the high bits of a 64-bit hash, each
about 70 kB with its ids' text; the values are hashed a block at a time, their records (hash, first eight
bytes, length) and the rest of their text copied into partition order (a counting sort), and each
partition's group probes its own small table while it sits in cache. A hit is confirmed on the text (the
first eight bytes as one integer and the length, then any further bytes one by one), so the answer is
exact (the hash only chooses where to look); the first occurrence of a repeated id wins, as in
``index_in``. Measured at 10^6 ids (2-7 bytes each) and 10^7 values, one core: ~0.6 s against ~0.9 s for
the byte-at-a-time version before it (FNV-1a hash, 16-byte slots, every byte copied and compared one by
one) and ``index_in``'s ~2.3 s.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic

#: Ids per partition (on average): the partition's table (8 bytes a slot, at most half full) and its ids
#: (first bytes, length, row: 24 bytes each, and the text after the eighth byte) stay in L2.
PART_IDS = 2048
#: Values hashed and grouped at a time, at least (their hashes, records and answers: 44 bytes each and the
#: text after their eighth byte, ~23 MB a block); more for a large table of ids (:func:`block_for`).
BLOCK = 1 << 19
#: Values at a time at most (~185 MB of buffers).
MAX_BLOCK = 1 << 22


def block_for(ids: int) -> int:
    """Values to look up at a time among ``ids`` ids: each block reads every partition's table once (~50 bytes
    an id), so a block of twice as many values as there are ids keeps that read below the values' own traffic.
    Measured at 10^6 ids and 10^7 values, one thread, three rounds: 1.12-1.20 s with blocks of 2^19, 0.92-0.97 s
    with 2^20, 0.78-0.91 s with 2^21, 0.76-0.97 s with 2^22, 1.19-1.31 s with 2^23 (the buffers no longer fit
    the memory the OS has ready)."""
    return int(min(MAX_BLOCK, max(BLOCK, 2 * ids)))

_SEED = np.uint64(0x9E3779B97F4A7C15)
_P = np.uint64(0x100000001B3)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S29 = np.uint64(29)
_S32 = np.uint64(32)
_S33 = np.uint64(33)
_B8 = np.uint64(8)
_LOW32 = np.uint64(0xFFFFFFFF)


@intrinsic
def _load8(typingctx, arr, idx):
    """The eight bytes ``arr[idx:idx + 8]`` of a byte array as one little-endian integer, in one unaligned
    load (the caller keeps ``idx + 8 <= arr.size``). Only for contiguous byte arrays (Arrow's buffers)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.uint8 and arr.layout == "C" and arr.ndim == 1):
        return None

    def codegen(context, builder, signature, args):
        arrty, idxty = signature.args
        ary = context.make_array(arrty)(context, builder, args[0])
        ptr = builder.gep(ary.data, [context.cast(builder, args[1], idxty, types.intp)])
        return builder.load(builder.bitcast(ptr, ir.IntType(64).as_pointer()), align=1)
    return types.uint64(arr, idx), codegen


@njit(cache=True, nogil=True, inline="always")
def _word(data, a, b):
    """Bytes ``data[a:b]`` (at most 8) as a little-endian integer (0 when empty): one load of eight bytes,
    masked to the text's, wherever eight bytes from ``a`` lie inside ``data`` (at the very end, byte by byte).
    Measured at 10^7 ids of 7 bytes: the hashing pass of a lookup 0.12 s against 0.16 s byte by byte."""
    n = b - a
    if a + 8 <= data.size:
        w = _load8(data, a)
        if n >= 8:
            return w
        return w & ((np.uint64(1) << np.uint64(8 * n)) - np.uint64(1))
    w = np.uint64(0)
    s = np.uint64(0)
    for k in range(np.uint64(a), np.uint64(b)):
        w |= np.uint64(data[k]) << s
        s += _B8
    return w


@njit(cache=True, nogil=True, inline="always")
def _head(data, a, b):
    """The first (up to 8) bytes of ``data[a:b]`` as an integer: with the length, they are the whole text
    of an id of at most 8 bytes, and a first test for longer ones."""
    return _word(data, a, min(a + 8, b))


@njit(cache=True, nogil=True, inline="always")
def _hash(data, a, b):
    """64-bit hash of the text ``data[a:b]``: its length and eight bytes at a time, each mixed by one
    multiplication, then murmur3's finaliser (partitions use the high bits, slots the low bits: both must be
    well mixed)."""
    h = (_SEED ^ np.uint64(b - a)) * _P
    h = (h ^ _head(data, a, b)) * _M1
    k = np.uint64(a) + _B8
    e = np.uint64(b)
    while k < e:
        stop = min(k + _B8, e)
        h = (h ^ _word(data, k, stop)) * _M1
        h ^= h >> _S29
        k = stop
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


@njit(cache=True, nogil=True, inline="always")
def _same_bytes(d1, a1, d2, a2, size):
    """Whether ``d1[a1:a1 + size]`` and ``d2[a2:a2 + size]`` hold the same bytes (unsigned positions: no
    check for negative indices in the loop)."""
    u1, u2 = np.uint64(a1), np.uint64(a2)
    for k in range(np.uint64(size)):
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

    Returns ``(start, mask, slots, first, pos, head, size, toff, tdata)``. The ids are numbered ``g`` in
    partition order (partition ``p`` holds ``first[p] .. first[p+1] - 1``): id ``g`` is row ``pos[g]``,
    its first bytes ``head[g]`` (:func:`_head`), its length ``size[g]`` and the bytes after the eighth
    ``tdata[toff[g]:toff[g] + size[g] - 8]``. Partition ``p``'s slots are ``start[p] .. start[p] + mask[p]``
    (a power of two, at most half full): ``slots[k]`` is 0 when empty, else the high 32 bits of the id's
    hash above ``g - first[p] + 1``. A repeated id keeps its first occurrence; the number of slots in use is
    the number of distinct ids.
    """
    n = off.size - 1
    shift = np.uint64(64 - bits)
    nparts = 1 << bits
    h = np.empty(n, dtype=np.uint64)
    first = np.zeros(nparts + 1, dtype=np.int64)
    nbytes = np.zeros(nparts + 1, dtype=np.int64)
    for i in range(n):
        if valid[i]:
            a, b = off[i], off[i + 1]
            h[i] = _hash(data, a, b)
            p = np.int64(h[i] >> shift)
            first[p + 1] += 1
            nbytes[p + 1] += max(0, b - a - 8)
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
    # the ids in partition order (a partition's ids are then side by side in memory)
    m_ids = first[nparts]
    pos = np.empty(m_ids, dtype=np.int64)
    head = np.empty(m_ids, dtype=np.uint64)
    size = np.empty(m_ids, dtype=np.int64)
    toff = np.empty(m_ids, dtype=np.int64)
    tdata = np.empty(nbytes[nparts], dtype=np.uint8)
    cursor = first[:nparts].copy()
    bcursor = nbytes[:nparts].copy()
    for i in range(n):
        if valid[i]:
            p = np.int64(h[i] >> shift)
            g = cursor[p]
            cursor[p] = g + 1
            pos[g] = i
            a, b = off[i], off[i + 1]
            head[g] = _head(data, a, b)
            size[g] = b - a
            t = bcursor[p]
            toff[g] = t
            for k in range(a + 8, b):
                tdata[t] = data[k]
                t += 1
            bcursor[p] = t
    slots = np.zeros(total, dtype=np.uint64)
    for p in range(nparts):
        base, m = np.uint64(start[p]), np.uint64(mask[p])
        for g in range(first[p], first[p + 1]):  # in order of the ids: the first occurrence comes first
            hg = h[pos[g]]
            fp = hg >> _S32
            s = hg & m
            while True:
                v = slots[base + s]
                if v == 0:
                    slots[base + s] = (fp << _S32) | np.uint64(g - first[p] + 1)
                    break
                e = first[p] + np.int64(v & _LOW32) - 1
                if (v >> _S32 == fp and head[e] == head[g] and size[e] == size[g]
                        and _same_bytes(tdata, toff[e], tdata, toff[g], max(0, size[g] - 8))):
                    break  # a repeated id: the first occurrence keeps the slot
                s = (s + np.uint64(1)) & m
    return start, mask, slots, first, pos, head, size, toff, tdata


@njit(cache=True, nogil=True)
def probe(off, data, valid, start, mask, slots, first_id, pos, head, size, toff, tdata, bits, out, block):
    """``out[r]`` = position of value ``r``'s text among the ids (:func:`build_table`), -1 when absent or
    ``valid[r]`` is False; ``block`` values at a time (:data:`BLOCK`).

    A block of values at a time: hash them in row order; copy each value's record (hash, first bytes,
    length, where the rest of its text is) and the bytes after its eighth into its partition's stretch of
    two buffers (sequential writes, one stream per partition and buffer); probe each partition's table in
    turn and compare with its ids (all in cache: an id of at most 8 bytes is compared as one integer and
    its length); then walk the rows in order again and take each row's answer from its partition's
    stream. Nothing is read at random from a large array.
    """
    n = off.size - 1
    if n == 0:
        return
    shift = np.uint64(64 - bits)  # bits >= 1 (a shift by 64 is undefined)
    nparts = 1 << bits
    block = max(1, min(block, n))
    h = np.empty(block, dtype=np.uint64)
    rec = np.empty((block, 4), dtype=np.uint64)     # hash, first bytes, length, where the rest is in text
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
                a, b = off[r], off[r + 1]
                hr = _hash(data, a, b)
                h[r - b0] = hr
                p = np.int64(hr >> shift)
                first[p + 1] += 1
                nbytes[p + 1] += max(0, b - a - 8)
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
                a, b = off[r], off[r + 1]
                rec[c, 0] = hr
                rec[c, 1] = _head(data, a, b)
                rec[c, 2] = np.uint64(b - a)
                t = np.uint64(bcursor[p])
                rec[c, 3] = t
                if b - a > 8:
                    for k in range(np.uint64(a + 8), np.uint64(b)):
                        text[t] = data[k]
                        t += np.uint64(1)
                    bcursor[p] = np.int64(t)
        for p in range(nparts):
            base, m = np.uint64(start[p]), np.uint64(mask[p])
            g0 = first_id[p] - 1
            for q in range(np.uint64(first[p]), np.uint64(first[p + 1])):
                hq = rec[q, 0]
                fp = hq >> _S32
                hd = rec[q, 1]
                sz = np.int64(rec[q, 2])
                s = hq & m
                found = -1
                while True:
                    v = slots[base + s]
                    if v == 0:
                        break
                    if v >> _S32 == fp:
                        g = g0 + np.int64(v & _LOW32)
                        if head[g] == hd and size[g] == sz and (
                                sz <= 8 or _same_bytes(text, rec[q, 3], tdata, toff[g], sz - 8)):
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
