"""Poison items: one article whose processing raises must not stop a batch. A dedup stage
runs its computation over the whole chunk as usual; only when it raises an error the data
caused does it look for the article(s) to blame, by halving the chunk and running the
halves again, quarantine them at that stage with the error as the reason, and go on with
the rest. Nothing is computed twice unless something failed, so a clean run is unchanged.

Errors of the circumstances are not poison and still fail the run: the database (a lost
connection, a lock or statement timeout), memory, the operating system, a dead worker
process, a user's mistake. A value the database refuses is the data's fault, and is
poison: SQLSTATE class 22 (a number out of range, an invalid byte sequence) and class 54
(a string too long for a search vector).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from pipeline.errors import UserError
from pipeline.store.connect import is_database_error, refused_value

log = logging.getLogger("newsdedup")

T = TypeVar("T")
R = TypeVar("R")

REASON_CHARS = 300


def is_poison(e: BaseException) -> bool:
    """An error the item's data caused, not the run's circumstances."""
    if not isinstance(e, Exception):
        return False
    if is_database_error(e):
        return refused_value(e)
    return not isinstance(e, (UserError, MemoryError, OSError, BrokenProcessPool))


def reason(stage: str, e: BaseException) -> str:
    """The one-line quarantine reason: the stage and the exception."""
    text = " ".join(str(e).split())
    line = f"{stage}: {type(e).__name__}" + (f": {text}" if text else "")
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 3] + "..."


def isolate(
    fn: Callable[[list[T]], R], items: Sequence[T], stage: str
) -> tuple[R, list[tuple[T, str]]]:
    """``fn(items)``, or, when it raises poison, ``fn`` of the items it does not fail on,
    and the items it fails on with their reasons. A failure no single item explains (only
    a combination fails) is raised as it is."""
    items = list(items)
    try:
        return fn(items), []
    except Exception as e:
        if not is_poison(e):
            raise
        first = e
    bad = _halve(fn, items, list(range(len(items))), first, stage)
    if not bad:
        raise first
    culprits = {i for i, _ in bad}
    for i, why in bad:
        log.warning("quarantined %r: %s", items[i], why)
    result = fn([x for i, x in enumerate(items) if i not in culprits])
    return result, [(items[i], why) for i, why in bad]


def _halve(fn, items: list, idx: list[int], err: Exception, stage: str) -> list[tuple[int, str]]:
    """The indices in ``idx`` (on which ``fn`` fails with ``err``) that fail on their own."""
    if len(idx) == 1:
        return [(idx[0], reason(stage, err))]
    mid = len(idx) // 2
    out: list[tuple[int, str]] = []
    for part in (idx[:mid], idx[mid:]):
        try:
            fn([items[i] for i in part])
        except Exception as e:
            if not is_poison(e):
                raise
            out += _halve(fn, items, part, e, stage)
    return out
