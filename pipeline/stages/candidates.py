"""The candidates stage: one SQL join of the batch's band keys against history inside the
time window. LSH is tuned for recall: candidates are proposals for verify, not verdicts."""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.model import Batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.store import Store


def run(store: Store, batch: Batch, config: DedupConfig) -> Summary:
    """Candidate pairs: the batch's band keys joined with history in the time window."""
    with recorded(store, "candidates", batch.key) as s, store.transaction():
        store.bulk_settings()
        got = store.lsh.find_candidates(
            batch.id, batch.config_id, config.window_days, config.para_max_df, config.resend_hours
        )
        store.analyze_written()
        s.counts.update(story_pairs=got.get("story", 0), caption_pairs=got.get("caption", 0))
        return s
