"""Signatures must be bit-identical to datasketch for the same hash function and seed."""

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

from pipeline.dedup import minhash
from pipeline.dedup.bands import band_hashes, candidate_probability
from pipeline.dedup.minhash import (
    Permutations,
    estimate_jaccard,
    set_jaccard,
    shingle_hash,
    shingle_sets,
    shingles,
    signatures,
)
from pipeline.errors import ConfigError
from pipeline.text.normalize import similarity_text
from tests.conftest import SAMPLE_INBOX, SAMPLES


def _real_texts() -> list[str]:
    texts = []
    seed = SAMPLES / "seed" / "cgtn-putin-trump-osaka.txt"
    if seed.exists():
        texts.append(similarity_text(seed.read_text(encoding="utf-8").split("\n\n")))
    for f in sorted((SAMPLE_INBOX / "cgtn").glob("*.txt")):
        texts.append(similarity_text(f.read_text(encoding="utf-8").split("\n\n")))
    return texts


def _datasketch(text: str, kmin: int, kmax: int, num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    for s in shingles(text, kmin, kmax):
        m.update(s)
    return m.hashvalues


@pytest.mark.parametrize("num_perm,seed,k", [(128, 1, 3), (256, 7, 5), (64, 42, 1)])
def test_identical_to_datasketch_on_real_text(num_perm, seed, k):
    texts = _real_texts()
    assert len(texts) >= 3
    ours = signatures(texts, k, k, Permutations(num_perm, seed))
    for text, row in zip(texts, ours, strict=True):
        np.testing.assert_array_equal(row, _datasketch(text, k, k, num_perm, seed))


def test_identical_for_caption_shingles_and_edge_cases():
    texts = ["a b c d e", "short", "", "two words", "ünïcödé ß straße 中文 text"]
    ours = signatures(texts, 1, 2, Permutations(128, 1))
    for text, row in zip(texts, ours, strict=True):
        np.testing.assert_array_equal(row, _datasketch(text, 1, 2, 128, 1))


def test_short_text_is_one_shingle_and_empty_matches_nothing():
    assert shingles("only two", 3) == [b"only two"]
    sig = signatures(["", "x y z"], 3, 3, Permutations(32, 1))
    assert (sig[0] == 0xFFFFFFFF).all()
    assert not (sig[1] == 0xFFFFFFFF).all()


def test_shingle_sets_match_python_shingles():
    text = "the quick brown fox jumps over the lazy dog the quick brown fox"
    got = shingle_sets([text], 3)[0]
    want = np.unique(np.array([shingle_hash(s) for s in shingles(text, 3)], dtype=np.uint32))
    np.testing.assert_array_equal(got, want)


def test_estimate_tracks_exact_jaccard():
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(3000)]
    base = list(rng.choice(vocab, 400))
    other = base[:300] + list(rng.choice(vocab, 100))
    sa, sb = shingle_sets([" ".join(base), " ".join(other)], 3)
    exact = set_jaccard(sa, sb)
    sig = signatures([" ".join(base), " ".join(other)], 3, 3, Permutations(256, 1))
    assert abs(estimate_jaccard(sig[0], sig[1]) - exact) < 0.1


def test_bad_shingle_range_is_rejected():
    with pytest.raises(ValueError):
        signatures(["a"], 3, 2, Permutations(16, 1))


def test_band_hashes_equal_only_for_equal_bands():
    sig = signatures(["a b c d e f g", "a b c d e f g", "z y x w v"], 3, 3, Permutations(64, 1))
    bands = band_hashes(sig, 16, 4)
    assert bands.shape == (3, 16) and bands.dtype == np.int64
    assert (bands[0] == bands[1]).all()
    assert not (bands[0] == bands[2]).any()
    with pytest.raises(ValueError):
        band_hashes(sig, 17, 4)


def test_candidate_probability_is_monotonic():
    ps = [candidate_probability(s / 10, 42, 3) for s in range(11)]
    assert ps == sorted(ps) and ps[0] == 0.0 and ps[-1] == 1.0


def test_band_keys_separate_kinds_bands_and_configs():
    from pipeline.dedup.bands import band_keys

    same = np.full((1, 4), 12345, dtype=np.int64)  # equal hashes in every band
    k = band_keys(same, 1, "story")
    assert len(set(k[0].tolist())) == 4  # ... give a different key per band
    assert not set(k[0].tolist()) & set(band_keys(same, 1, "lead")[0].tolist())
    assert not set(k[0].tolist()) & set(band_keys(same, 2, "story")[0].tolist())
    np.testing.assert_array_equal(k, band_keys(same.copy(), 1, "story"))
    with pytest.raises(ValueError):
        band_keys(same, 1, "nope")


