"""Stage summaries and the run table: every stage records what it did, and whether it
failed, with its counts and duration, whether it succeeded or not.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pipeline.store.store import Store

log = logging.getLogger("newsdedup")


Progress = Callable[[str, int, int], None]


@dataclass
class Summary:
    """What one stage did: its counts (JSON-safe) and how long it took."""

    stage: str
    batch_key: str | None = None
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0


def no_progress(stage: str, done: int, total: int) -> None:
    return None


@contextlib.contextmanager
def recorded(store: Store, stage: str, batch_key: str | None) -> Iterator[Summary]:
    """Run a stage's block as one row of the run table; the block fills in the counts."""
    summary = Summary(stage=stage, batch_key=batch_key)
    run_id = store.runs.start(stage, batch_key)
    t0 = time.perf_counter()
    try:
        yield summary
    except BaseException as e:
        summary.seconds = time.perf_counter() - t0
        with contextlib.suppress(Exception):
            store.rollback()
        store.runs.finish(
            run_id,
            "failed",
            summary.counts,
            summary.seconds,
            f"{type(e).__name__}: {e}".splitlines()[0][:500],
        )
        raise
    summary.seconds = time.perf_counter() - t0
    store.runs.finish(run_id, "ok", summary.counts, summary.seconds)
    log.info("%s %s: %s in %.2fs", stage, batch_key or "", summary.counts, summary.seconds)


def bump(counts: dict, key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n
