"""MinHash signatures, bit-identical to datasketch, computed many documents at a time.

Compatibility contract (tested in tests/unit/test_minhash.py on real text)::

    m = datasketch.MinHash(num_perm, seed=seed, hashfunc=shingle_hash)
    for s in shingles(text, k): m.update(s)
    m.hashvalues == signatures([text], k, k, Permutations(num_perm, seed))[0]

datasketch >= 2.0 uses the "affine32" scheme by default: each 32-bit shingle hash is
pre-mixed with the MurmurHash3 finalizer, then permutation i maps it to ``a_i*h + b_i``
in uint32 arithmetic (the wraparound is the modulo), with ``a_i`` odd. We reproduce the
parameters from the same ``numpy.random.RandomState(seed)`` draw and the same arithmetic.

Why a compiled kernel: datasketch hashes each shingle in Python and builds an
(n_shingles x num_perm) array per document. Here one numba loop walks the UTF-8 bytes of
many documents, hashes each word shingle (FNV-1a 32 over the shingle's bytes, tokens joined
by one space) and folds it into the running minima, with no per-shingle Python objects.

Input text must already be in similarity form (``pipeline.text.normalize.similarity_text``:
tokens separated by single spaces); the kernel splits on the space byte only.

Caveat (documented, as datasketch documents its own): a text with fewer than ``kmin``
tokens is hashed as one shingle of all its tokens, so short captions and headlines still
get a signature; an empty text gets the all-0xFFFFFFFF signature, which matches nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193
EMPTY = np.uint32(0xFFFFFFFF)


def shingle_hash(b: bytes) -> int:
    """FNV-1a 32-bit of a shingle's bytes: the ``hashfunc`` that makes datasketch agree."""
    h = FNV32_OFFSET
    for c in b:
        h ^= c
        h = (h * FNV32_PRIME) & 0xFFFFFFFF
    return h


def shingles(text: str, kmin: int, kmax: int | None = None) -> list[bytes]:
    """Word shingles of sizes kmin..kmax of a similarity text, as bytes, in order.

    Mirrors the kernel exactly (including the short-text rule) so the datasketch
    comparison and ``explain`` can work shingle by shingle."""
    kmax = kmin if kmax is None else kmax
    toks = text.encode("utf-8").split(b" ")
    toks = [t for t in toks if t]
    if not toks:
        return []
    out: list[bytes] = []
    if len(toks) < kmin:
        return [b" ".join(toks)]
    for k in range(kmin, kmax + 1):
        for i in range(len(toks) - k + 1):
            out.append(b" ".join(toks[i : i + k]))
    return out


@dataclass(frozen=True)
class Permutations:
    """The affine32 permutation parameters datasketch draws for (num_perm, seed)."""

    num_perm: int
    seed: int = 1

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return _permutations(self.num_perm, self.seed)


@lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


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
        for i in range(starts[0], ends[n - 1]):
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


def _pack(texts) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8) if encoded else np.empty(0, np.uint8)
    return buf, offsets


def signatures(texts, kmin: int, kmax: int, perms: Permutations) -> np.ndarray:
    """(len(texts), num_perm) uint32 MinHash signatures of similarity texts."""
    if kmin < 1 or kmax < kmin:
        raise ValueError(f"need 1 <= kmin <= kmax, got kmin={kmin} kmax={kmax}")
    a, b = perms.arrays
    buf, offsets = _pack(texts)
    if len(offsets) == 1:
        return np.empty((0, perms.num_perm), dtype=np.uint32)
    return _signatures(buf, offsets, kmin, kmax, a, b)


def shingle_sets(texts, kmin: int, kmax: int | None = None) -> list[np.ndarray]:
    """Sorted unique uint32 shingle hashes per text: exact Jaccard without Python strings."""
    kmax = kmin if kmax is None else kmax
    buf, offsets = _pack(texts)
    if len(offsets) == 1:
        return []
    return list(_shingle_sets(buf, offsets, kmin, kmax))


def warm_up() -> float:
    """Compile the kernels (or load them from numba's on-disk cache) with the argument
    types real calls use; returns the seconds it took. Run once where a scheduler starts,
    no task pays the compilation."""
    t0 = time.perf_counter()
    texts = ["kernels warm up before the first batch", "the first batch finds them warm"]
    signatures(texts, 1, 2, Permutations(8))
    shingle_sets(texts, 1, 2)
    return time.perf_counter() - t0


def estimate_jaccard(s1: np.ndarray, s2: np.ndarray) -> float:
    """datasketch's estimator: the share of equal positions."""
    if s1.shape != s2.shape:
        raise ValueError("signatures of different lengths")
    return float(np.count_nonzero(s1 == s2)) / s1.shape[0]


def set_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0 or b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def set_containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller set found in the larger one."""
    if a.size == 0 or b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / min(a.size, b.size)