@pytest.fixture(params=["numba", "numpy", "datasketch"])
def each_engine(request, monkeypatch):
    monkeypatch.setenv("NEWSDEDUP_MINHASH_ENGINE", request.param)
    assert minhash.engine(1 << 30) == request.param
    return request.param


@pytest.mark.parametrize("kmin,kmax", [(3, 3), (1, 2)])
def test_engines_are_bit_identical_on_real_text(each_engine, kmin, kmax):
    texts = [*_real_texts(), "a b", "", "ünïcödé ß straße 中文 text", " two  spaces "]
    perms = Permutations(128, 1)
    got = signatures(texts, kmin, kmax, perms)
    for text, row in zip(texts, got, strict=True):
        np.testing.assert_array_equal(row, _datasketch(text, kmin, kmax, 128, 1))
    for text, hs in zip(texts, shingle_sets(texts, kmin, kmax), strict=True):
        want = np.unique(np.array([shingle_hash(s) for s in shingles(text, kmin, kmax)], np.uint32))
        np.testing.assert_array_equal(hs, want)


def test_auto_engine_loads_the_kernels_only_for_large_calls(monkeypatch):
    monkeypatch.delenv("NEWSDEDUP_MINHASH_ENGINE", raising=False)
    monkeypatch.setattr(minhash, "_kernels", None)
    assert minhash.engine(100) == "numpy"
    assert minhash._kernels is None
    assert minhash.engine(minhash.AUTO_NUMBA_BYTES) == "numba"
    assert minhash.engine(100) == "numba"  # loaded now: small calls use it too
    monkeypatch.setattr(minhash, "_kernels", None)
    assert minhash.warm_up() == "numba" and minhash._kernels is not None


def test_without_numba_auto_and_numba_fall_back_to_numpy(monkeypatch):
    monkeypatch.setattr(minhash, "_kernels", None)
    monkeypatch.setattr(minhash, "_numba_failed", True)
    for name in ("auto", "numba"):
        monkeypatch.setenv("NEWSDEDUP_MINHASH_ENGINE", name)
        assert minhash.engine(1 << 30) == "numpy"
        assert minhash.warm_up() == "numpy"


_WITHOUT_NUMBA = """
import importlib.abc, json, sys

class NoNumba(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("numba is not installed here")

sys.meta_path.insert(0, NoNumba())
from pipeline.dedup import minhash
texts = json.loads(sys.stdin.read())
print(minhash.warm_up(), minhash.engine(1 << 30))
perms = minhash.Permutations(128, 1)
print(json.dumps(minhash.signatures(texts, 3, 3, perms).tolist()))
"""


def test_an_interpreter_without_numba_signs_identically():
    """numba is an extra (``fast``): a Python it does not support yet must still install
    and sign. A child interpreter where importing numba fails, as it would there."""
    import json
    import subprocess
    import sys

    texts = [*_real_texts(), "a b c d", ""]
    got = subprocess.run(
        [sys.executable, "-c", _WITHOUT_NUMBA],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
    )
    engines, rows = got.stdout.splitlines()
    assert engines == "numpy numpy"
    assert "numba unavailable" in got.stderr
    for text, row in zip(texts, json.loads(rows), strict=True):
        np.testing.assert_array_equal(np.array(row, np.uint32), _datasketch(text, 3, 3, 128, 1))


def test_unknown_engine_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("NEWSDEDUP_MINHASH_ENGINE", "gpu")
    with pytest.raises(ConfigError, match="NEWSDEDUP_MINHASH_ENGINE"):
        signatures(["a b c"], 1, 1, Permutations(16, 1))


def test_signatures_export_as_datasketch_lean_minhash():
    texts = _real_texts()[:2]
    sig = signatures(texts, 3, 3, Permutations(128, 1))
    ours = [minhash.lean_minhash(row, seed=1) for row in sig]
    theirs = []
    for t in texts:
        m = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash)
        m.update_batch(shingles(t, 3))
        theirs.append(LeanMinHash(m))
    assert ours == theirs
    assert ours[0].jaccard(ours[1]) == theirs[0].jaccard(theirs[1])
    buf = bytearray(ours[0].bytesize())
    ours[0].serialize(buf)
    assert LeanMinHash.deserialize(buf) == theirs[0]
