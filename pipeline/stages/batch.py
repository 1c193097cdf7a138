"""Dedup batches: claiming pending articles into a bounded batch, finding a batch by key."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from pipeline.config import DedupConfig
from pipeline.errors import JobError
from pipeline.stages.record import Summary, recorded
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")


BATCH_LIMIT = 20000  # articles per dedup batch: memory is bounded by this, not by history


def load(repo: Repository, batch_key: str) -> dict:
    b = repo.one("batch_by_key", key=batch_key)
    if b is None:
        raise JobError(f"no batch with key {batch_key!r}")
    return b


def open_batch(
    repo: Repository, config: DedupConfig, key: str | None = None, limit: int = BATCH_LIMIT
) -> Summary:
    """Claim pending articles into a batch. An unfinished batch is resumed first, so a
    crashed run is completed before new work is taken."""
    with recorded(repo, "open_batch", key) as s:
        with repo.transaction():
            config_id = repo.config_id(config.fingerprint, config.to_json())
            existing = repo.one("open_batch_existing")
            if existing is not None:
                s.batch_key = existing["key"]
                s.counts.update(resumed=True, articles=load(repo, existing["key"])["articles"])
                return s
            if key is not None and repo.one("batch_by_key", key=key) is not None:
                s.batch_key = key  # this key was already processed: nothing to do
                s.counts.update(articles=0, already_done=True)
                return s
            new_key = key or (
                datetime.now(UTC).strftime("b%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
            )
            b = repo.one("create_batch", key=new_key, config_id=config_id)
            n = repo.run_sql("claim_pending", batch_id=b["id"], limit=limit)
            if n == 0:
                repo.run_sql("set_batch_state", id=b["id"], state="empty")
            s.batch_key = new_key
            s.counts.update(articles=n)
        return s
