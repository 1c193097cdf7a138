"""B1: kill -9 of a run while sign writes its band keys leaves no worker behind, and the
next run finishes (under a timeout) with the stories of a clean run."""

from __future__ import annotations

import os
import signal
import time

import psutil
import psycopg
import pytest

from tests.reliability.common import export, nd, nd_popen

pytestmark = pytest.mark.slow


def _in_sign(conn) -> bool:
    """The run is inside sign: writing band keys, or its sign stage is open."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        "        AND query ILIKE 'COPY%%band%%' AND state = 'active')"
        "     + (SELECT count(*) FROM run WHERE stage = 'sign' AND finished_at IS NULL) AS n"
    ).fetchone()
    return row[0] > 0


def test_b1_a_run_killed_in_sign_leaves_no_orphans_and_the_rerun_converges(
    generated_inbox, clean_export, databases, migrated_template, monkeypatch
):
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    monkeypatch.setenv("NEWSDEDUP_POOL_MIN_BYTES", "0")  # workers from the first payload
    want = clean_export

    db = databases.create(template=migrated_template)
    run = nd_popen("run", "--inbox", str(generated_inbox), "--database-url", db)
    children: set[int] = set()
    with psycopg.connect(db, autocommit=True) as watch:
        deadline = time.monotonic() + 240
        while not _in_sign(watch):
            assert run.poll() is None, "the run ended before sign: " + run.stderr.read()
            assert time.monotonic() < deadline
            children |= {c.pid for c in psutil.Process(run.pid).children()}
            time.sleep(0.02)
        children |= {c.pid for c in psutil.Process(run.pid).children()}
        os.kill(run.pid, signal.SIGKILL)
    assert children, "the run started no worker processes"
    # the pipe's reader sees end-of-file: no worker kept the run's stdout
    run.communicate(timeout=30)

    deadline = time.monotonic() + 10
    while (alive := [p for p in children if psutil.pid_exists(p) and _not_zombie(p)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert alive == [], "workers outlived their killed run"

    r = nd("run", "--inbox", str(generated_inbox), "--database-url", db, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert export(db) == want


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
