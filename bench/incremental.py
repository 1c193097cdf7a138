"""Target 3: a batch of 1,000 new articles against 100k and 1M articles of history.

History is built in two parts:

* a real part: a few thousand generated articles through the real pipeline (``newsdedup
  run``), so the new batch has genuine duplicates, versions and stories to join;
* a bulk part, loaded by COPY from generated data up to the history size: article,
  signature (story, and lead when it is on), lsh_band (story keys, lead keys when on, four
  paragraphs' keys: 58 per article with the default configuration), story and
  story_member rows, spread over the same
  dates. Their band hashes come from random signatures, so they are never candidates, but
  every index the stages use holds them: the lookups run against an index of the full size.
  Building 1M articles of history through the pipeline would take longer than the bench.
  The band rows of the latest 1/(2 x FOLD_SHARE) of these articles go into
  lsh_band_recent, where small batches leave theirs until a fold: half full, its average.

Then the new batch is ingested (not timed) and ``open_batch`` + sign -> publish run in a
fresh child process, whose stage times and peak RSS are reported: memory must not grow
with history, since history stays in PostgreSQL. Last, untimed in the batch's figure, the
child folds lsh_band_recent into lsh_band, as sign does once recent holds 1/FOLD_SHARE of
history; the fold's time is printed, and its share per batch (the fold's time per row
times the batch's rows: a fold of twice the rows visits no more leaves, so this errs high).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
import psycopg

from bench.common import figure, maxrss_mb, note, scratch_db
from bench.make_corpus import START, inbox_pair
from pipeline.dedup.bands import band_keys
from pipeline.store import copybin
from pipeline.store.lsh import FOLD_SHARE

REAL_HISTORY = 5000
BATCH = 1000
CHUNK = 100_000
DAYS = 40
STAGES = ("open_batch", "sign", "candidates", "verify", "cluster_merge", "publish")


def _text_copy(cur, sql: str, lines) -> None:
    with cur.copy(sql) as cp:
        buf = []
        for ln in lines:
            buf.append(ln)
            if len(buf) >= 20000:
                cp.write("".join(buf))
                buf = []
        if buf:
            cp.write("".join(buf))


def load_synthetic(url: str, n: int, config_id: int, seed: int = 3) -> float:
    """Bulk-load ``n`` synthetic articles of history; returns seconds taken."""
    from pipeline.config import DedupConfig

    cfg = DedupConfig()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as c:
        cur = c.cursor()
        # loader only: skip FK triggers (the rows are consistent by construction) and
        # build the band indexes once at the end, as a restore would
        with contextlib.suppress(psycopg.Error):
            cur.execute("SET session_replication_role = replica")
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET synchronous_commit = off")
        idx = cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'lsh_band'"
        ).fetchall()
        for name, _ in idx:
            cur.execute(psycopg.sql.SQL("DROP INDEX {}").format(psycopg.sql.Identifier(name)))
        raw_id = cur.execute("SELECT min(id) FROM raw_item").fetchone()[0]
        base = (
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('article', 'id'), "
                "(SELECT max(id) FROM article) + %s)",
                (n,),
            ).fetchone()[0]
            - n
        )
        sbase = (
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('story', 'id'), "
                "(SELECT coalesce(max(id), 0) FROM story) + %s)",
                (n,),
            ).fetchone()[0]
            - n
        )
        recent_from = base + n - n // (2 * FOLD_SHARE)  # ids above it: recent rows
        span_us = DAYS * 86400 * 10**6
        start_us = int((START - copybin.PG_EPOCH).total_seconds() * 10**6)
        for lo in range(0, n, CHUNK):
            m = min(CHUNK, n - lo)
            ids = np.arange(base + lo + 1, base + lo + m + 1, dtype=np.int64)
            pub_us = start_us + rng.integers(0, span_us, m)
            pub = [datetime.fromtimestamp(946684800 + int(u) / 1e6, UTC) for u in pub_us]
            _text_copy(
                cur,
                "COPY article (id, item_key, source, raw_item_id, format, published_at, "
                "pub_status, headline, story_text, word_count, content_sha256, pending) "
                "FROM STDIN",
                (
                    f"{i}\tsynthetic:{i}\tsynthetic\t{raw_id}\tsynthetic\t{p.isoformat()}\t"
                    f"usable\tsynthetic {i}\tsynthetic text {i}\t3\t\\\\x00\tf\n"
                    for i, p in zip(ids.tolist(), pub, strict=True)
                ),
            )
            for kind in ("story", "lead") if cfg.lead_words else ("story",):
                sig = rng.integers(0, 2**32, (m, cfg.num_perm), dtype=np.uint32)
                with cur.copy(
                    "COPY signature (config_id, kind, object_id, minhash, shingles) "
                    "FROM STDIN (FORMAT binary)"
                ) as cp:
                    cp.write(
                        copybin.build(
                            [
                                ("int2", config_id),
                                ("bytes", kind.encode()),
                                ("int8", ids),
                                ("bytes", sig.astype("<u4").view(np.uint8).reshape(m, -1)),
                                ("int4", 300),
                            ],
                            m,
                        )
                    )
            # the keys of random signatures: the same row count and key spread as the
            # pipeline writes (story bands, lead bands when on, four paragraphs of para bands)
            for kind, nb, reps in (
                ("story", cfg.bands, 1),
                ("lead", cfg.lead_bands if cfg.lead_words else 0, 1),
                ("para", cfg.para_bands, 4),
            ):
                if not nb:
                    continue
                hashes = rng.integers(-(2**63), 2**63 - 1, (m * reps, nb))
                keys = band_keys(hashes, config_id, kind).reshape(-1)
                obj = np.repeat(np.repeat(ids, reps), nb)
                pub = np.repeat(np.repeat(pub_us, reps), nb)
                for table, rows in (
                    ("lsh_band", obj <= recent_from),
                    ("lsh_band_recent", obj > recent_from),
                ):
                    order = np.flatnonzero(rows)[np.argsort(keys[rows])]
                    if not order.size:
                        continue
                    with cur.copy(
                        f"COPY {table} (key, object_id, published_at) FROM STDIN (FORMAT binary)"
                    ) as cp:
                        cp.write(
                            copybin.build(
                                [
                                    ("int8", keys[order]),
                                    ("int8", obj[order]),
                                    ("timestamptz", pub[order]),
                                ],
                                order.size,
                            )
                        )
            sids = np.arange(sbase + lo + 1, sbase + lo + m + 1)
            _text_copy(
                cur,
                "COPY story (id, canonical_article_id, headline, member_count, sources) FROM STDIN",
                (
                    f"{s}\t{a}\tsynthetic {a}\t1\t{{synthetic}}\n"
                    for s, a in zip(sids.tolist(), ids.tolist(), strict=True)
                ),
            )
            _text_copy(
                cur,
                "COPY story_member (story_id, article_id, role, similarity, reason) FROM STDIN",
                (
                    f"{s}\t{a}\tcanonical\t1\tsynthetic\n"
                    for s, a in zip(sids.tolist(), ids.tolist(), strict=True)
                ),
            )
        for _, ddl in idx:
            cur.execute(ddl)
        cur.execute("ANALYZE")
    return time.perf_counter() - t0


def child(url: str, inbox: str) -> None:
    """Ingest the new batch (untimed), then time open_batch + sign -> publish."""
    from pathlib import Path

    from pipeline.config import DedupConfig
    from pipeline.sources.collect import list_files
    from pipeline.stages import batch, candidates, cluster_merge, ingest, publish, sign, verify
    from pipeline.store.store import Store

    cfg = DedupConfig()
    out = {}
    with Store.open(url) as store:
        for s in ("reuters", "xinhua", "cgtn"):
            ingest.ingest_files(store, s, list_files(Path(inbox) / s))
        # numba compiles (or loads its cache) once per process: not part of a batch's cost
        # in a long-running worker, so warm it up before the clock starts
        from pipeline.dedup import minhash

        minhash.warm_up()

        def recent_rows() -> int:
            return store.conn.execute("SELECT count(*) AS n FROM lsh_band_recent").fetchone()["n"]

        recent0 = recent_rows()
        rss0 = maxrss_mb()
        t0 = time.perf_counter()
        b = batch.load(store, batch.open_batch(store, cfg).batch_key)
        out["articles"] = b.articles
        for stage in (sign, candidates, verify, cluster_merge):
            name = stage.__name__.rsplit(".", 1)[1]
            out[name] = stage.run(store, b, cfg).seconds
            out[f"rss_after_{name}_mb"] = maxrss_mb()
        out["publish"] = publish.run(store, b).seconds
        out["total"] = time.perf_counter() - t0
        out["rss_before_mb"] = rss0
        out["peak_rss_mb"] = maxrss_mb()
        batch_rows = recent_rows() - recent0
        t1 = time.perf_counter()
        with store.transaction():
            out["fold_rows"] = store.lsh.fold(force=True) or 0  # None: busy, never here
        out["fold"] = time.perf_counter() - t1
        out["batch_recent_rows"] = batch_rows
    print(json.dumps(out))


def run(history: int, label: str) -> dict:
    old, new = inbox_pair(REAL_HISTORY, BATCH)
    with scratch_db("ndbench_inc") as url:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "run",
                "--inbox",
                str(old),
                "--database-url",
                url,
            ],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        with psycopg.connect(url) as c:
            config_id = c.execute("SELECT min(id) FROM dedup_config").fetchone()[0]
            real = c.execute("SELECT count(*) FROM article").fetchone()[0]
        load_s = load_synthetic(url, max(0, history - real), config_id)
        with psycopg.connect(url) as c:
            bands = c.execute(
                "SELECT (SELECT count(*) FROM lsh_band) + (SELECT count(*) FROM lsh_band_recent)"
            ).fetchone()[0]
        got = subprocess.run(
            [sys.executable, "-m", "bench.incremental", "--child", url, str(new)],
            check=True,
            capture_output=True,
            text=True,
        )
        res = json.loads(got.stdout.strip().splitlines()[-1])
    out = {
        f"incremental_1k_vs_{label}_s": res["total"],
        f"incremental_{label}_batch_articles": res["articles"],
        f"incremental_{label}_peak_rss_mb": res["peak_rss_mb"],
        f"incremental_{label}_history_band_rows": bands,
        f"incremental_{label}_history_load_s": load_s,
    }
    for s in STAGES:
        if s in res:
            out[f"incremental_{label}_stage_{s}_s"] = res[s]
    # the batch's share of folds: its rows at the fold's cost per row
    per_batch = res["fold"] * res["batch_recent_rows"] / max(res["fold_rows"], 1)
    out[f"incremental_{label}_fold_rows"] = res["fold_rows"]
    out[f"incremental_{label}_fold_s"] = res["fold"]
    out[f"incremental_{label}_fold_per_batch_s"] = per_batch
    out[f"incremental_1k_vs_{label}_with_fold_s"] = res["total"] + per_batch
    out[f"incremental_{label}_rss_before_batch_mb"] = res["rss_before_mb"]
    for k, v in res.items():
        if k.startswith("rss_after_"):
            out[f"incremental_{label}_{k}"] = v
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--history", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--child", nargs=2, metavar=("URL", "INBOX"))
    a = ap.parse_args(argv)
    if a.child:
        child(*a.child)
        return
    for h in a.history:
        label = f"{h // 1_000_000}m" if h >= 1_000_000 else f"{h // 1000}k"
        note(f"incremental: {BATCH} new articles against {h} articles of history")
        for k, v in run(h, label).items():
            figure(k, v)


if __name__ == "__main__":
    main()
