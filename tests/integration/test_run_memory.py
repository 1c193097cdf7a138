"""A whole run lets its worker processes go between stages: workers keep their caches and
their biggest task's heap until they exit, and would otherwise sit on that memory through
sign, cluster_merge and publish. While they live, what they inherited is frozen, so their
collections leave its pages shared. The text caches are forgotten between stages too."""

from __future__ import annotations

import gc
import sys

import pytest

from pipeline.merge import record
from pipeline.report import export_stories
from pipeline.stages import cluster_merge, heap, pool, run, verify
from pipeline.store.store import Store
from tests.conftest import SAMPLE_INBOX


def _stories(store) -> list:
    return sorted(
        (s["story_id"], s["canonical"], tuple(sorted(s["members"]))) for s in export_stories(store)
    )


def test_verify_workers_are_gone_before_merge_and_the_result_is_unchanged(
    databases, migrated_template, config, monkeypatch
):
    inline = Store.open(databases.create(template=migrated_template))
    try:
        run.inbox(inline, SAMPLE_INBOX, config)
        expected = _stories(inline)
    finally:
        inline.close()

    # verify decides the sample's pairs in two worker processes, a chunk of one pair each
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    monkeypatch.setattr(verify, "VERIFY_CHUNK", 1)
    monkeypatch.setattr(verify, "VERIFY_PARALLEL_MIN", 1)
    seen = {}
    real_verify, real_merge = verify.run, cluster_merge.run

    def verifying(*a, **k):
        s = real_verify(*a, **k)
        seen.setdefault("verify", pool._pool)
        seen.setdefault("frozen_in_verify", gc.get_freeze_count())
        return s

    def merging(*a, **k):
        seen.setdefault("merge", pool._pool)
        seen.setdefault("frozen_in_merge", gc.get_freeze_count())
        s = real_merge(*a, **k)
        seen.setdefault("words_after_merge", len(record._CONTENT_WORDS))
        return s

    monkeypatch.setattr(verify, "run", verifying)
    monkeypatch.setattr(cluster_merge, "run", merging)
    store = Store.open(databases.create(template=migrated_template))
    try:
        run.inbox(store, SAMPLE_INBOX, config)
        assert seen["verify"] is not None  # verify did use workers
        assert seen["merge"] is None
        assert seen["frozen_in_verify"] > 0  # the workers' inheritance, while they live
        assert seen["frozen_in_merge"] == 0  # thawed with the pool
        assert pool._pool is None
        assert seen["words_after_merge"] > 0
        assert not record._CONTENT_WORDS  # filled by cluster_merge, forgotten after it
        assert record.content_grams.cache_info().currsize == 0
        assert _stories(store) == expected
    finally:
        pool.shutdown()
        store.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_memory_can_be_handed_back_on_glibc():
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    assert heap.give_back() is True
