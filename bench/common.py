"""Helpers shared by the benchmarks: figures as ``name=value`` lines, CPU and memory probes,
scratch databases on a local PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
import uuid
from collections.abc import Iterator

ADMIN_URL = os.environ.get(
    "NEWSDEDUP_BENCH_ADMIN_URL",
    os.environ.get("NEWSDEDUP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


def figure(name: str, value, unit: str = "") -> None:
    """One figure, ``name=value``, flushed at once so a long run shows progress."""
    if isinstance(value, float):
        value = f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    print(f"{name}={value}" + (f"  # {unit}" if unit else ""), flush=True)


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


class PeakRSS:
    """Peak resident memory of this process and its children while the block runs.

    ru_maxrss is a lifetime high-water mark, so a fresh child process is the honest way to
    measure one run; inside one process this samples /proc every few milliseconds (psutil)
    and also reports the children (pool workers, a CLI subprocess) summed at each sample."""

    def __init__(self, interval: float = 0.02):
        import psutil

        self._p = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> int:
        total = self._p.memory_info().rss
        for c in self._p.children(recursive=True):
            with contextlib.suppress(Exception):
                total += c.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self._sample()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._sample())

    @property
    def mb(self) -> float:
        return self.peak / 2**20


def maxrss_mb() -> float:
    """Peak resident memory of this process image, MB.

    VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across fork and exec, so a
    child started by a big parent reports the parent's peak. VmHWM belongs to the address
    space and starts afresh at exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def cpu_timer() -> Iterator[dict]:
    out: dict = {}
    c0, w0 = time.process_time(), time.perf_counter()
    yield out
    out["cpu"] = time.process_time() - c0
    out["wall"] = time.perf_counter() - w0


def _with_db(url: str, name: str) -> str:
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


@contextlib.contextmanager
def scratch_db(prefix: str = "ndbench", keep: bool = False) -> Iterator[str]:
    """A uniquely named database, dropped afterwards (unless keep)."""
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_db(ADMIN_URL, name)
    finally:
        if not keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as c:
                c.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
