"""The whole pipeline on a real PostgreSQL: idempotence, versions, kills, quarantine,
rollback."""

import shutil

import pytest

from pipeline.report import export_stories
from pipeline.sources.collect import list_files
from pipeline.stages import batch, candidates, cluster_merge, ingest, publish, run, sign, verify
from tests.conftest import SAMPLE_INBOX, STABLE_TABLES, table_counts


def _snapshot(store):
    counts = {k: v for k, v in table_counts(store).items() if k in STABLE_TABLES}
    stories = sorted(
        (s["story_id"], s["canonical"], tuple(sorted(s["members"]))) for s in export_stories(store)
    )
    return counts, stories


def test_sample_inbox_twice_changes_nothing(store, config):
    run.inbox(store, SAMPLE_INBOX, config)
    first = _snapshot(store)
    assert first[0]["story"] >= 5
    again = run.inbox(store, SAMPLE_INBOX, config)
    assert _snapshot(store) == first
    opened = [s for s in again if s.stage == "open_batch"]
    assert opened[-1].counts["articles"] == 0


def test_versions_kills_and_stories(store, config):
    run.inbox(store, SAMPLE_INBOX, config)
    stories = {s["canonical"]: s for s in export_stories(store)}
    corrected = "reuters:tag:reuters.com,2026:newsml_L1N3CU0QQ"
    first_take = "reuters:tag:reuters.com,2026:newsml_L1N3CU0PP"
    # UPDATE 1 replaced the first take (one item, one article), the correction is canonical
    assert corrected in stories
    copper = stories[corrected]["members"]
    assert first_take in copper
    assert "cgtn:2026-06-11-CuChile7x" in copper
    assert "xinhua:http://english.news.cn/2026-06/11/c_1310001.htm" in copper
    art = store.report.article(first_take)
    assert art["headline_tag"] == "UPDATE 1" and art["version_count"] == 2
    # the kill: stored, killed, never canonical
    killed = store.report.article("reuters:tag:reuters.com,2026:newsml_L5N3CW1AA")
    assert killed["killed"]
    assert all(s["canonical"] != killed["item_key"] for s in export_stories(store))
    # the two weekly power reports are different stories
    power = [s for s in stories if s and "L4N3C" in s]
    assert len(power) == 2
    # the satellite caption is one photo group across Xinhua and CGTN
    sat = next(s for s in export_stories(store) if "cgtn:2026-06-12-Fy5BsatLch" in s["members"])
    assert len({c["group"] for c in sat["captions"]}) == 1 and len(sat["captions"]) == 2


def test_order_of_arrival_does_not_matter(store, config, tmp_path):
    """A kill or update that arrives before the version it supersedes still wins."""
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    (inbox / "reuters" / "2026-06-15T113000Z_2_L5N3CW1AA_PORTUGAL-AIRLINE-KILL.xml").rename(
        inbox / "reuters" / "0000-kill-first.xml"
    )
    run.inbox(store, inbox, config)
    killed = store.report.article("reuters:tag:reuters.com,2026:newsml_L5N3CW1AA")
    # killed, and still carrying the text of its last usable version so it sits in its story
    assert killed["killed"] and killed["word_count"] > 0


