"""Dedup batches' part of the store: configurations, claiming pending articles, a batch's
state and articles, the backlog of pending articles."""

from __future__ import annotations

from datetime import datetime

from psycopg.types.json import Jsonb

from pipeline.model import Batch
from pipeline.store.session import Part


class Batches(Part):
    FILE = "batches"

    def config_id(self, fingerprint: str, config: dict, *, opening: bool = False) -> int:
        """The id of a dedup configuration's fingerprint (stored on first use). ``opening``:
        a batch is opened under ``config``, whose settings its later stages then read."""
        params = {"fingerprint": fingerprint, "config": Jsonb(config)}
        if opening:
            return self._one("upsert_config", **params)["id"]
        return self._one("config_id", **params)["id"]

    def get(self, key: str) -> Batch | None:
        row = self._one("batch_by_key", key=key)
        return Batch(**row) if row else None

    def config(self, key: str) -> tuple[str, dict] | None:
        """(fingerprint, settings) of the configuration the batch was opened with."""
        row = self._one("batch_config", key=key)
        return (row["fingerprint"], row["config"]) if row else None

    def first_open(self) -> str | None:
        """The key of the oldest unfinished batch, locked until the transaction ends."""
        row = self._one("open_batch_existing")
        return row["key"] if row else None

    def open_keys(self) -> list[str]:
        return [r["key"] for r in self._rows("open_batch_keys")]

    def count_other_open(self, batch_id: int) -> int:
        """Batches other than this one between open_batch and publish."""
        return self._one("count_other_open_batches", own=batch_id)["n"]

    def create(self, key: str, config_id: int) -> int:
        origin = self.session.origin
        return self._one(
            "create_batch",
            key=key,
            config_id=config_id,
            dag_id=origin and origin.dag_id,
            dag_run_id=origin and origin.dag_run_id,
        )["id"]

    def claim_pending(self, batch_id: int, limit: int) -> int:
        """Move up to ``limit`` pending articles, oldest first, into the batch."""
        return self._run("claim_pending", batch_id=batch_id, limit=limit)

    def add_articles(self, batch_id: int, article_ids: list[int]) -> None:
        self._run("add_batch_articles", batch_id=batch_id, ids=article_ids)

    def article_ids(self, batch_id: int) -> list[int]:
        return [r["id"] for r in self._rows("batch_article_ids", batch_id=batch_id)]

    def set_state(self, batch_id: int, state: str) -> None:
        self._run("set_batch_state", id=batch_id, state=state)

    def count_pending(self) -> int:
        return self._one("count_pending")["n"]

    def mark_pending(self, article_ids: list[int]) -> None:
        """Send articles back to the queue of the next batch."""
        self._run("mark_pending", ids=article_ids)

    def count_range(self, since: datetime, until: datetime) -> int:
        return self._one("count_range_articles", since=since, until=until)["n"]

    def mark_range_pending(self, since: datetime, until: datetime) -> int:
        return self._run("mark_range_pending", since=since, until=until)

    def quarantine_articles(self, batch_id: int, stage: str, failed: list[tuple[int, str]]) -> None:
        """(article id, reason) of articles ``stage`` could not process: quarantined with
        their reasons, out of the batch, their story edges of this batch dropped."""
        if not failed:
            return
        ids = [i for i, _ in failed]
        self._run(
            "quarantine_articles",
            batch_id=batch_id,
            stage=stage,
            ids=ids,
            reasons=[r for _, r in failed],
        )
        self._run("drop_batch_edges_of", batch_id=batch_id, ids=ids)

    def held(self, article_ids: list[int]) -> set[int]:
        """Those of ``article_ids`` a dedup stage quarantined (until requeued)."""
        return {r["id"] for r in self._rows("held_articles", ids=article_ids)}
