"""B2: two runs at once on the same inbox converge, exit 0, and publish what one run does.
A run that must wait for another says what it waits for."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.store.locks import LOCK_CLASS, STAGE_LOCKS
from tests.reliability.common import export, nd, nd_popen

pytestmark = pytest.mark.slow


def test_b2_two_runs_at_once_converge(generated_inbox, clean_export, databases, migrated_template):
    want = clean_export

    both = databases.create(template=migrated_template)
    runs = [nd_popen("run", "--inbox", str(generated_inbox), "--database-url", both) for _ in "ab"]
    outs = [p.communicate(timeout=300) for p in runs]
    for p, (out, err) in zip(runs, outs, strict=True):
        assert p.returncode == 0, out + err
        assert "Traceback" not in err
    assert export(both) == want


def test_a_run_that_must_wait_says_for_whom(db_url, tmp_path):
    """Another session holds the dedup lock: the run says so, then finishes once it is
    released."""
    holder = psycopg.connect(db_url, autocommit=True)
    try:
        holder.execute(
            "SELECT set_config('application_name', 'newsdedup dedup otherhost 4242 14:51', false)"
        )
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, STAGE_LOCKS["dedup"]))
        p = nd_popen("dedup", "--database-url", db_url)
        line = p.stderr.readline()
        assert "waiting for the dedup lock held by run pid 4242 on otherhost since 14:51" in line
        assert p.poll() is None
        holder.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, STAGE_LOCKS["dedup"]))
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, out + err
    finally:
        holder.close()


def test_the_lock_of_a_dead_run_on_this_host_is_taken_over(db_url):
    import socket

    holder = psycopg.connect(db_url, autocommit=True)
    try:
        host = socket.gethostname()[:32]
        holder.execute(
            "SELECT set_config('application_name', %s, false)",
            (f"newsdedup dedup {host} 999999999 14:51",),
        )
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, STAGE_LOCKS["dedup"]))
        r = nd("dedup", "--database-url", db_url, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "taking over the dedup lock of a run that is gone" in r.stderr
    finally:
        holder.close()


def test_a_dag_dedup_task_waits_for_a_command_dedup_and_says_so(db_url, caplog):
    """The functions the dedup DAG's tasks call take the dedup lock a command's dedup run
    holds: a task started during such a run waits (saying for whom) and goes on after."""
    import threading

    from pipeline import tasks

    holder = psycopg.connect(db_url, autocommit=True)
    done: list[dict] = []
    try:
        holder.execute(
            "SELECT set_config('application_name', 'newsdedup dedup otherhost 4242 14:51', false)"
        )
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, STAGE_LOCKS["dedup"]))
        with caplog.at_level("WARNING", logger="newsdedup"):
            task = threading.Thread(
                target=lambda: done.append(tasks.open_batch(db_url, "dag-batch-1", 2))
            )
            task.start()
            want = "waiting for the dedup lock held by run pid 4242 on otherhost since 14:51"
            for _ in range(600):
                if any(want in r.getMessage() for r in caplog.records):
                    break
                task.join(0.1)
            assert any(want in r.getMessage() for r in caplog.records), caplog.text
            assert task.is_alive() and not done
            holder.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, STAGE_LOCKS["dedup"]))
            task.join(120)
        assert done and done[0]["batch_key"] == "dag-batch-1"
        # and the task gave the lock back: the command can take it at once
        got = holder.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, STAGE_LOCKS["dedup"])
        ).fetchone()[0]
        assert got
    finally:
        holder.close()