def test_broken_file_quarantined_and_run_goes_on(store, config, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    (inbox / "reuters" / "truncated.xml").write_bytes(b"<newsMessage><itemSet><newsItem guid='x'")
    (inbox / "cgtn" / "empty.txt").write_bytes(b"")
    out = run.inbox(store, inbox, config)
    q = sum(s.counts.get("quarantined", 0) for s in out)
    assert q == 2
    rows = store.ingest.open_quarantine(10)
    reasons = {r["origin"].rsplit("/", 1)[1]: r["reason"] for r in rows}
    assert "not well-formed" in reasons["truncated.xml"]
    assert reasons["empty.txt"] == "empty payload"
    # stored verbatim all the same
    assert table_counts(store)["payload"] == sum(1 for p in inbox.rglob("*") if p.is_file())
    assert table_counts(store)["story"] >= 5


def test_publish_is_one_transaction(store, config, monkeypatch):
    for source in ("reuters", "xinhua", "cgtn"):
        ingest.ingest_files(store, source, list_files(SAMPLE_INBOX / source))
    b = batch.load(store, batch.open_batch(store, config).batch_key)
    sign.run(store, b, config)
    candidates.run(store, b, config)
    verify.run(store, b, config)
    cluster_merge.run(store, b, config)
    real = store.stories._write_caption_groups

    def failing(groups):  # the last write of publish fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(store.stories, "_write_caption_groups", failing)
    with pytest.raises(RuntimeError):
        publish.run(store, b)
    monkeypatch.setattr(store.stories, "_write_caption_groups", real)
    assert table_counts(store)["story"] == 0 and table_counts(store)["story_member"] == 0
    failed = store.conn.execute("SELECT status, error FROM run WHERE stage = 'publish'").fetchone()
    assert failed["status"] == "failed" and "disk full" in failed["error"]
    publish.run(store, b)  # the stage re-runs alone
    assert table_counts(store)["story"] >= 5


def test_every_stage_is_idempotent_when_rerun(store, config):
    for source in ("reuters", "xinhua", "cgtn"):
        ingest.ingest_files(store, source, list_files(SAMPLE_INBOX / source))
    b = batch.load(store, batch.open_batch(store, config).batch_key)
    for stage in (sign.run, candidates.run, verify.run, cluster_merge.run):
        stage(store, b, config)
        before = table_counts(store)
        stage(store, b, config)
        assert table_counts(store) == before, stage.__module__
    publish.run(store, b)
    snap = _snapshot(store)
    publish.run(store, b)
    assert _snapshot(store) == snap


def _partition(store):
    return sorted(tuple(sorted(s["members"])) for s in export_stories(store))


def test_incremental_batches_equal_one_batch(databases, migrated_template, config, tmp_path):
    """Stories built over several batches (history in the store) equal one big batch, and
    an existing story keeps its id when later copies join it."""
    from pipeline.store.store import Store

    with Store.open(databases.create(template=migrated_template)) as one:
        run.inbox(one, SAMPLE_INBOX, config)
        want = _partition(one)
    first, second = _split_inbox(tmp_path)
    with Store.open(databases.create(template=migrated_template)) as inc:
        run.inbox(inc, first, config)
        before = {m: s["story_id"] for s in export_stories(inc) for m in s["members"]}
        run.inbox(inc, second, config)
        assert _partition(inc) == want
        # a story that existed after the first batch keeps its id when copies join it;
        # stories that merge keep the oldest id
        for story in export_stories(inc):
            old_ids = {before[m] for m in story["members"] if m in before}
            if old_ids:
                assert story["story_id"] == min(old_ids, key=lambda x: int(x[1:]))


def _split_inbox(tmp_path):
    files = sorted(p for p in SAMPLE_INBOX.rglob("*") if p.is_file())
    first, second = tmp_path / "first", tmp_path / "second"
    for i, f in enumerate(files):
        dest = (first if i % 2 == 0 else second) / f.parent.name / f.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dest)
    return first, second


