"""Parse and analyse payloads, possibly in worker processes: the CPU-heavy half of ingest.

Everything here is pure (bytes in, plain records out) so it can run in a process pool while
the main process writes the previous chunk to the database. On two cores ingest is bound
by this work (XML parsing, regex classification, tokenising), not by PostgreSQL.

``NEWSDEDUP_WORKERS`` sets the pool size (default: the CPU count; ``0`` or ``1`` parses in
the calling process). Small chunks are always parsed inline: starting workers costs more
than it saves, and tests stay single-process.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace

from pipeline.model import WireItem
from pipeline.sources.base import Problem
from pipeline.sources.collect import origin_name
from pipeline.sources.registry import parse_payload
from pipeline.text.article import analyse
from pipeline.text.captions import caption_tokens

log = logging.getLogger("newsdedup")

MIN_PARALLEL_BYTES = 1 << 20  # below this a pool's start-up and pickling are not worth it
TASK_BYTES = 256 << 10  # bytes of payload per task: amortises pickling, balances workers


@dataclass(frozen=True)
class ArticleText:
    """What ingest stores of an analysed article besides its paragraphs and captions."""

    headline: str
    headline_tag: str
    story_text: str
    attributions: tuple[str, ...]
    read_more: tuple[str, ...]
    lineage: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PreparedItem:
    # the item's metadata; its paragraphs travel once, analysed, in ``paragraphs`` (what
    # crosses the process boundary is pickled, so nothing is sent twice)
    item: WireItem
    sha: bytes  # content identity of this version (see content_sha)
    article: ArticleText
    paragraphs: tuple[tuple, ...]  # (ord, kind, text, norm)
    captions: tuple[tuple, ...]  # (ord, text, body, credit, tokens)
    has_text: bool = True  # the item carried paragraphs (a status-only version has none)


@dataclass(frozen=True)
class PreparedPayload:
    payload_id: int
    format: str
    items: tuple[PreparedItem, ...]
    problems: tuple[Problem, ...]
    links: tuple = ()  # package links (pipeline.stages.packages), rare
    link_versions: dict = field(default_factory=dict)


def content_sha(item: WireItem) -> bytes:
    """Identity of one version's content: the same item re-sent byte-differently but with
    the same text and status is the same version."""
    blob = json.dumps(
        [
            item.headline,
            list(item.paragraphs),
            list(item.captions),
            item.pub_status,
            item.version,
            item.version_created.isoformat() if item.version_created else None,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).digest()


def prepare_item(item: WireItem) -> PreparedItem:
    art = analyse(item)
    return PreparedItem(
        item=replace(item, paragraphs=(), captions=()),
        sha=content_sha(item),
        article=ArticleText(
            art.headline,
            art.headline_tag,
            art.story_text,
            art.attributions,
            art.read_more,
            art.lineage,
        ),
        paragraphs=tuple((p.ord, p.kind, p.text, p.norm) for p in art.paragraphs),
        captions=tuple(
            (cp.ord, cp.text, cp.body, cp.credit, " ".join(caption_tokens(cp.text)))
            for cp in art.captions
        ),
        has_text=bool(item.paragraphs),
    )


def prepare_payload(
    payload_id: int, body: bytes, source: str, origin: str, size: int | None = None
) -> PreparedPayload:
    pr = parse_payload(body, source, origin_name(origin), size=size)
    return PreparedPayload(
        payload_id=payload_id,
        format=pr.format,
        items=tuple(prepare_item(it) for it in pr.items),
        problems=tuple(pr.problems),
        links=tuple(pr.links),
        link_versions=dict(pr.link_versions),
    )


def _prepare_many(payloads: Sequence[tuple]) -> list[PreparedPayload]:
    return [prepare_payload(*p) for p in payloads]


# ------------------------------------------------------------------------------------------
# the pool
# ------------------------------------------------------------------------------------------

_pool: Executor | None = None
_pool_failed = False


def workers() -> int:
    env = os.environ.get("NEWSDEDUP_WORKERS")
    if env is not None and env.strip():
        return max(0, int(env))
    return os.cpu_count() or 1


def _get_pool() -> Executor | None:
    global _pool, _pool_failed
    n = workers()
    if n <= 1 or _pool_failed:
        return None
    if _pool is None:
        try:
            # fork: workers start at once with everything imported, and never re-run the
            # caller's __main__ (spawn/forkserver do, which breaks scripts and is slow).
            # They inherit the parent's database socket but never touch it, and leave
            # with os._exit, so no finaliser can close it under the parent.
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            _pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context(method))
            atexit.register(shutdown)
        except (OSError, ValueError, AssertionError) as e:  # e.g. inside a daemonic worker
            log.warning("no process pool (%s); parsing in this process", e)
            _pool_failed = True
            return None
    return _pool


def shutdown() -> None:
    global _pool
    if _pool is not None:
        with contextlib.suppress(Exception):
            _pool.shutdown(cancel_futures=True)
        _pool = None


class Pending:
    """Prepared payloads of one chunk, computed now (inline) or in the pool."""

    def __init__(self, futures: list[Future] | None, done: list[PreparedPayload] | None):
        self._futures = futures
        self._done = done

    def result(self) -> list[PreparedPayload]:
        if self._done is None:
            out: list[PreparedPayload] = []
            for f in self._futures or []:
                out.extend(f.result())
            self._done = out
        return self._done


def submit(payloads: Sequence[tuple[int, bytes, str, str]]) -> Pending:
    """Start preparing (payload id, body, source, origin) tuples; ``.result()`` waits."""
    total = sum(len(p[1]) for p in payloads)
    pool = _get_pool() if total >= MIN_PARALLEL_BYTES else None
    if pool is not None:
        try:
            futures = []
            task: list = []
            size = 0
            for p in payloads:
                task.append(p)
                size += len(p[1])
                if size >= TASK_BYTES:
                    futures.append(pool.submit(_prepare_many, task))
                    task, size = [], 0
            if task:
                futures.append(pool.submit(_prepare_many, task))
            return Pending(futures, None)
        except Exception as e:  # a broken pool must not stop ingest
            log.warning("process pool unusable (%s); parsing in this process", e)
            _disable_pool()
    return Pending(None, _prepare_many(payloads))


def run_tasks(fn, tasks: Iterable[tuple], parallel: bool = True, window: int = 4):
    """Yield ``fn(*task)`` for each task, in order; in the pool when ``parallel`` (at most
    ``window`` tasks in flight, and tasks taken from the iterable only as room frees up, so
    memory stays bounded), else inline. ``fn`` must be a module-level function (it is
    pickled by name)."""
    pool = _get_pool() if parallel else None
    if pool is None:
        for t in tasks:
            yield fn(*t)
        return
    it = iter(tasks)
    futures: list[Future] = []
    exhausted = False
    while True:
        while not exhausted and len(futures) < window:
            t = next(it, None)
            if t is None:
                exhausted = True
            else:
                futures.append(pool.submit(fn, *t))
        if not futures:
            return
        yield futures.pop(0).result()


def _disable_pool() -> None:
    global _pool_failed
    _pool_failed = True
    shutdown()
