"""Whole runs: ingest every source, then dedup every pending article batch by batch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import DedupConfig, SourceConfig
from pipeline.stages import candidates, cluster_merge, publish, sign, verify
from pipeline.stages.batch import open_batch
from pipeline.stages.ingest import ingest_source
from pipeline.stages.record import Progress, Summary, no_progress
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")


def dedup(repo: Repository, config: DedupConfig, progress: Progress = no_progress) -> list[Summary]:
    """Every pending article through sign -> publish, one bounded batch at a time."""
    out: list[Summary] = []
    while True:
        opened = open_batch(repo, config)
        out.append(opened)
        if not opened.counts.get("articles"):
            return out
        key = opened.batch_key
        out.append(sign.run(repo, key, config))
        out.append(candidates.run(repo, key, config))
        out.append(verify.run(repo, key, config, progress=progress))
        out.append(cluster_merge.run(repo, key, config))
        out.append(publish.run(repo, key))


def inbox(
    repo: Repository,
    folder: Path,
    config: DedupConfig,
    names: Sequence[str] = ("reuters", "xinhua", "cgtn"),
    progress: Progress = no_progress,
) -> list[Summary]:
    """Ingest ``folder/<source>/`` for each source name, then dedup."""
    return sources(
        repo, [SourceConfig(name=n, folders=(str(folder / n),)) for n in names], config, progress
    )


def sources(
    repo: Repository,
    configured: Sequence[SourceConfig],
    config: DedupConfig,
    progress: Progress = no_progress,
) -> list[Summary]:
    """Ingest every source (its folders and feed URLs), then dedup. A source with nothing
    to look at (no existing folder, no URL) is skipped."""
    out = []
    for src in configured:
        if src.urls or any(Path(f).expanduser().exists() for f in src.folders):
            out.append(ingest_source(repo, src, progress=progress))
    out.extend(dedup(repo, config, progress))
    return out
