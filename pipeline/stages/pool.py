"""The worker processes CPU-bound work runs in: parsing payloads (ingest) and deciding
candidate pairs (verify).

``NEWSDEDUP_WORKERS`` sets the pool size (default: the CPU count; inside a scheduler's
task at most TASK_WORKERS, see :func:`share_with_other_tasks`; ``0`` or ``1`` works in the
calling process). Small chunks are always done inline: starting workers costs more
than it saves, and tests stay single-process. A whole run (``stages.run``) shuts the pool
down between stages, so workers live only through the stage that uses them; while they
live, the objects they inherited are frozen (``_freeze``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from pipeline.dedup import minhash

log = logging.getLogger("newsdedup")

MIN_PARALLEL_BYTES = 1 << 20  # below this a pool's start-up and pickling are not worth it
TASK_BYTES = 256 << 10  # bytes of input per task: amortises pickling, balances workers


# A scheduler runs tasks side by side (Airflow: up to its parallelism), so a task that took
# every CPU for its own workers would oversubscribe the machine that many times over.
TASK_WORKERS = 2

_pool: Executor | None = None
_pool_failed = False
_default_workers: int | None = None


def min_parallel_bytes() -> int:
    """Input below this is worked on inline (``NEWSDEDUP_POOL_MIN_BYTES`` overrides)."""
    env = os.environ.get("NEWSDEDUP_POOL_MIN_BYTES")
    if env is not None and env.strip():
        return max(0, int(env))
    return MIN_PARALLEL_BYTES


def share_with_other_tasks() -> None:
    """This process is one task among others running at once: without
    ``NEWSDEDUP_WORKERS``, its pool gets at most TASK_WORKERS workers, not every CPU."""
    global _default_workers
    _default_workers = min(os.cpu_count() or 1, TASK_WORKERS)


def workers() -> int:
    env = os.environ.get("NEWSDEDUP_WORKERS")
    if env is not None and env.strip():
        return max(0, int(env))
    if _default_workers is not None:
        return _default_workers
    return os.cpu_count() or 1


def _get_pool() -> Executor | None:
    global _pool, _pool_failed
    n = workers()
    if n <= 1 or _pool_failed:
        return None
    if _pool is None:
        # workers inherit the parent's loaded MinHash kernels instead of each loading them
        # (or, on a cold cache, each compiling them)
        minhash.warm_up()
        _freeze()
        try:
            # fork: workers start at once with everything imported, and never re-run the
            # caller's __main__ (spawn/forkserver do, which breaks scripts and is slow).
            # They close the database sockets they inherit (_worker_start) and leave with
            # os._exit, so no finaliser can touch the parent's connection.
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            _pool = ProcessPoolExecutor(
                n,
                mp_context=multiprocessing.get_context(method),
                initializer=_worker_start,
                # the kernel signals a child when the *thread* that forked it ends: only
                # a pool made by the main thread can tie its workers' lives to it
                initargs=(os.getpid(), threading.current_thread() is threading.main_thread()),
            )
            atexit.register(shutdown)
        except (OSError, ValueError, AssertionError) as e:  # e.g. inside a daemonic worker
            log.warning("no process pool (%s); parsing in this process", e)
            _thaw()
            _pool_failed = True
            return None
    return _pool


_frozen = False


def _freeze() -> None:
    """Before the workers fork. They share the caller's heap until they write to it, and a
    collection in a worker writes the gc header of every object it inherited, so each
    worker soon held a private copy of most of that heap. Frozen, the inherited objects
    stay out of the workers' collections and their pages stay shared: at 100k articles,
    ~70 MB less for the verify pool. Left alone when something else froze first (a
    scheduler that forks its tasks does): thawing would thaw its objects too."""
    global _frozen
    if gc.get_freeze_count() == 0:
        gc.freeze()
        _frozen = True


def _thaw() -> None:
    """When the pool is let go: the caller's objects are collected as before."""
    global _frozen
    if _frozen:
        gc.unfreeze()
        _frozen = False


PR_SET_PDEATHSIG = 1


def _worker_start(parent: int, tie_to_parent: bool) -> None:
    """First thing in a worker: die with the parent, and let go of what it inherited.

    A killed run (kill -9, an OOM kill, a scheduler's timeout) must not leave workers
    holding its database socket (the server then keeps its transaction, and its locks,
    open) or its stdout (a reader of the run's pipe never sees end-of-file)."""
    if tie_to_parent and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    _drop_inherited()


def _drop_inherited() -> None:
    """Close inherited sockets (database connections: workers never use them) and point
    stdout at /dev/null. Pipes stay: they are how the pool talks to the worker."""
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            with contextlib.suppress(OSError):
                if fd > 2 and stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.close(fd)
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)


def shutdown() -> None:
    global _pool
    if _pool is not None:
        with contextlib.suppress(Exception):
            _pool.shutdown(cancel_futures=True)
        _pool = None
        _thaw()


class Pending:
    """The results of work started by ``submit``: computed already (inline) or in the pool."""

    def __init__(self, futures: list[Future] | None, done: list | None):
        self._futures = futures
        self._done = done

    def result(self) -> list:
        if self._done is None:
            out: list = []
            for f in self._futures or []:
                out.extend(f.result())
            self._done = out
        return self._done


def submit(fn: Callable[[list], list], items: Sequence, sizes: Sequence[int]) -> Pending:
    """Start ``fn`` over ``items`` (each ``sizes[i]`` bytes of input), cut into tasks of
    about TASK_BYTES: in the pool when there are MIN_PARALLEL_BYTES or more, else at once
    in this process. ``.result()`` waits and gives ``fn``'s results concatenated in order.
    ``fn`` takes and returns a list and is a module-level function (pickled by name)."""
    pool = _get_pool() if sum(sizes) >= min_parallel_bytes() else None
    if pool is not None:
        try:
            futures = []
            task: list = []
            size = 0
            for item, n in zip(items, sizes, strict=True):
                task.append(item)
                size += n
                if size >= TASK_BYTES:
                    futures.append(pool.submit(fn, task))
                    task, size = [], 0
            if task:
                futures.append(pool.submit(fn, task))
            return Pending(futures, None)
        except Exception as e:  # a broken pool must not stop the work
            log.warning("process pool unusable (%s); working in this process", e)
            _disable_pool()
    return Pending(None, fn(list(items)))


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
