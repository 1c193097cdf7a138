"""Stage-long caches: remembered until ``memo.forget``, which a whole run calls between
stages."""

from __future__ import annotations

from pipeline.text import memo


def test_a_memo_remembers_until_forgotten():
    calls = []

    @memo.memo(maxsize=8)
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    kept: dict[str, int] = {"a": 1}
    memo.remember(kept.clear)
    assert double(2) == double(2) == 4
    assert calls == [2]
    memo.forget()
    assert kept == {}
    assert double(2) == 4
    assert calls == [2, 2]
