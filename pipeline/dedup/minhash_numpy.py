"""The numpy MinHash engine: the same shingles, hashes and minima as the compiled kernels,
computed with whole-array operations and nothing to compile.

It starts at once, so small batches use it (and every batch does where numba cannot be
imported); per document it is a few times slower than the kernels. Shingles become byte
spans of one buffer in which each document's tokens are joined by single spaces; the FNV-1a
hash of every span advances one byte position per step over all spans still that long.
"""

from __future__ import annotations

import numpy as np

FNV32_OFFSET = np.uint32(0x811C9DC5)
FNV32_PRIME = np.uint32(0x01000193)
EMPTY = np.uint32(0xFFFFFFFF)
CHUNK_CELLS = 1 << 22  # permutations x shingles per step: bounds the working array (16 MB)


def _spans(texts, kmin: int, kmax: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The buffer, and every shingle's start, length and document, grouped by document."""
    toks = [[t for t in s.encode("utf-8").split(b" ") if t] for s in texts]
    flat = [t for doc in toks for t in doc]
    buf = np.frombuffer(b" ".join(flat), dtype=np.uint8) if flat else np.empty(0, np.uint8)
    ntok = np.array([len(d) for d in toks], dtype=np.int64)
    lens = np.fromiter((len(t) for t in flat), dtype=np.int64, count=len(flat))
    starts = np.zeros(len(flat), dtype=np.int64)
    np.cumsum(lens[:-1] + 1, out=starts[1:])
    ends = starts + lens
    first = np.zeros(len(toks), dtype=np.int64)  # each document's first token
    np.cumsum(ntok[:-1], out=first[1:])
    parts_s, parts_e, parts_d = [], [], []
    docs = np.arange(len(toks), dtype=np.int64)
    short = (ntok > 0) & (ntok < kmin)  # one shingle of all its tokens
    parts_s.append(starts[first[short]])
    parts_e.append(ends[first[short] + ntok[short] - 1])
    parts_d.append(docs[short])
    tdoc = np.repeat(docs, ntok)
    tpos = np.arange(len(flat), dtype=np.int64) - first[tdoc]  # token's index in its document
    for k in range(kmin, kmax + 1):
        ok = (tpos + k <= ntok[tdoc]) & (ntok[tdoc] >= kmin)
        t = np.flatnonzero(ok)
        parts_s.append(starts[t])
        parts_e.append(ends[t + k - 1])
        parts_d.append(tdoc[t])
    s = np.concatenate(parts_s)
    e = np.concatenate(parts_e)
    d = np.concatenate(parts_d)
    order = np.argsort(d, kind="stable")
    return buf, s[order], e[order] - s[order], d[order]


def _fnv1a(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    order = np.argsort(-lengths, kind="stable")
    s = starts[order]
    n_at = np.bincount(lengths, minlength=1)[::-1].cumsum()[::-1]  # spans longer than j
    h = np.full(len(s), FNV32_OFFSET, dtype=np.uint32)
    for j in range(int(lengths.max(initial=0))):
        m = int(n_at[j + 1]) if j + 1 < len(n_at) else 0
        h[:m] = (h[:m] ^ buf[s[:m] + j]) * FNV32_PRIME
    out = np.empty_like(h)
    out[order] = h
    return out


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _hashes(texts, kmin: int, kmax: int) -> tuple[np.ndarray, np.ndarray]:
    buf, s, n, d = _spans(texts, kmin, kmax)
    return _fnv1a(buf, s, n), d


def signatures(texts, kmin: int, kmax: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    hs, docs = _hashes(texts, kmin, kmax)
    hs = _fmix32(hs)
    sig = np.full((len(texts), a.shape[0]), EMPTY, dtype=np.uint32)
    if hs.size == 0:
        return sig
    present, first = np.unique(docs, return_index=True)
    bounds = np.append(first, hs.size)
    step = max(1, CHUNK_CELLS // a.shape[0])
    i = 0
    while i < len(present):  # whole documents per step, about ``step`` shingles
        j = max(i + 1, int(np.searchsorted(bounds, bounds[i] + step, side="right")) - 1)
        j = min(j, len(present))
        lo, hi = bounds[i], bounds[j]
        vals = a[:, None] * hs[None, lo:hi] + b[:, None]  # uint32: wraps modulo 2**32
        sig[present[i:j]] = np.minimum.reduceat(vals, bounds[i:j] - lo, axis=1).T
        i = j
    return sig


def shingle_sets(texts, kmin: int, kmax: int) -> list[np.ndarray]:
    hs, docs = _hashes(texts, kmin, kmax)
    keys = np.unique((docs.astype(np.uint64) << np.uint64(32)) | hs.astype(np.uint64))
    cut = np.searchsorted(keys >> np.uint64(32), np.arange(len(texts) + 1, dtype=np.uint64))
    low = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return [low[cut[i] : cut[i + 1]] for i in range(len(texts))]
