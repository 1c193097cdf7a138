"""Dedup batches: claiming pending articles into a bounded batch, finding a batch by key,
and the one place every later stage of a batch takes its configuration from."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from pipeline.config import DedupConfig
from pipeline.errors import JobError
from pipeline.model import Batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.store import Store

log = logging.getLogger("newsdedup")

BATCH_LIMIT = 20000  # articles per dedup batch: memory is bounded by this, not by history


def load(store: Store, batch_key: str) -> Batch:
    b = store.batches.get(batch_key)
    if b is None:
        raise JobError(f"no batch with key {batch_key!r}")
    return b


def config_of(store: Store, batch: Batch) -> DedupConfig:
    """The configuration the batch was opened with: every later stage of the batch uses
    it, whoever runs the stage (the CLI, any worker with any newsdedup.toml), so one batch
    never mixes two schemes."""
    got = store.batches.config(batch.key)
    if got is None:
        raise JobError(f"no batch with key {batch.key!r}")
    fingerprint, settings = got
    config = DedupConfig.from_mapping({k: v for k, v in settings.items() if k != "fingerprint"})
    if config.fingerprint != fingerprint:
        # the text pipeline changed since the batch was opened: finish it under this version
        log.warning(
            "batch %s was opened under configuration %s, which this version computes as %s",
            batch.key,
            fingerprint,
            config.fingerprint,
        )
    return config


def open_batch(
    store: Store, config: DedupConfig, key: str | None = None, limit: int = BATCH_LIMIT
) -> Summary:
    """Claim pending articles into a batch. An unfinished batch is resumed first, so a
    crashed run is completed before new work is taken."""
    with recorded(store, "open_batch", key) as s:
        with store.transaction():
            config_id = store.batches.config_id(config.fingerprint, config.to_json(), opening=True)
            existing = store.batches.first_open()
            if existing is not None:
                s.batch_key = existing
                s.counts.update(resumed=True, articles=load(store, existing).articles)
                return s
            if key is not None and store.batches.get(key) is not None:
                s.batch_key = key  # this key was already processed: nothing to do
                s.counts.update(articles=0, already_done=True)
                return s
            new_key = key or (
                datetime.now(UTC).strftime("b%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
            )
            batch_id = store.batches.create(new_key, config_id)
            n = store.batches.claim_pending(batch_id, limit)
            if n == 0:
                store.batches.set_state(batch_id, "empty")
            s.batch_key = new_key
            s.counts.update(articles=n)
        return s


def pending(store: Store) -> int:
    """Articles waiting for a batch."""
    return store.batches.count_pending()
