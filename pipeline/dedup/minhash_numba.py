"""The compiled MinHash engine: numba kernels that walk the UTF-8 bytes of many documents,
hash each word shingle (FNV-1a 32 over the shingle's bytes, tokens joined by one space) and
fold it into the running minima, with no per-shingle Python objects.

Imported only when this engine is used (``pipeline.dedup.minhash`` chooses): importing numba
and loading the kernels costs about a second, which a small batch never repays. The kernels
are cached on disk beside this file (``cache=True``; numba falls back to its user-wide cache
directory, or ``NUMBA_CACHE_DIR``, when the package folder is read-only), so a process loads
them instead of compiling; ``make run`` and the Docker image fill the cache at install time.
"""

from __future__ import annotations

import numba
import numpy as np

FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193


@numba.njit(cache=True, inline="always")
def _fmix32(h):
    # numba widens uint32 arithmetic to 64 bits; every step is cast back so the
    # wraparound is modulo 2**32 exactly as in datasketch's numpy code.
    h = np.uint32(h ^ (h >> np.uint32(16)))
    h = np.uint32(h * np.uint32(0x85EBCA6B))
    h = np.uint32(h ^ (h >> np.uint32(13)))
    h = np.uint32(h * np.uint32(0xC2B2AE35))
    return np.uint32(h ^ (h >> np.uint32(16)))


@numba.njit(cache=True)
def _token_bounds(buf, start, end):
    """Start/end offsets of the space-separated tokens in buf[start:end]."""
    cap = (end - start + 1) // 2 + 1
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    n = 0
    i = start
    while i < end:
        while i < end and buf[i] == 32:
            i += 1
        if i >= end:
            break
        starts[n] = i
        while i < end and buf[i] != 32:
            i += 1
        ends[n] = i
        n += 1
    return starts[:n], ends[:n]


@numba.njit(cache=True)
def _doc_shingle_hashes(buf, start, end, kmin, kmax):
    """FNV-1a 32 hashes of every shingle (sizes kmin..kmax) of one document."""
    starts, ends = _token_bounds(buf, start, end)
    n = starts.shape[0]
    if n == 0:
        return np.empty(0, np.uint32)
    if n < kmin:
        out = np.empty(1, np.uint32)
        h = np.uint32(FNV32_OFFSET)
        for w in range(n):  # all its tokens, joined by single spaces as in shingles()
            if w > 0:
                h = np.uint32((h ^ np.uint32(32)) * np.uint32(FNV32_PRIME))
            for i in range(starts[w], ends[w]):
                h = np.uint32((h ^ np.uint32(buf[i])) * np.uint32(FNV32_PRIME))
        out[0] = h
        return out
    total = 0
    for k in range(kmin, kmax + 1):
        if n >= k:
            total += n - k + 1
    out = np.empty(total, np.uint32)
    j = 0
    for k in range(kmin, kmax + 1):
        for t in range(n - k + 1):
            h = np.uint32(FNV32_OFFSET)
            # the bytes of tokens t..t+k-1 joined by single spaces
            for w in range(t, t + k):
                if w > t:
                    h = np.uint32((h ^ np.uint32(32)) * np.uint32(FNV32_PRIME))
                for i in range(starts[w], ends[w]):
                    h = np.uint32((h ^ np.uint32(buf[i])) * np.uint32(FNV32_PRIME))
            out[j] = h
            j += 1
    return out


@numba.njit(cache=True)
def _signatures(buf, offsets, kmin, kmax, a, b):
    ndoc = offsets.shape[0] - 1
    num_perm = a.shape[0]
    sig = np.full((ndoc, num_perm), np.uint32(0xFFFFFFFF), np.uint32)
    for d in range(ndoc):
        hs = _doc_shingle_hashes(buf, offsets[d], offsets[d + 1], kmin, kmax)
        for s in range(hs.shape[0]):
            hs[s] = _fmix32(hs[s])
        # permutation-major with a branch-free min: the inner loop over shingles is a
        # plain reduction LLVM vectorises (about 2x the shingle-major loop with an if)
        for p in range(num_perm):
            ap = a[p]
            bp = b[p]
            m = np.uint32(0xFFFFFFFF)
            for s in range(hs.shape[0]):
                m = min(m, np.uint32(ap * hs[s] + bp))
            sig[d, p] = m
    return sig


@numba.njit(cache=True)
def _shingle_sets(buf, offsets, kmin, kmax):
    ndoc = offsets.shape[0] - 1
    out = []
    for d in range(ndoc):
        out.append(np.unique(_doc_shingle_hashes(buf, offsets[d], offsets[d + 1], kmin, kmax)))
    return out


def signatures(buf, offsets, kmin, kmax, a, b):
    return _signatures(buf, offsets, kmin, kmax, a, b)


def shingle_sets(buf, offsets, kmin, kmax):
    return list(_shingle_sets(buf, offsets, kmin, kmax))


def load() -> None:
    """Load (or, the first time, compile into the cache) every kernel for the argument
    types the engine passes, so later calls and forked workers do neither."""
    buf = np.frombuffer(b"a b c", dtype=np.uint8)
    offsets = np.array([0, 5], dtype=np.int64)
    a = np.ones(2, dtype=np.uint32)
    _signatures(buf, offsets, 1, 2, a, a)
    _shingle_sets(buf, offsets, 1, 2)
