"""No silent waits: a run blocked by a lock past [database] lock_timeout_s stops with one
line (exit 2); every session carries the configured timeouts."""

from __future__ import annotations

import psycopg

from pipeline.config import DatabaseSettings
from pipeline.store import connect
from tests.reliability.common import nd


def test_a_lock_held_too_long_is_one_line_exit_2(db_url, tmp_path):
    cfg = tmp_path / "newsdedup.toml"
    cfg.write_text("[database]\nlock_timeout_s = 1\n")
    holder = psycopg.connect(db_url)
    try:
        holder.execute("LOCK TABLE dedup_config IN ACCESS EXCLUSIVE MODE")
        r = nd("dedup", "--database-url", db_url, "--config", str(cfg), timeout=60)
    finally:
        holder.close()
    assert r.returncode == 2, r.stdout + r.stderr
    assert "gave up waiting for a database lock after lock_timeout_s" in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_sessions_carry_the_configured_timeouts(db_url):
    before = dict(connect.SESSION_SETTINGS)
    try:
        connect.configure(DatabaseSettings(lock_timeout_s=7, idle_in_transaction_timeout_s=9))
        with connect.connect(db_url) as c:
            got = c.execute(
                "SELECT current_setting('lock_timeout') AS l,"
                " current_setting('idle_in_transaction_session_timeout') AS i"
            ).fetchone()
    finally:
        connect.SESSION_SETTINGS.update(before)
    assert (got["l"], got["i"]) == ("7s", "9s")


def test_a_lost_connection_is_one_line_exit_2(db_url):
    """The server ends the run's session (as a restart does): one line, exit 2."""
    from pipeline.store.locks import LOCK_CLASS, STAGE_LOCKS
    from tests.reliability.common import nd_popen

    holder = psycopg.connect(db_url, autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, STAGE_LOCKS["dedup"]))
        p = nd_popen("dedup", "--database-url", db_url)
        assert "waiting for the dedup lock" in p.stderr.readline()
        holder.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        _out, err = p.communicate(timeout=60)
    finally:
        holder.close()
    assert p.returncode == 2, err
    assert "lost the database connection" in err and "Traceback" not in err
    assert err.count("\n") == 1, err
