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
