"""The candidates stage: one SQL join of the batch's band hashes against history."""

from __future__ import annotations

import logging

from pipeline.config import DedupConfig
from pipeline.stages.batch import load as _batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")


def run(repo: Repository, batch_key: str, config: DedupConfig) -> Summary:
    """Candidate pairs: the batch's band hashes joined with history in the time window."""
    b = _batch(repo, batch_key)
    with recorded(repo, "candidates", batch_key) as s, repo.transaction():
        repo.bulk_settings()
        for out_kind in ("story", "caption"):
            repo.run_sql("delete_candidates", batch_id=b["id"], out_kind=out_kind)
        repo.fill_band_hits(b["id"], b["config_id"], config.window_days)
        for kind in ("story", "lead"):
            repo.run_sql(
                "insert_article_candidates",
                batch_id=b["id"],
                config_id=b["config_id"],
                kind=kind,
                window_days=config.window_days,
            )
        repo.run_sql(
            "insert_paragraph_candidates",
            batch_id=b["id"],
            config_id=b["config_id"],
            window_days=config.window_days,
            max_df=config.para_max_df,
        )
        repo.run_sql(
            "insert_caption_candidates",
            batch_id=b["id"],
            config_id=b["config_id"],
            window_days=config.window_days,
        )
        repo.analyze_written()
        got = {r["kind"]: r["n"] for r in repo.rows("count_candidates", batch_id=b["id"])}
        s.counts.update(story_pairs=got.get("story", 0), caption_pairs=got.get("caption", 0))
        return s
