"""The publish stage: apply the layout cluster_merge staged, in one transaction, so readers
see every story a batch touches change at once."""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.model import Batch, Layout
from pipeline.stages import poison
from pipeline.stages.batch import config_of
from pipeline.stages.cluster_merge import layout_of
from pipeline.stages.record import Summary, recorded
from pipeline.store.store import Store


class _Trial(Exception):
    """Ends a trial publish, rolling it back, with the layout that went through."""


def run(store: Store, batch: Batch, config: DedupConfig | None = None) -> Summary:
    """Apply the staged layout in one transaction: stories, members, provenance, captions.
    When the database refuses what an article brings (a value too long or out of range),
    the articles without which the batch publishes are found, quarantined at this stage,
    and the layout made without them is published. (``config`` is unused: the layout is
    made under the batch's configuration.)"""
    with recorded(store, "publish", batch.key) as s:
        if store.batches.get(batch.key).state == "published":  # as of now, not of ``batch``
            s.counts.update(already_published=True)
            return s
        failed: list[tuple[int, str]] = []
        with store.transaction():
            layout = store.stories.staged(batch.id)
            try:
                with store.transaction():  # a savepoint: a refused write leaves the rest usable
                    created, updated, members = store.stories.publish(batch.id, layout)
            except Exception as e:
                if not poison.is_poison(e):
                    raise
                layout, failed = _without_poison(store, batch)
                created, updated, members = store.stories.publish(batch.id, layout)
            store.batches.set_state(batch.id, "published")
        store.analyze_written()
        s.counts.update(
            stories_created=created,
            stories_updated=updated,
            members=members,
            absorbed=len(layout.absorbed),
        )
        if failed:
            s.counts.update(quarantined=len(failed))
        return s


def _without_poison(store: Store, batch: Batch) -> tuple[Layout, list[tuple[int, str]]]:
    """The layout of the batch without the articles it cannot be published with (found by
    trial publishes of halves of the batch, each rolled back), and those articles with
    their reasons, quarantined and out of the batch. The new layout is staged too."""
    own = config_of(store, batch)
    batch_ids = store.batches.article_ids(batch.id)

    def trial(ids: list[int]) -> Layout:
        layout, _ = layout_of(store, batch, own, batch_ids, ids)
        try:
            with store.transaction():
                store.stories.publish(batch.id, layout)
                raise _Trial
        except _Trial:
            return layout

    layout, failed = poison.isolate(trial, batch_ids, "publish")
    store.batches.quarantine_articles(batch.id, "publish", failed)
    store.stories.clear_staged(batch.id)
    store.stories.stage(batch.id, layout)
    return layout, failed
