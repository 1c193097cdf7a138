"""Repository: every read and write the jobs make, over one psycopg connection.

Methods are thin: they run a named query from sql/queries and convert rows. Transactions
are the caller's (``with repo.transaction():``), so a job decides what is atomic.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import numpy as np
import psycopg
import psycopg.sql
from psycopg.types.json import Jsonb

from pipeline.dedup.bands import band_keys
from pipeline.store import copybin
from pipeline.store import migrate as _migrate
from pipeline.store.connect import connect
from pipeline.store.queries import Queries, load

# the table a COPY or INSERT writes, for analyze_written's bookkeeping
_WRITES = re.compile(r"^\s*(?:COPY|INSERT\s+INTO)\s+(\w+)", re.I | re.M)


INDEX_PROBE_FACTOR = 50  # see fill_band_hits


class Repository:
    def __init__(
        self, conn: psycopg.Connection, queries: Queries | None = None, url: str | None = None
    ):
        self.conn = conn
        self.q = queries or load()
        self.url = url
        # rows bulk-written per table since its last ANALYZE by us (see analyze_written)
        self.written: dict[str, int] = {}

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

    def bulk_settings(self) -> None:
        """Within the current transaction: asynchronous commit and a larger work_mem, for
        idempotent bulk stages (see bulk_transaction_settings in sql/queries/bulk.sql)."""
        self.conn.execute(self.q.bulk_transaction_settings)

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
        self._note_written(name, n)
        return n

    def _note_written(self, name: str, n: int) -> None:
        m = _WRITES.match(getattr(self.q, name))
        if m and not m.group(1).endswith("_stage"):
            self.written[m.group(1)] = self.written.get(m.group(1), 0) + n

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
            self.run_sql("delete_text_of", ids=ids)
            self.run_sql("delete_captions_of", ids=ids)
        if paragraphs:
            self.copy_rows("copy_paragraphs", paragraphs)
        if captions:
            self.copy_rows("copy_captions", captions)

    def executemany(self, name: str, rows: Sequence[dict]) -> None:
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(getattr(self.q, name), rows)

    # --- collect: folder and feed cursors ---------------------------------------------------

    def seen_files(self, source: str, paths: list[str]) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of the files of ``paths`` already taken."""
        rows = self.rows("seen_files", source=source, paths=paths)
        return {r["path"]: (r["size"], r["mtime_ns"]) for r in rows}

    def mark_seen(self, source: str, files: Sequence[tuple[str, int, int, bytes]]) -> None:
        self.executemany(
            "upsert_seen_file",
            [
                {"source": source, "path": p, "size": size, "mtime_ns": mt, "sha256": sha}
                for p, size, mt, sha in files
            ],
        )

    def cursor(self, source: str, url: str) -> dict | None:
        return self.one("get_cursor", source=source, url=url)

    def save_cursor(self, **row) -> None:
        self.run_sql("save_cursor", **row)

    def cursor_failed(self, source: str, url: str, status: str, error: str) -> None:
        self.run_sql(
            "cursor_failed", source=source, url=url, last_status=status, last_error=error[:500]
        )

    # --- bulk ingest -----------------------------------------------------------------------

    def allocate_ids(self, table: str, n: int) -> list[int]:
        """n fresh identity values of ``table``, in descending order (callers pop())."""
        if n <= 0:
            return []
        got = [r["id"] for r in self.rows("allocate_ids", table=table, n=n)]
        got.sort(reverse=True)
        return got

    def articles_by_keys(self, keys: list[str]) -> dict[str, dict]:
        return {r["item_key"]: r for r in self.rows("articles_by_keys", keys=keys)}

    def write_ingest(self, plan) -> None:
        """Write one ingest chunk decided by ``merge.versions.IngestPlan``: raw items,
        articles, their text, quarantine entries and payload statuses, set-based."""
        if plan.quarantines:
            self.run_sql(
                "quarantine_many",
                payload_ids=[q[0] for q in plan.quarantines],
                item_keys=[q[1] for q in plan.quarantines],
                reasons=[q[2] for q in plan.quarantines],
            )
        if plan.raw_rows:
            self.conn.execute(self.q.create_raw_item_stage)
            self.copy_rows("copy_raw_item_stage", plan.raw_rows)
            self.conn.execute(self.q.insert_staged_raw_items)
            self.written["raw_item"] = self.written.get("raw_item", 0) + len(plan.raw_rows)
        new, changed = plan.article_rows()
        if new or changed:
            self.conn.execute(self.q.create_article_stage)
            lineage = 18  # index of the jsonb column in ARTICLE_COLUMNS
            self.copy_rows(
                "copy_article_stage",
                ((*r[:lineage], Jsonb(r[lineage] or []), *r[lineage + 1 :], None) for r in new),
            )
            self.copy_rows(
                "copy_article_stage",
                ((*r[:lineage], Jsonb(r[lineage] or []), *r[lineage + 1 :]) for r in changed),
            )
            if new:
                self.conn.execute(self.q.insert_staged_articles)
                self.written["article"] = self.written.get("article", 0) + len(new)
            if changed:
                self.conn.execute(self.q.update_staged_articles)
        ids = sorted(plan.texts)
        # only articles that existed before this chunk can have text to replace: a delete
        # by "= ANY(1,000 ids)" on a caption table whose statistics still say "empty" is a
        # sequential scan per chunk
        before = {row["id"] for key, row in plan.articles.items() if key in plan.existing}
        self.replace_text(
            [r for aid in ids for r in plan.texts[aid][0]],
            [r for aid in ids for r in plan.texts[aid][1]],
            [aid for aid in ids if aid in before],
        )
        if plan.marks:
            self.run_sql(
                "mark_payloads",
                ids=[m[0] for m in plan.marks],
                statuses=[m[1] for m in plan.marks],
                formats=[m[2] for m in plan.marks],
                counts=[m[3] for m in plan.marks],
            )

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
    ) -> list[int]:
        """Replace signatures and band rows; returns the ids that had a signature before."""
        ids = np.asarray(ids, dtype=np.int64)
        old = [
            r["object_id"]
            for r in self.rows(
                "delete_signatures_of", config_id=config_id, kind=kind, ids=ids.tolist()
            )
        ]
        n = len(ids)
        if n:
            le = np.ascontiguousarray(sigs.astype("<u4", copy=False)).view(np.uint8)
            self.copy_binary(
                "copy_signatures_binary",
                copybin.build(
                    [
                        ("int2", config_id),
                        ("bytes", kind.encode()),
                        ("int8", ids),
                        ("bytes", le.reshape(n, -1)),
                        ("int4", np.asarray(shingle_counts, dtype=np.int64)),
                    ],
                    n,
                ),
                n,
            )
        self.write_bands(config_id, kind, ids, bands, published, previous=old)
        return old

    def write_bands(
        self,
        config_id: int,
        kind: str,
        ids: Sequence[int],
        bands: np.ndarray,
        published: Sequence[datetime],
        previous: Sequence[int] | None = None,
    ) -> None:
        """Replace the band rows of these objects; ``ids`` may repeat (one row of bands per
        paragraph of an article). ``previous`` is accepted for callers that know which ids
        were signed before; band_key tells anyway."""
        ids = np.asarray(ids, dtype=np.int64)
        uniq = np.unique(ids)
        if uniq.size:
            self.run_sql("delete_band_keys_of", config_id=config_id, kind=kind, ids=uniq.tolist())
        n = len(ids)
        nb = bands.shape[1] if bands.ndim == 2 else 0
        if n == 0 or nb == 0:
            return
        keys = band_keys(bands, config_id, kind)
        flat = keys.reshape(-1)
        pub_us = copybin.timestamps_us(published)
        # rows in key order: each leaf of lsh_band_key_idx is then visited once per batch
        # instead of once per row
        order = np.argsort(flat, kind="stable")
        self.copy_binary(
            "copy_lsh_band",
            copybin.build(
                [
                    ("int8", flat[order]),
                    ("int8", np.repeat(ids, nb)[order]),
                    ("timestamptz", np.repeat(pub_us, nb)[order]),
                ],
                n * nb,
            ),
            n * nb,
        )
        # one band_key row per object with all its keys (several rows of bands for the
        # paragraphs of one article)
        by_obj = np.argsort(ids, kind="stable")
        sorted_ids = ids[by_obj]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        ends = np.r_[starts[1:], n]
        published = list(published)

        def rows():
            for s_, e_ in zip(starts.tolist(), ends.tolist(), strict=True):
                sel = by_obj[s_:e_]
                yield (
                    config_id,
                    kind,
                    int(sorted_ids[s_]),
                    "{" + ",".join(map(str, keys[sel].reshape(-1).tolist())) + "}",
                    published[int(sel[0])],
                )

        self.copy_rows("copy_band_keys", rows())

    def fill_band_hits(self, batch_id: int, config_id: int, window_days: int) -> int:
        """The batch's band keys into band_probe (analysed), then every key they share with
        history into band_hits; both are session temp tables the candidate queries read."""
        self.conn.execute(self.q.create_band_probe)
        self.conn.execute(self.q.truncate_band_probe)
        probes = self.run_sql("fill_band_probe", batch_id=batch_id, config_id=config_id)
        self.conn.execute(self.q.analyze_band_probe)
        self.conn.execute(self.q.create_band_hits)
        self.conn.execute(self.q.truncate_band_hits)
        history = max(
            (r["reltuples"] for r in self.rows("table_sizes", tables=["lsh_band"])), default=0
        )
        # An index probe costs ~50 times a row of a sequential scan when history is in the
        # OS cache (random_page_cost assumes disk): with fewer probes than history/50 the
        # probes win, but the planner sometimes hashes all of history for 100k probes.
        probe = 0 < probes * INDEX_PROBE_FACTOR < history
        if probe:
            self.conn.execute(self.q.prefer_index_probes)
        n = self.run_sql("fill_band_hits", window_days=window_days)
        if probe:
            self.conn.execute(self.q.allow_hash_joins)
        return n

    def analyze_written(self, share: float = 0.2) -> list[str]:
        """ANALYZE the tables this repository bulk-wrote more than ``share`` of their size
        into since they were last analysed. Autovacuum does the same a minute later; a
        batch planned on the statistics of an empty table in the meantime turns the
        candidate join's index lookups into scans. Counted here rather than read from
        pg_stat, whose counters lag behind the writer's own (even committed) writes."""
        if not self.written:
            return []
        sizes = {
            r["relname"]: r["reltuples"]
            for r in self.rows("table_sizes", tables=sorted(self.written))
        }
        done = []
        for table, n in sorted(self.written.items()):
            if table in sizes and n > share * max(sizes[table], 0) + 500:
                # an identifier cannot be a parameter: composed by psycopg, and only from
                # table names pg_class just confirmed
                self.conn.execute(
                    psycopg.sql.SQL("ANALYZE {}").format(psycopg.sql.Identifier(table))
                )
                done.append(table)
        for t in done:
            del self.written[t]
        return done

    def copy_binary(self, name: str, data: bytes, rows: int = 0) -> None:
        with self.conn.cursor() as cur, cur.copy(getattr(self.q, name)) as cp:
            cp.write(data)
        self._note_written(name, rows)

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

    def stage_stories(self, batch_id: int, stories: list[tuple[int, dict]]) -> None:
        """Many staged stories in one COPY (one INSERT each was a round trip per story)."""
        self.copy_rows(
            "copy_staged",
            ((batch_id, sid, Jsonb(p, dumps=dumps)) for sid, p in stories),
        )

    def write_stories(self, rows: list[tuple]) -> tuple[int, int]:
        """(id, is_new, canonical, headline, member_count, sources, has_kill,
        first_published, batch_id) rows: new ones inserted, existing ones updated when
        something changed. Returns (created, updated)."""
        if not rows:
            return 0, 0
        self.conn.execute(self.q.create_story_stage)
        self.copy_rows("copy_story_stage", rows)
        created = self.run_sql("insert_staged_stories")
        self.written["story"] = self.written.get("story", 0) + created
        updated = self.run_sql("update_staged_stories")
        return created, updated

    def write_members(self, rows: list[tuple]) -> None:
        """(story_id, article_id, role, similarity, reason) rows; a repeated pair keeps
        its last row, as one upsert per row did."""
        if not rows:
            return
        self.conn.execute(self.q.create_member_stage)
        self.copy_rows("copy_member_stage", ((i, *r) for i, r in enumerate(rows)))
        self.conn.execute(self.q.insert_staged_members)
        self.written["story_member"] = self.written.get("story_member", 0) + len(rows)

    def staged(self, batch_id: int) -> list[tuple[int, dict]]:
        return [(r["story_id"], r["payload"]) for r in self.rows("staged", batch_id=batch_id)]

    def table_counts(self) -> dict[str, int]:
        return {r["t"]: r["n"] for r in self.rows("table_counts")}


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)
