"""MinHash signatures, bit-identical to datasketch, computed many documents at a time.

Compatibility contract (tested in tests/unit/test_minhash.py on real text)::

    m = datasketch.MinHash(num_perm, seed=seed, hashfunc=shingle_hash)
    for s in shingles(text, k): m.update(s)
    m.hashvalues == signatures([text], k, k, Permutations(num_perm, seed))[0]

datasketch >= 2.0 uses the "affine32" scheme by default: each 32-bit shingle hash is
pre-mixed with the MurmurHash3 finalizer, then permutation i maps it to ``a_i*h + b_i``
in uint32 arithmetic (the wraparound is the modulo), with ``a_i`` odd. We reproduce the
parameters from the same ``numpy.random.RandomState(seed)`` draw and the same arithmetic.

Engines (``NEWSDEDUP_MINHASH_ENGINE``, default ``auto``), all bit-identical:

* ``numba`` (``pipeline.dedup.minhash_numba``): one compiled loop walks the UTF-8 bytes of
  many documents and folds each shingle's hash into the running minima, with no
  per-shingle Python objects; the fastest, once its kernels are loaded from the cache.
* ``numpy`` (``pipeline.dedup.minhash_numpy``): whole-array operations, nothing to
  compile or load; ``auto`` uses it for small calls and wherever numba cannot be imported.
* ``datasketch``: ``datasketch.MinHash`` itself, shingle by shingle; the reference, slowest.

Input text must already be in similarity form (``pipeline.text.normalize.similarity_text``:
tokens separated by single spaces); the kernel splits on the space byte only.

Caveat (documented, as datasketch documents its own): a text with fewer than ``kmin``
tokens is hashed as one shingle of all its tokens, so short captions and headlines still
get a signature; an empty text gets the all-0xFFFFFFFF signature, which matches nothing.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.dedup import minhash_numpy
from pipeline.errors import ConfigError

log = logging.getLogger("newsdedup")

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


ENGINES = ("auto", "numba", "numpy", "datasketch")
# input bytes from which ``auto`` loads the compiled kernels. Loading them (importing numba,
# reading the cache) costs 1-2 CPU-seconds per process; numpy signs about 12 MB per
# CPU-second and numba about 110, and the later stages' small calls gain about as much
# again once the kernels are in, so a batch of this size about repays the load.
AUTO_NUMBA_BYTES = 2 << 20

_kernels = None  # the numba engine module once loaded
_numba_failed = False


def _numba():
    """The compiled engine, loaded on first use; None where numba cannot be imported."""
    global _kernels, _numba_failed
    if _kernels is None and not _numba_failed:
        try:
            from pipeline.dedup import minhash_numba

            minhash_numba.load()
            _kernels = minhash_numba
        except ImportError as e:
            log.warning("numba unavailable (%s); MinHash uses the numpy engine", e)
            _numba_failed = True
    return _kernels


def configured_engine() -> str:
    name = os.environ.get("NEWSDEDUP_MINHASH_ENGINE", "").strip().lower() or "auto"
    if name not in ENGINES:
        raise ConfigError(
            f"NEWSDEDUP_MINHASH_ENGINE={name!r}: expected one of {', '.join(ENGINES)}"
        )
    return name


def engine(nbytes: int = 0) -> str:
    """The engine that computes a call over ``nbytes`` of text: the configured one, or for
    ``auto`` numba when its kernels are loaded or worth loading, else numpy. All engines
    give the same bits."""
    name = configured_engine()
    if name == "auto":
        if _kernels is not None or (nbytes >= AUTO_NUMBA_BYTES and _numba() is not None):
            return "numba"
        return "numpy"
    if name == "numba" and _numba() is None:
        return "numpy"
    return name


def warm_up() -> str:
    """Load the compiled kernels now (compiling them into the on-disk cache if it is empty)
    unless the configured engine never uses them; returns the engine large calls will use.
    Called before worker processes are forked, so they inherit loaded kernels, and at
    install time, so runs find the cache filled."""
    if configured_engine() in ("auto", "numba") and _numba() is not None:
        return "numba"
    return engine()


def _pack(texts) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8) if encoded else np.empty(0, np.uint8)
    return buf, offsets


def _datasketch_row(text: str, kmin: int, kmax: int, template) -> np.ndarray:
    sh = shingles(text, kmin, kmax)
    if not sh:
        return np.full(template.hashvalues.shape, EMPTY, dtype=np.uint32)
    m = template.copy()
    m.update_batch(sh)
    return m.hashvalues.astype(np.uint32)


def signatures(texts, kmin: int, kmax: int, perms: Permutations) -> np.ndarray:
    """(len(texts), num_perm) uint32 MinHash signatures of similarity texts."""
    if kmin < 1 or kmax < kmin:
        raise ValueError(f"need 1 <= kmin <= kmax, got kmin={kmin} kmax={kmax}")
    texts = list(texts)
    if not texts:
        return np.empty((0, perms.num_perm), dtype=np.uint32)
    a, b = perms.arrays
    name = engine(sum(map(len, texts)))
    if name == "numba":
        buf, offsets = _pack(texts)
        return _kernels.signatures(buf, offsets, kmin, kmax, a, b)
    if name == "datasketch":
        from datasketch import MinHash

        template = MinHash(perms.num_perm, seed=perms.seed, hashfunc=shingle_hash)
        rows = [_datasketch_row(t, kmin, kmax, template) for t in texts]
        return np.vstack(rows)
    return minhash_numpy.signatures(texts, kmin, kmax, a, b)


def shingle_sets(texts, kmin: int, kmax: int | None = None) -> list[np.ndarray]:
    """Sorted unique uint32 shingle hashes per text: exact Jaccard without Python strings."""
    kmax = kmin if kmax is None else kmax
    texts = list(texts)
    if not texts:
        return []
    name = engine(sum(map(len, texts)))
    if name == "numba":
        buf, offsets = _pack(texts)
        return _kernels.shingle_sets(buf, offsets, kmin, kmax)
    if name == "datasketch":
        return [
            np.unique(np.array([shingle_hash(s) for s in shingles(t, kmin, kmax)], np.uint32))
            for t in texts
        ]
    return minhash_numpy.shingle_sets(texts, kmin, kmax)


def lean_minhash(signature: np.ndarray, seed: int = 1):
    """A signature as a datasketch ``LeanMinHash`` (for datasketch's LSH, estimators and
    serialisation), with the seed it was computed with."""
    from datasketch import LeanMinHash

    return LeanMinHash(
        seed=seed, hashvalues=np.asarray(signature, dtype=np.uint32), scheme="affine32"
    )


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
