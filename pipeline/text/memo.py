"""Memory of pure text functions, kept for one stage.

Text work repeats itself inside a stage: a story's copies share paragraphs, a batch
shares its vocabulary. So the pure functions that read paragraphs and words remember
recent answers. Across stages that memory is only weight: entries made during a stage lie
among the stage's freed objects and keep the allocator from handing those pages back, so
a long run's process grew batch after batch. A whole run forgets between stages
(``pipeline.stages.run``), as it lets its worker processes go.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

_forgetters: list[Callable[[], None]] = []


def memo(maxsize: int) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)``, forgotten by ``forget``."""

    def wrap(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        _forgetters.append(cached.cache_clear)
        return cached  # type: ignore[return-value]

    return wrap


def remember(clear: Callable[[], None]) -> None:
    """Have ``forget`` also call ``clear`` (a cache kept by hand, e.g. a dict's clear)."""
    _forgetters.append(clear)


def forget() -> None:
    """Empty every cache made by ``memo`` or registered by ``remember``."""
    for clear in _forgetters:
        clear()
