"""LSH's part of the store: the texts to sign, MinHash signatures, LSH band keys, and the
candidate pairs that one join of a batch's keys against history proposes.

Band keys arrive computed (``pipeline.dedup.bands.band_keys``); the store only lays them
out for COPY and for the band_key rows that let an object's keys be replaced later.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime

import numpy as np
import psycopg

from pipeline.store import copybin
from pipeline.store.session import Part

# A key looked up in lsh_band's index costs ~50 times a row of a sequential scan when
# history is in the OS cache (random_page_cost assumes disk): with fewer keys than
# history/50 the lookups win, but the planner sometimes hashes all of history for 100k
# keys, so the stage chooses. Measured with one index probe per key; the lookups now walk
# the index once for all keys (fill_band_hits_by_keys), cheaper still, so the choice errs
# toward the scan.
INDEX_PROBE_FACTOR = 50


# A batch writing at least this many band rows, and at least as many as lsh_band holds,
# drops lsh_band_key_idx and builds it again after its rows are in (``band_writes``).
# Measured on 1.8M rows in key order: 4.7 s of backend CPU and 260 MB of WAL inserting into
# the index, 2.7 s and 180 MB loading without it and building it once. Against a larger
# history the rebuild would sort all of it for a few new rows: those go in row by row.
BULK_BAND_ROWS = 100_000

# lsh_band_recent holds at most about 1/FOLD_SHARE of lsh_band before it is folded in. A
# fold visits each leaf of the large index about once, so its cost grows with history, and
# folding after a fixed share of it keeps that cost per batch row flat. The share also
# bounds recent's own index, whose leaves every small batch writes into: a sixteenth of a
# million articles' rows is some 10,000 leaves against the large index's 160,000. A batch
# whose rows alone are as many goes straight into lsh_band: holding it back saves nothing.
FOLD_SHARE = 16


class Lsh(Part):
    FILE = "lsh"

    # where write_bands puts band rows: into lsh_band_recent inside ``band_writes`` for a
    # batch small beside history, else into lsh_band
    _recent = False

    # --- what to sign --------------------------------------------------------------------

    def batch_texts(self, batch_id: int, shard: int, shards: int) -> list[dict]:
        """id, story_text, headline, published_at of one shard's articles with text."""
        return self._rows("batch_texts", batch_id=batch_id, shard=shard, shards=shards)

    def batch_paragraphs(self, batch_id: int, shard: int, shards: int) -> list[dict]:
        """article_id, norm, published_at of one shard's body paragraphs."""
        return self._rows("batch_paragraph_norms", batch_id=batch_id, shard=shard, shards=shards)

    def batch_captions(self, batch_id: int, shard: int, shards: int) -> list[dict]:
        """id, norm, published_at of one shard's captions."""
        return self._rows("batch_captions", batch_id=batch_id, shard=shard, shards=shards)

    def unsigned_articles(self, config_id: int, after: int, limit: int, **page) -> list[dict]:
        """Like batch_texts, for the articles after id ``after`` that have no signature
        under the configuration (``page``: shard, shards, since, until)."""
        return self._rows(
            "unsigned_articles", config_id=config_id, after=after, limit=limit, **page
        )

    def paragraphs_of(self, article_ids: list[int]) -> list[dict]:
        """Like batch_paragraphs, for these articles."""
        return self._rows("paragraph_norms_of", ids=article_ids)

    def unsigned_captions(self, config_id: int, after: int, limit: int, **page) -> list[dict]:
        return self._rows(
            "unsigned_captions", config_id=config_id, after=after, limit=limit, **page
        )

    # --- signatures and band keys --------------------------------------------------------

    def write_signatures(
        self,
        config_id: int,
        kind: str,
        ids: Sequence[int],
        sigs: np.ndarray,
        shingle_counts: Sequence[int],
        keys: np.ndarray,
        published: Sequence[datetime],
    ) -> None:
        """Replace the signatures and band keys of these objects."""
        ids = np.asarray(ids, dtype=np.int64)
        self._rows("delete_signatures_of", config_id=config_id, kind=kind, ids=ids.tolist())
        n = len(ids)
        if n:
            le = np.ascontiguousarray(sigs.astype("<u4", copy=False)).view(np.uint8)
            self._copy_binary(
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
        self.write_bands(config_id, kind, ids, keys, published)

    def write_bands(
        self,
        config_id: int,
        kind: str,
        ids: Sequence[int],
        keys: np.ndarray,
        published: Sequence[datetime],
    ) -> None:
        """Replace the band keys of these objects: (n, bands) ``keys``, one row per id;
        ``ids`` may repeat (one row of keys per paragraph of an article)."""
        ids = np.asarray(ids, dtype=np.int64)
        uniq = np.unique(ids)
        if uniq.size:
            self._run("delete_band_keys_of", config_id=config_id, kind=kind, ids=uniq.tolist())
        n = len(ids)
        nb = keys.shape[1] if keys.ndim == 2 else 0
        if n == 0 or nb == 0:
            return
        flat = keys.reshape(-1)
        pub_us = copybin.timestamps_us(published)
        # rows in key order: each leaf of lsh_band_key_idx is then visited once per batch
        # instead of once per row
        order = np.argsort(flat, kind="stable")
        rows = copybin.build(
            [
                ("int8", flat[order]),
                ("int8", np.repeat(ids, nb)[order]),
                ("timestamptz", np.repeat(pub_us, nb)[order]),
            ],
            n * nb,
        )
        if self._recent:
            self._copy_binary("copy_lsh_band_recent", rows, n * nb)
        else:
            self._copy_binary("copy_lsh_band", rows, n * nb)
        # one band_key row per object with all its keys (several rows of keys for the
        # paragraphs of one article, in their order), in one binary COPY: objects with the
        # same number of key rows share an array width
        by_obj = np.argsort(ids, kind="stable")
        sorted_ids = ids[by_obj]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        counts = np.diff(np.r_[starts, n])
        parts = []
        for m in np.unique(counts).tolist():
            first = starts[counts == m]
            rows = by_obj[first[:, None] + np.arange(m)]  # (objects, m) rows of keys
            parts.append(
                copybin.build(
                    [
                        ("int2", config_id),
                        ("bytes", kind.encode()),
                        ("int8", sorted_ids[first]),
                        ("bytes", copybin.int8_arrays(keys[rows].reshape(len(first), m * nb))),
                        ("timestamptz", pub_us[by_obj[first]]),
                    ],
                    len(first),
                )
            )
        self._copy_binary("copy_band_keys_binary", copybin.concat(parts), len(starts))

    @contextlib.contextmanager
    def band_writes(self, new_rows: int) -> Iterator[str]:
        """Inside a transaction, around writing about ``new_rows`` band rows; yields where
        they go:

        * ``rebuild``: many rows and history no larger. lsh_band's key index is dropped
          first and built once at the end; it is back before the transaction commits, so
          nothing outside it ever sees lsh_band without its index. Meanwhile a re-signed
          object's old rows are found by a scan of lsh_band, which is then small.
        * ``recent``: a batch small beside history (FOLD_SHARE), into lsh_band_recent,
          whose small index takes random keys cheaply; ``fold`` moves them on.
        * ``history``: any other batch, straight into lsh_band, row by row.
        """
        history = self._one("lsh_band_rows")["n"]
        if new_rows >= BULK_BAND_ROWS and history <= new_rows:
            self._exec("lock_lsh_band")
            self._exec("drop_lsh_band_index")
            yield "rebuild"
            self._exec("create_lsh_band_index")
            return
        if new_rows * FOLD_SHARE >= history:
            yield "history"
            return
        self._recent = True
        try:
            yield "recent"
        finally:
            self._recent = False

    def fold_due(self) -> bool:
        """Whether lsh_band_recent has grown to 1/FOLD_SHARE of lsh_band."""
        recent = self._one("lsh_band_recent_rows")["n"]
        return recent > 0 and recent * FOLD_SHARE >= self._one("lsh_band_rows")["n"]

    def fold(self, force: bool = False) -> int | None:
        """Inside a transaction of its own, after the writers' commits: move
        lsh_band_recent's rows into lsh_band in key order, if due (or ``force``); returns
        how many moved, or None when another transaction holds the table. A fold is never
        urgent, so it gives way instead of queueing: queued, it would hold up every
        later reader and writer of the table, and a writer still inside its transaction
        would wait for it while it waits for that writer. A later batch's sign folds."""
        if not force and not self.fold_due():
            return 0  # most batches: without taking the lock
        try:
            with self.conn.transaction():  # a savepoint: a busy table spoils nothing
                self._exec("lock_lsh_band_recent")
        except psycopg.errors.LockNotAvailable:
            return None
        if not force and not self.fold_due():
            return 0  # another shard folded first
        moved = self._run("fold_lsh_band_recent")
        self._exec("truncate_lsh_band_recent")
        return moved

    # --- candidates ----------------------------------------------------------------------

    def find_candidates(
        self,
        batch_id: int,
        config_id: int,
        window_days: int,
        para_max_df: int,
        slot_window_hours: float,
    ) -> dict[str, int]:
        """Replace the batch's candidate pairs: its band keys joined with history inside the
        time window (slot keys inside ``slot_window_hours``). Returns the number of pairs
        per kind (story, caption)."""
        for out_kind in ("story", "caption"):
            self._run("delete_candidates", batch_id=batch_id, out_kind=out_kind)
        self._fill_band_hits(batch_id, config_id, window_days, slot_window_hours)
        for kind in ("story", "lead", "slots"):
            self._run(
                "insert_article_candidates",
                batch_id=batch_id,
                config_id=config_id,
                kind=kind,
                window_days=window_days,
            )
        self._run(
            "insert_paragraph_candidates",
            batch_id=batch_id,
            config_id=config_id,
            window_days=window_days,
            max_df=para_max_df,
        )
        self._run(
            "insert_caption_candidates",
            batch_id=batch_id,
            config_id=config_id,
            window_days=window_days,
        )
        return {r["kind"]: r["n"] for r in self._rows("count_candidates", batch_id=batch_id)}

    def _fill_band_hits(
        self, batch_id: int, config_id: int, window_days: int, slot_window_hours: float
    ) -> int:
        """The batch's band keys into band_probe (analysed), then every key they share with
        history into band_hits; both are session temp tables the candidate queries read."""
        self._exec("create_band_probe")
        self._exec("truncate_band_probe")
        probes = self._run("fill_band_probe", batch_id=batch_id, config_id=config_id)
        self._exec("analyze_band_probe")
        self._exec("create_band_hits")
        self._exec("truncate_band_hits")
        history = max(self.session.table_sizes(["lsh_band"]).values(), default=0)
        window = {"window_days": window_days, "slot_window_hours": slot_window_hours}
        if 0 < probes * INDEX_PROBE_FACTOR < history:
            return self._run("fill_band_hits_by_keys", **window)
        return self._run("fill_band_hits", **window)

    def candidate_pairs(self, batch_id: int, kind: str, shard: int, shards: int) -> list:
        """(a, b) candidate pairs of one kind (story, caption) in one shard of the batch."""
        rows = self._rows(
            "shard_candidates", batch_id=batch_id, kind=kind, shard=shard, shards=shards
        )
        return [(r["a"], r["b"]) for r in rows]
