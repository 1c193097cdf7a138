"""Whole runs: ingest every source, then dedup every pending article batch by batch."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from pipeline.config import DedupConfig, SourceConfig
from pipeline.stages import candidates, cluster_merge, heap, pool, publish, sign, verify
from pipeline.stages.batch import config_of, load, open_batch
from pipeline.stages.ingest import ingest_source
from pipeline.stages.record import Progress, Summary, no_progress
from pipeline.store.store import Store
from pipeline.text import memo


def dedup(store: Store, config: DedupConfig, progress: Progress = no_progress) -> list[Summary]:
    """Every pending article through sign -> publish, one bounded batch at a time. A batch
    is opened under ``config``; its stages run under the configuration it was opened with
    (a resumed batch may have been opened under another)."""
    out: list[Summary] = []
    # one whole run's batches at a time: a second run waits (saying for whom), then finds
    # the batches published and the articles no longer pending
    store.locks.hold("dedup", transaction=False)
    try:
        _settle()
        while True:
            opened = open_batch(store, config)
            out.append(opened)
            if not opened.counts.get("articles"):
                return out
            batch = load(store, opened.batch_key)
            own = config_of(store, batch)
            for step in (
                partial(sign.run, store, batch, own),
                partial(candidates.run, store, batch, own),
                partial(verify.run, store, batch, own, progress=progress),
                partial(cluster_merge.run, store, batch, own),
                partial(publish.run, store, batch),
            ):
                out.append(step())
                _settle()
    finally:
        store.locks.release("dedup")


def _settle() -> None:
    """Between stages: let the worker processes go (only ingest and verify use them, and a
    worker keeps its caches and its biggest task's heap until it exits, so the stages in
    between would carry them at their own peaks), forget this process's text caches
    (``pipeline.text.memo``) and hand freed memory back."""
    pool.shutdown()
    memo.forget()
    heap.give_back()


def inbox(
    store: Store,
    folder: Path,
    config: DedupConfig,
    names: Sequence[str] = ("reuters", "xinhua", "cgtn"),
    progress: Progress = no_progress,
) -> list[Summary]:
    """Ingest ``folder/<source>/`` for each source name, then dedup."""
    return sources(
        store, [SourceConfig(name=n, folders=(str(folder / n),)) for n in names], config, progress
    )


def sources(
    store: Store,
    configured: Sequence[SourceConfig],
    config: DedupConfig,
    progress: Progress = no_progress,
) -> list[Summary]:
    """Ingest every source (its folders and feed URLs), then dedup. A source with nothing
    to look at (no existing folder, no URL) is skipped."""
    out = []
    for src in configured:
        if src.urls or any(Path(f).expanduser().exists() for f in src.folders):
            out.append(ingest_source(store, src, progress=progress))
    out.extend(dedup(store, config, progress))
    return out