def test_band_lookup_by_keys_finds_what_the_scan_finds(
    databases, migrated_template, config, tmp_path, monkeypatch
):
    """A batch small beside history looks its keys up in lsh_band's index as one array; a
    batch large beside it joins all of lsh_band. Both find the same candidate pairs, within
    the batch and against history (two batches, the second against the first)."""
    from pipeline.store import lsh
    from pipeline.store.store import Store

    inboxes = _split_inbox(tmp_path)
    real_run = lsh.Lsh._run
    found = {}
    for query, factor in (("fill_band_hits", 0), ("fill_band_hits_by_keys", 1e-9)):
        monkeypatch.setattr(lsh, "INDEX_PROBE_FACTOR", factor)
        used = []

        def spy(part, name, used=used, **params):
            used.append(name)
            return real_run(part, name, **params)

        monkeypatch.setattr(lsh.Lsh, "_run", spy)
        with Store.open(databases.create(template=migrated_template)) as s:
            for inbox in inboxes:
                run.inbox(s, inbox, config)
            pairs = s.conn.execute(
                "SELECT batch_id, kind, a, b FROM candidate ORDER BY 1, 2, 3, 4"
            ).fetchall()
            found[query] = pairs, _partition(s)
        fills = [n for n in used if n.startswith("fill_band_hits")]
        assert fills == [query, query]
        assert len({p["batch_id"] for p in pairs}) == 2
    assert found["fill_band_hits_by_keys"] == found["fill_band_hits"]


def test_the_staged_layout_reads_back_typed(store, config):
    """cluster_merge -> publish is a model.Layout; the store's storage of it loses nothing
    (stories come back in the order publish numbers new ones: the store's own)."""
    for source in ("reuters", "xinhua", "cgtn"):
        ingest.ingest_files(store, source, list_files(SAMPLE_INBOX / source))
    b = batch.load(store, batch.open_batch(store, config).batch_key)
    for stage in (sign, candidates, verify, cluster_merge):
        stage.run(store, b, config)
    layout = store.stories.staged(b.id)
    assert layout.stories and all(s.story_id is None for s in layout.stories)
    assert any(len(s.members) > 1 and s.provenance for s in layout.stories)
    with store.transaction():
        store.stories.clear_staged(b.id)
        store.stories.stage(b.id, layout)
    again = store.stories.staged(b.id)
    assert sorted(again.stories, key=repr) == sorted(layout.stories, key=repr)
    assert again.caption_groups == layout.caption_groups
    assert {(o, again.stories[i]) for o, i in again.absorbed} == {
        (o, layout.stories[i]) for o, i in layout.absorbed
    }


def _bands(store):
    q = store.conn.execute
    return (
        q("SELECT key, object_id, published_at FROM lsh_band ORDER BY 1, 2").fetchall(),
        q(
            "SELECT config_id, kind, object_id, keys, published_at FROM band_key ORDER BY 1, 2, 3"
        ).fetchall(),
    )


def test_band_index_built_once_per_batch_changes_nothing(
    databases, migrated_template, config, monkeypatch
):
    """A batch large against history loads lsh_band without its index and builds it once:
    the same rows, the index back, the same stories; re-signing the batch then finds its old
    rows without the index and replaces them."""
    from pipeline.store import lsh
    from pipeline.store.store import Store

    with Store.open(databases.create(template=migrated_template)) as rowwise:
        run.inbox(rowwise, SAMPLE_INBOX, config)
        want = _bands(rowwise), _partition(rowwise)
    monkeypatch.setattr(lsh, "BULK_BAND_ROWS", 1)
    with Store.open(databases.create(template=migrated_template)) as bulk:
        run.inbox(bulk, SAMPLE_INBOX, config)
        assert (_bands(bulk), _partition(bulk)) == want
        index = "SELECT to_regclass('lsh_band_key_idx')::oid AS n"
        built = bulk.conn.execute(index).fetchone()["n"]
        assert built is not None
        monkeypatch.setattr(lsh, "BULK_BAND_ROWS", 0)
        monkeypatch.setattr(sign, "band_rows", lambda *a: 1 << 40)  # history is smaller
        b = batch.load(bulk, bulk.conn.execute("SELECT key FROM batch").fetchone()["key"])
        sign.run(bulk, b, config)
        assert _bands(bulk) == want[0]
        assert bulk.conn.execute(index).fetchone()["n"] not in (None, built)  # built again


def _recent(store):
    return store.conn.execute(
        "SELECT key, object_id, published_at FROM lsh_band_recent ORDER BY 1, 2"
    ).fetchall()


