"""Repository: every read and write the jobs make, over one psycopg connection.

Methods are thin: they run a named query from sql/queries and convert rows. Transactions
are the caller's (``with repo.transaction():``), so a job decides what is atomic.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from pipeline.store import migrate as _migrate
from pipeline.store.connect import connect
from pipeline.store.queries import Queries, load


class Repository:
    def __init__(
        self, conn: psycopg.Connection, queries: Queries | None = None, url: str | None = None
    ):
        self.conn = conn
        self.q = queries or load()
        self.url = url

    # --- lifecycle -------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Repository:
        # autocommit: reads outside ``transaction()`` never leave an implicit transaction
        # open, so every ``with repo.transaction()`` block is a real, committed transaction
        conn = connect(url, autocommit=True)
        if migrate:
            _migrate.migrate(conn)
        return cls(conn, url=url)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def rows(self, name: str, **params) -> list[dict]:
        return self.conn.execute(getattr(self.q, name), params).fetchall()

    def one(self, name: str, **params) -> dict | None:
        return self.conn.execute(getattr(self.q, name), params).fetchone()

    def run_sql(self, name: str, **params) -> int:
        cur = self.conn.execute(getattr(self.q, name), params)
        return cur.rowcount

    def copy_rows(self, name: str, rows: Iterable[Sequence]) -> int:
        n = 0
        with self.conn.cursor() as cur, cur.copy(getattr(self.q, name)) as cp:
            for r in rows:
                cp.write_row(r)
                n += 1
        return n

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, stage: str, batch_key: str | None) -> int:
        # runs are recorded outside the job's transaction so a failure is still visible
        with self._side_conn() as c:
            return c.execute(
                self.q.start_run,
                {"stage": stage, "batch_key": batch_key, "host": socket.gethostname()},
            ).fetchone()["id"]

    def finish_run(
        self, run_id: int, status: str, counts: dict, seconds: float, error: str | None = None
    ) -> None:
        with self._side_conn() as c:
            c.execute(
                self.q.finish_run,
                {
                    "id": run_id,
                    "status": status,
                    "counts": Jsonb(counts),
                    "seconds": seconds,
                    "error": error,
                },
            )

    @contextlib.contextmanager
    def _side_conn(self) -> Iterator[psycopg.Connection]:
        if self.url is None:  # a bare connection (tests): record in the caller's session
            yield self.conn
            return
        c = connect(self.url, autocommit=True)
        try:
            yield c
        finally:
            c.close()

    # --- ingest ----------------------------------------------------------------------------

    def store_payloads(self, rows: list[tuple[bytes, str, str, int, bytes]]) -> dict[bytes, dict]:
        """Store (sha256, source, origin, size, body) rows; return sha -> {id, status}."""
        if not rows:
            return {}
        self.conn.execute(self.q.create_payload_stage)
        self.copy_rows("copy_payload_stage", rows)
        self.conn.execute(self.q.insert_staged_payloads)
        got = self.rows("payload_states", shas=[r[0] for r in rows])
        return {bytes(r["sha256"]): r for r in got}

    def payloads_to_parse(self, ids: list[int]) -> list[dict]:
        return self.rows("payloads_to_parse", ids=ids)

    def quarantine(self, payload_id: int, item_key: str | None, reason: str) -> None:
        self.run_sql(
            "quarantine",
            payload_id=payload_id,
            item_key=item_key,
            reason=" ".join(reason.split())[:500],
        )

    def mark_payload(self, payload_id: int, status: str, fmt: str, item_count: int) -> None:
        self.run_sql(
            "mark_payload", id=payload_id, status=status, format=fmt, item_count=item_count
        )

    def current_articles(self, keys: list[str]) -> dict[str, dict]:
        return {r["item_key"]: r for r in self.rows("current_articles", keys=keys)}

    def known_versions(self, keys: list[str]) -> dict[tuple[str, str], set[bytes]]:
        out: dict[tuple[str, str], set[bytes]] = {}
        for r in self.rows("known_versions", keys=keys):
            out.setdefault((r["item_key"], r["version"]), set()).add(bytes(r["content_sha256"]))
        return out

    def insert_raw_item(self, **row) -> int | None:
        got = self.one("insert_raw_item", **row)
        return got["id"] if got else None

    def upsert_article(self, **row) -> int:
        row = dict(row, lineage=Jsonb(row.get("lineage") or []))
        return self.one("upsert_article", **row)["id"]

    def kill_article(self, **row) -> int | None:
        got = self.one("kill_article", **row)
        return got["id"] if got else None

    def replace_text(self, paragraphs: list[tuple], captions: list[tuple], ids: list[int]) -> None:
        if ids:
            self.run_sql("delete_article_text", ids=ids)
            self.run_sql("delete_article_captions", ids=ids)
        if paragraphs:
            self.copy_rows("copy_paragraphs", paragraphs)
        if captions:
            self.copy_rows("copy_captions", captions)

    # --- dedup -----------------------------------------------------------------------------

    def config_id(self, fingerprint: str, config: dict) -> int:
        return self.one("upsert_config", fingerprint=fingerprint, config=Jsonb(config))["id"]

    def write_signatures(
        self,
        config_id: int,
        kind: str,
        ids: Sequence[int],
        sigs: np.ndarray,
        shingle_counts: Sequence[int],
        bands: np.ndarray,
        published: Sequence[datetime],
    ) -> None:
        ids = list(ids)
        self.run_sql("delete_signatures", config_id=config_id, kind=kind, ids=ids)
        le = sigs.astype("<u4", copy=False)
        self.copy_rows(
            "copy_signatures",
            (
                (config_id, kind, oid, le[i].tobytes(), int(shingle_counts[i]))
                for i, oid in enumerate(ids)
            ),
        )
        self.write_bands(config_id, kind, ids, bands, published)

    def write_bands(
        self,
        config_id: int,
        kind: str,
        ids: Sequence[int],
        bands: np.ndarray,
        published: Sequence[datetime],
    ) -> None:
        """Replace the band rows of these objects; ``ids`` may repeat (one row of bands per
        paragraph of an article)."""
        self.run_sql("delete_bands", config_id=config_id, kind=kind, ids=sorted(set(ids)))
        nb = bands.shape[1] if bands.ndim == 2 else 0
        self.copy_rows(
            "copy_bands",
            (
                (config_id, kind, j, int(bands[i, j]), oid, published[i])
                for i, oid in enumerate(ids)
                for j in range(nb)
            ),
        )

    def write_edges(self, edges) -> int:
        if not edges:
            return 0
        self.conn.execute(self.q.create_edge_stage)
        n = self.copy_rows(
            "copy_edge_stage",
            (
                (
                    e.kind,
                    e.a,
                    e.b,
                    e.verdict,
                    e.jaccard,
                    e.containment,
                    e.fuzz,
                    e.para_overlap,
                    e.reason,
                    batch_id,
                )
                for e, batch_id in edges
            ),
        )
        self.conn.execute(self.q.upsert_edges)
        return n

    def stage_story(self, batch_id: int, story_id: int, payload: dict) -> None:
        self.run_sql(
            "insert_staged",
            batch_id=batch_id,
            story_id=story_id,
            payload=Jsonb(payload, dumps=dumps),
        )

    def staged(self, batch_id: int) -> list[tuple[int, dict]]:
        return [(r["story_id"], r["payload"]) for r in self.rows("staged", batch_id=batch_id)]

    def table_counts(self) -> dict[str, int]:
        return {r["t"]: r["n"] for r in self.rows("table_counts")}


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)
