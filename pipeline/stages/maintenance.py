"""Operator maintenance: re-parse quarantined payloads, re-sign history under a new dedup
configuration, rebuild the stories of a time range.

Each function is idempotent and records itself in the ``run`` table like the stages in
``pipeline.stages``. None of them changes a story directly: they put articles back in the
pending queue (or give history the signatures a new configuration needs) and the next dedup
batch does the rest with the ordinary stages, so the result is exactly what a batch run
would produce.

``requeue``  quarantined payloads -> 'new' -> parsed again; articles that change are pending.
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
from datetime import datetime

from pipeline.config import DedupConfig
from pipeline.errors import JobError
from pipeline.stages.ingest import ingest_pending
from pipeline.stages.record import Summary
from pipeline.stages.record import recorded as recorded_stage
from pipeline.stages.sign import sign_articles, sign_captions
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")

RESIGN_CHUNK = 2000


def requeue(repo: Repository, payload_id: int | None = None) -> list[Summary]:
    """Resolve open quarantine entries as 'requeued' and parse their payloads again."""
    with recorded_stage(repo, "maintenance:requeue", None) as s:
        with repo.transaction():
            ids = [r["id"] for r in repo.rows("requeue_payloads", payload_id=payload_id)]
        s.counts.update(requeued=len(ids))
    return [s, ingest_pending(repo)]


def resign(
    repo: Repository,
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
    with recorded_stage(repo, "resign", config.fingerprint) as s:
        with repo.transaction():
            config_id = repo.config_id(config.fingerprint, config.to_json())
        s.counts.update(articles=0, captions=0, shard=shard, shards=shards)
        page = dict(config_id=config_id, shard=shard, shards=shards, since=since, until=until)
        after = 0
        while rows := repo.rows("unsigned_articles", after=after, limit=chunk, **page):
            ids = [r["id"] for r in rows]
            with repo.transaction():
                paras = repo.rows("paragraph_norms_of", ids=ids)
                sign_articles(repo, config_id, config, rows, paras)
            s.counts["articles"] += len(rows)
            after = ids[-1]
            log.info("resign shard %d/%d: %d articles", shard, shards, s.counts["articles"])
        after = 0
        while caps := repo.rows("unsigned_captions", after=after, limit=chunk, **page):
            with repo.transaction():
                sign_captions(repo, config_id, config, caps)
            s.counts["captions"] += len(caps)
            after = caps[-1]["id"]
        return s


def rebuild(repo: Repository, since: datetime, until: datetime) -> Summary:
    """Queue the articles published in [since, until) for a fresh dedup batch."""
    _check_range(since, until, required=True)
    with recorded_stage(repo, "rebuild", f"{since.isoformat()}..{until.isoformat()}") as s:
        with repo.transaction():
            # a batch between verify and publish would publish without the dropped edges
            busy = [r["key"] for r in repo.rows("open_batch_keys")]
            if busy:
                raise JobError(
                    f"dedup batch {busy[0]} is still open; rebuild once it is published "
                    "(a retry will do)"
                )
            in_range = repo.one("count_range_articles", since=since, until=until)["n"]
            edges = repo.run_sql("delete_range_story_edges", since=since, until=until)
            marked = repo.run_sql("mark_range_pending", since=since, until=until)
        s.counts.update(articles=in_range, marked_pending=marked, edges_dropped=edges)
        return s


def pending_articles(repo: Repository) -> int:
    return repo.one("count_pending")["n"]


def batch_config(repo: Repository, batch_key: str) -> DedupConfig:
    """The configuration a batch was opened with (its later stages must use the same)."""
    row = repo.one("batch_config", key=batch_key)
    if row is None:
        raise JobError(f"no batch with key {batch_key!r}")
    data = {k: v for k, v in row["config"].items() if k != "fingerprint"}
    config = DedupConfig.from_mapping(data)
    if config.fingerprint != row["fingerprint"]:
        # the text pipeline changed since the batch was opened: finish it as the CLI would
        log.warning(
            "batch %s was opened under configuration %s, which this version computes as %s",
            batch_key,
            row["fingerprint"],
            config.fingerprint,
        )
    return config


def _check_range(since: datetime | None, until: datetime | None, *, required: bool) -> None:
    if required and (since is None or until is None):
        raise JobError("a time range needs both since and until")
    for name, t in (("since", since), ("until", until)):
        if t is not None and t.tzinfo is None:
            raise JobError(f"{name} must carry a time zone (e.g. 2026-06-11T00:00:00Z)")
    if since is not None and until is not None and since >= until:
        raise JobError(f"empty time range: since {since.isoformat()} is not before until")
