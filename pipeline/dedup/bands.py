"""LSH banding: cut each signature into ``bands`` bands of ``rows`` values and hash each band
to one signed 64-bit integer, the form Postgres indexes as ``bigint``.

Two documents are candidates when any band hash is equal. The probability for Jaccard s is
``1 - (1 - s**rows)**bands`` (``candidate_probability``).
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


# Stored LSH keys fold the configuration, the kind of object and the band number into the
# band hash, so history is one (key, object) table with one single-column bigint index:
# an index over (config_id, kind, band, hash) would compare a text column under the
# database collation on every insert, at about twice the CPU and WAL per row.
KIND_CODES = {"story": 1, "lead": 2, "para": 3, "caption": 4, "slots": 5}


def key_salt(config_id: int, kind: str, band: np.ndarray | int) -> np.ndarray:
    """The value XORed into a band hash: distinct for every (config, kind, band), in bits
    32..62 only. Band hashes are avalanche-mixed 64-bit values, so two keys of different
    (config, kind, band) collide with probability 2**-64, as two hashes of one band do.
    The same expression is in 0005_performance.sql (backfill) and must stay equal."""
    if not 0 < config_id < 1 << 14:
        raise ValueError(f"config id {config_id} out of range for LSH keys")
    if kind not in KIND_CODES:
        raise ValueError(f"unknown LSH kind {kind!r}")
    band = np.asarray(band, dtype=np.int64)
    if band.size and (band.min() < 0 or band.max() >= 256):
        raise ValueError("band numbers must be in 0..255")
    return (np.int64(config_id) << 48) | (np.int64(KIND_CODES[kind]) << 40) | (band << 32)


def band_keys(bands: np.ndarray, config_id: int, kind: str) -> np.ndarray:
    """(n, b) int64 stored keys of (n, b) band hashes (``band_hashes``) of one kind."""
    if bands.ndim != 2:
        raise ValueError("band hashes must be a 2-D array")
    salt = key_salt(config_id, kind, np.arange(bands.shape[1], dtype=np.int64))
    return bands.astype(np.int64, copy=False) ^ salt[np.newaxis, :]
