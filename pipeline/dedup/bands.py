"""LSH banding: cut each signature into ``bands`` bands of ``rows`` values and hash each band
to one signed 64-bit integer, the form Postgres indexes as ``bigint``.

Two documents are candidates when any band hash is equal. The probability for Jaccard s is
``1 - (1 - s**rows)**bands`` (``candidate_probability``); ``choose_bands`` picks the
banding that minimises weighted false negatives and positives around a threshold, the way
datasketch does, so the choice is documented by a number instead of a guess.
"""

from __future__ import annotations

import numpy as np

_FNV64_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV64_PRIME = np.uint64(0x100000001B3)


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) int64 band hashes of (n, num_perm) uint32 signatures."""
    if sigs.ndim != 2:
        raise ValueError("signatures must be a 2-D array")
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands*rows={bands * rows} exceeds num_perm={sigs.shape[1]}")
    cut = sigs[:, : bands * rows].reshape(sigs.shape[0], bands, rows).astype(np.uint64)
    h = np.full((sigs.shape[0], bands), _FNV64_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            h = (h ^ cut[:, :, r]) * _FNV64_PRIME
        # a final avalanche so nearby row values do not give nearby band hashes
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
    return h.view(np.int64)


def candidate_probability(s: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - s**rows) ** bands


def choose_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising weighted error around ``threshold`` (numeric integration)."""
    xs = np.linspace(0.0, 1.0, 1001)
    best, best_err = (1, 1), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1.0 - (1.0 - xs**r) ** b
            fp = np.trapezoid(np.where(xs < threshold, p, 0.0), xs)
            fn = np.trapezoid(np.where(xs >= threshold, 1.0 - p, 0.0), xs)
            err = fp * fp_weight + fn * fn_weight
            if err < best_err:
                best, best_err = (b, r), err
    return best
