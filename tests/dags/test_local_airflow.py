"""``make airflow`` (python -m pipeline.local_airflow) for real: it starts, prints a URL and
a login that work on the REST API, runs the DAGs, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("airflow", reason="the airflow extra is not installed")
pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def _call(base, path, token=None, body=None, method=None):
    req = urllib.request.Request(
        base + path,
        method=method or ("POST" if body is not None else "GET"),
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def _sessions() -> dict[int, int]:
    """pid -> session id of every process."""
    out = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            out[int(d.name)] = os.getsid(int(d.name))
        except (OSError, ValueError):
            continue
    return out


def _descendants(root: int) -> set[int]:
    parent = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            stat = (d / "stat").read_text()
            parent[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = set(), [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in found]
        found.update(kids)
        todo.extend(kids)
    return found


def test_make_airflow_starts_logs_in_runs_and_stops_everything(tmp_path):
    from pipeline.local_airflow import free_port

    home = tmp_path / "af"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.pop("NEWSDEDUP_DATABASE_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline.local_airflow",
            "--home",
            str(home),
            "--port",
            str(free_port()),
            "--unpause",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # our own Ctrl-C target, like a terminal's foreground job
    )
    lines: list[str] = []
    sids = {proc.pid}
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ctrl-C stops everything"):
                break
        out = "".join(lines)
        url = re.search(r"Airflow is ready: (http://127\.0\.0\.1:\d+)", out)
        login = re.search(r"log in as (\S+) / (\S+)", out)
        assert url and login, out
        base = url.group(1)
        token = _call(
            base, "/auth/token", body={"username": login.group(1), "password": login.group(2)}
        )["access_token"]
        dags = {d["dag_id"]: d for d in _call(base, "/api/v2/dags?limit=50", token)["dags"]}
        assert set(dags) >= {"newsdedup_ingest_reuters", "newsdedup_dedup", "newsdedup_maintenance"}
        assert not dags["newsdedup_ingest_reuters"]["is_paused"]
        assert _call(base, "/api/v2/importErrors", token)["total_entries"] == 0
        run = _call(
            base,
            "/api/v2/dags/newsdedup_ingest_reuters/dagRuns",
            token,
            body={"logical_date": None},
        )["dag_run_id"]
        deadline = time.monotonic() + 240
        state = None
        while time.monotonic() < deadline and state not in ("success", "failed"):
            time.sleep(3)
            runs = _call(base, "/api/v2/dags/newsdedup_ingest_reuters/dagRuns", token)
            state = next(r["state"] for r in runs["dag_runs"] if r["dag_run_id"] == run)
        assert state == "success"
        pgdata = home / "data" / "pgdata"
        assert (pgdata / "postmaster.pid").exists()
        # every session the launcher's processes run in (airflow standalone has its own)
        sessions = _sessions()
        sids |= {sessions[p] for p in _descendants(proc.pid) if p in sessions}
        assert len(sids) >= 2
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, rest
    assert "stopped every process" in rest
    left = [p for p, sid in _sessions().items() if sid in sids]
    assert left == []
    assert not (home / "data" / "pgdata" / "postmaster.pid").exists()
