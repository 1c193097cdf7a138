"""Operator maintenance: re-parse quarantined payloads, re-sign history under a new dedup
configuration, rebuild the stories of a time range. The CLI, the maintenance DAG and the
dashboard all call these.

Each function is idempotent and records itself in the ``run`` table like the other
stages. None of them changes a story directly: they put articles back in the pending queue
(or give history the signatures a new configuration needs) and the next dedup batch does
the rest with the ordinary stages, so the result is exactly what a batch run would produce.

``requeue``  quarantined payloads -> 'new' -> parsed again at once; what still fails is
             quarantined anew, articles that change are pending. A file or folder that
             could not be read is read again from disk. Articles a dedup stage
             quarantined are pending again: the next batch signs, verifies and merges them.
``resign``   every article (and caption) without a signature under the current fingerprint
             gets one: after a change of a signature setting (``num_perm``, ``bands``,
             ``shingle_size``...) new batches find their candidates in history again.
             Stories are not touched; follow with ``rebuild`` to re-cluster them.
``rebuild``  articles published in [since, until) are marked pending and their story edges
             are dropped; the next batch re-signs, re-verifies and re-clusters them (and
             every story they belong to) under the current configuration and overrides.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from pipeline.config import DedupConfig
from pipeline.errors import JobError
from pipeline.stages.ingest import parse_stored, reread_path
from pipeline.stages.record import Summary, recorded
from pipeline.stages.sign import sign_articles, sign_captions
from pipeline.store.store import Store

log = logging.getLogger("newsdedup")

RESIGN_CHUNK = 2000


def requeue(store: Store, payload_id: int | None = None, who: str | None = None) -> Summary:
    """Resolve the open quarantine entries (all, or one payload's) as requeued, by ``who``
    when given, and parse their payloads again now. Without ``payload_id`` every payload
    waiting to be parsed is parsed, leftovers of a crashed run too."""
    with recorded(store, "requeue", None) as s:
        with store.transaction():
            ids, paths, articles = store.ingest.requeue(
                payload_id, f"requeued by {who}" if who else "requeued"
            )
        todo = ids if payload_id is not None else store.ingest.new_payload_ids()
        s.counts.update(
            requeued=len(ids) + len(paths),
            articles_pending=len(articles),
            paths_reread=len(paths),
            paths_gone=0,
            payloads=len(todo),
            items_new=0,
            items_updated=0,
            killed=0,
            quarantined=0,
        )
        parse_stored(store, sorted(set(todo)), s.counts)
        # an unreadable file or folder has no bytes to parse again: it is read from disk
        # again, as a run would (one still unreadable is quarantined again)
        for row in store.ingest.path_payloads(paths):
            where = Path(os.fsdecode(bytes(row["origin_bytes"]))) if row["origin_bytes"] else None
            if not reread_path(store, row["source"], where or Path(row["origin"]), s.counts):
                log.warning("cannot requeue %s: it is no longer there", row["origin"])
                s.counts["paths_gone"] += 1
        return s


def resign(
    store: Store,
    config: DedupConfig,
    shard: int = 0,
    shards: int = 1,
    since: datetime | None = None,
    until: datetime | None = None,
    chunk: int = RESIGN_CHUNK,
) -> Summary:
    """Signatures and band hashes under ``config`` for one shard of the articles (and their
    captions) that lack them, optionally only those published in [since, until)."""
    _check_range(since, until, required=False)
    if not 0 <= shard < shards:
        raise JobError(f"shard {shard} is not in 0..{shards - 1}")
    with recorded(store, "resign", config.fingerprint) as s:
        with store.transaction():
            config_id = store.batches.config_id(config.fingerprint, config.to_json())
        s.counts.update(articles=0, captions=0, shard=shard, shards=shards)
        page = dict(shard=shard, shards=shards, since=since, until=until)
        after = 0
        while rows := store.lsh.unsigned_articles(config_id, after, chunk, **page):
            ids = [r["id"] for r in rows]
            with store.transaction():
                paras = store.lsh.paragraphs_of(ids)
                sign_articles(store, config_id, config, rows, paras)
            s.counts["articles"] += len(rows)
            after = ids[-1]
            log.info("resign shard %d/%d: %d articles", shard, shards, s.counts["articles"])
        after = 0
        while caps := store.lsh.unsigned_captions(config_id, after, chunk, **page):
            with store.transaction():
                sign_captions(store, config_id, config, caps)
            s.counts["captions"] += len(caps)
            after = caps[-1]["id"]
        return s


def rebuild(store: Store, since: datetime, until: datetime) -> Summary:
    """Queue the articles published in [since, until) for a fresh dedup batch."""
    _check_range(since, until, required=True)
    with recorded(store, "rebuild", f"{since.isoformat()}..{until.isoformat()}") as s:
        with store.transaction():
            # a batch between verify and publish would publish without the dropped edges
            busy = store.batches.open_keys()
            if busy:
                raise JobError(
                    f"dedup batch {busy[0]} is still open; rebuild once it is published "
                    "(a retry will do)"
                )
            in_range = store.batches.count_range(since, until)
            edges = store.edges.drop_story_edges_in_range(since, until)
            marked = store.batches.mark_range_pending(since, until)
        s.counts.update(articles=in_range, marked_pending=marked, edges_dropped=edges)
        return s


def _check_range(since: datetime | None, until: datetime | None, *, required: bool) -> None:
    if required and (since is None or until is None):
        raise JobError("a time range needs both since and until")
    for name, t in (("since", since), ("until", until)):
        if t is not None and t.tzinfo is None:
            raise JobError(f"{name} must carry a time zone (e.g. 2026-06-11T00:00:00Z)")
    if since is not None and until is not None and since >= until:
        raise JobError(f"empty time range: since {since.isoformat()} is not before until")
