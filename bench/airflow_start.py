"""``make airflow`` as a newcomer starts it: seconds until it says it is ready, the memory
of everything it runs (summed RSS, at ready and at the peak), and how long the first dedup
DAG run that publishes stories takes.

    python -m bench.airflow_start [--timeout 600]

Starts ``python -m pipeline.local_airflow`` in a fresh AIRFLOW_HOME (a temporary folder)
on a free port with the sample inbox, its DAGs unpaused as by default; the ingest DAGs run
on their schedule, the dedup DAG on their assets. Memory counts every process of the
launcher's sessions and the embedded PostgreSQL it starts. Stops it with SIGINT (Ctrl-C) at
the end. Figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import figure, note

ROOT = Path(__file__).resolve().parents[1]


def _descendants(root: int) -> set[int]:
    parent: dict[int, int] = {}
    for d in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, todo = {root}, [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in found]
        found.update(kids)
        todo.extend(kids)
    return found


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Memory:
    """Summed RSS of the launcher's process tree and the embedded server, sampled."""

    def __init__(self, launcher: int, pgdata: Path):
        self.launcher = launcher
        self.pgdata = pgdata
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        pids = _descendants(self.launcher)
        with contextlib.suppress(OSError, ValueError, IndexError):
            postmaster = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            pids |= _descendants(postmaster)
        return sum(_rss(p) for p in pids)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            self._stop.wait(0.5)

    def start(self) -> Memory:
        self._t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._t.join()


def _call(base: str, path: str, token: str | None = None, body=None):
    req = urllib.request.Request(
        base + path,
        method="POST" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def _first_publishing_dedup_run(base: str, token: str) -> float | None:
    """Seconds of the first successful dedup run whose publish task ran (not skipped)."""
    runs = _call(base, "/api/v2/dags/newsdedup_dedup/dagRuns?order_by=start_date", token)
    for r in runs["dag_runs"]:
        if r["state"] != "success":
            continue
        ti = _call(
            base,
            f"/api/v2/dags/newsdedup_dedup/dagRuns/{urllib.request.quote(r['dag_run_id'])}"
            "/taskInstances/publish",
            token,
        )
        if ti["state"] == "success":
            from datetime import datetime

            start = datetime.fromisoformat(r["start_date"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(r["end_date"].replace("Z", "+00:00"))
            return (end - start).total_seconds()
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.airflow_start", description=__doc__)
    ap.add_argument("--timeout", type=float, default=600, help="give up after this (s)")
    args = ap.parse_args(argv)
    from pipeline.local_airflow import free_port

    home = Path(tempfile.mkdtemp(prefix="nd-af-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.pop("NEWSDEDUP_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "pipeline.local_airflow", "--home", str(home / "af")]
    cmd += ["--port", str(free_port())]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    mem = Memory(proc.pid, home / "af" / "data" / "pgdata").start()
    out: list[str] = []
    try:
        while True:
            line = proc.stdout.readline()
            if not line:
                note("make airflow exited before it was ready:\n" + "".join(out[-30:]))
                return 1
            out.append(line)
            if line.startswith("Ctrl-C stops everything"):
                break
        ready = time.monotonic() - t0
        text = "".join(out)
        base = re.search(r"Airflow is ready in \d+s: (http://\S+)", text).group(1)
        user, pw = re.search(r"log in as (\S+) / (\S+)", text).groups()
        figure("airflow_ready_seconds", ready, "s from the command to its ready message")
        figure("airflow_rss_at_ready_mb", round(mem.now() / 2**20), "MB, summed RSS")
        token = _call(base, "/auth/token", body={"username": user, "password": pw})["access_token"]
        took = None
        deadline = t0 + args.timeout
        while took is None and time.monotonic() < deadline:
            time.sleep(2)
            with contextlib.suppress(OSError, ValueError, KeyError):
                took = _first_publishing_dedup_run(base, token)
        if took is None:
            note("no dedup DAG run published stories in time")
        else:
            figure("airflow_first_dedup_run_seconds", took, "s, the first run that published")
        figure("airflow_rss_peak_mb", round(mem.peak / 2**20), "MB, summed RSS, start to here")
        return 0 if took is not None else 1
    finally:
        mem.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=180)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