def test_recent_band_rows_change_nothing_until_and_after_folded(
    databases, migrated_template, config, tmp_path, monkeypatch
):
    """A batch small beside history writes its band rows into lsh_band_recent: the same
    rows as into lsh_band, the same candidates and stories; re-signing it replaces its rows
    there; a fold moves them all into lsh_band, when due or forced, and none otherwise,
    nor while another transaction uses the table."""
    from pipeline.store import lsh
    from pipeline.store.store import Store

    inboxes = _split_inbox(tmp_path)

    def two_batches(s):
        for inbox in inboxes:
            run.inbox(s, inbox, config)
        pairs = s.conn.execute("SELECT batch_id, kind, a, b FROM candidate ORDER BY 1, 2, 3, 4")
        return pairs.fetchall(), _partition(s)

    with Store.open(databases.create(template=migrated_template)) as folded:
        want = two_batches(folded), _bands(folded)
        assert _recent(folded) == []
    # every batch after the first is "small beside history", and no fold is ever due
    monkeypatch.setattr(lsh, "FOLD_SHARE", 1e-9)
    url = databases.create(template=migrated_template)
    with Store.open(url) as s:
        assert two_batches(s) == want[0]
        rows, keys = _bands(s)
        recent = _recent(s)
        assert recent and rows
        assert sorted(rows + recent, key=lambda r: (r["key"], r["object_id"])) == want[1][0]
        assert keys == want[1][1]
        second = s.conn.execute("SELECT key FROM batch ORDER BY id DESC").fetchone()["key"]
        summary = sign.run(s, batch.load(s, second), config)
        assert summary.counts["folded"] == 0
        assert (_bands(s), _recent(s)) == ((rows, keys), recent)
        with s.transaction():
            assert s.lsh.fold() == 0  # not due
        with Store.open(url) as other, other.transaction():
            other.conn.execute("SELECT count(*) FROM lsh_band_recent").fetchone()
            with s.transaction():
                assert s.lsh.fold(force=True) is None  # in use elsewhere: gives way at once
                assert s.conn.execute("SELECT 1 AS ok").fetchone()["ok"] == 1
        assert _recent(s) == recent
        monkeypatch.setattr(lsh, "FOLD_SHARE", 10**9)  # now any recent row is due
        with s.transaction():
            assert s.lsh.fold() == len(recent)
        assert _recent(s) == []
        assert _bands(s) == want[1]
        with s.transaction():
            assert s.lsh.fold(force=True) == 0  # nothing left


def test_verify_loads_the_kernels_before_its_workers_fork(store, config, monkeypatch):
    """Workers forked for a batch's pairs inherit the compiled MinHash kernels instead of
    each loading them (1-2 CPU-seconds a process), however few chunks there are."""
    from pipeline.dedup import minhash
    from pipeline.stages import pool

    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    monkeypatch.setattr(verify, "VERIFY_PARALLEL_MIN", 1)
    monkeypatch.setattr(verify, "VERIFY_CHUNK", 10**6)  # the pairs in two halves
    events = []
    real_run, real_warm, real_tasks = verify.run, minhash.warm_up, pool.run_tasks

    def verifying(*a, **k):
        events.append("verify")
        return real_run(*a, **k)

    def warming():
        events.append("warm")
        return real_warm()

    def tasks(fn, items, parallel=True, **k):
        if fn is verify.decide_chunk:
            events.append(f"decide parallel={parallel}")
        return real_tasks(fn, items, parallel, **k)

    monkeypatch.setattr(verify, "run", verifying)
    monkeypatch.setattr(minhash, "warm_up", warming)
    monkeypatch.setattr(pool, "run_tasks", tasks)
    try:
        run.inbox(store, SAMPLE_INBOX, config)
    finally:
        pool.shutdown()
    last = len(events) - 1 - events[::-1].index("verify")
    assert events[last : last + 3] == ["verify", "warm", "decide parallel=True"]
