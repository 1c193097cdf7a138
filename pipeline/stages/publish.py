"""The publish stage: apply the layout cluster_merge staged, in one transaction, so readers
see every story a batch touches change at once."""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.model import Batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.store import Store


def run(store: Store, batch: Batch, config: DedupConfig | None = None) -> Summary:
    """Apply the staged layout in one transaction: stories, members, provenance, captions.
    (``config`` is unused: the layout was decided under the batch's configuration.)"""
    with recorded(store, "publish", batch.key) as s:
        if store.batches.get(batch.key).state == "published":  # as of now, not of ``batch``
            s.counts.update(already_published=True)
            return s
        with store.transaction():
            layout = store.stories.staged(batch.id)
            created, updated, members = store.stories.publish(batch.id, layout)
            store.batches.set_state(batch.id, "published")
        store.analyze_written()
        s.counts.update(
            stories_created=created,
            stories_updated=updated,
            members=members,
            absorbed=len(layout.absorbed),
        )
        return s
