"""Forward-only migrations from sql/migrations/NNNN_name.sql.

Each file runs in its own transaction while holding a session advisory lock, so two
workers starting at once do not both apply it; the ledger records version, name and a
checksum, and a file edited after it was applied stops the process with a clear error
instead of leaving two databases that claim the same version but differ.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pipeline.errors import DatabaseError
from pipeline.store.connect import sql_dir

# Arbitrary but fixed: pg_advisory_lock key for "newsdedup schema migration".
MIGRATION_LOCK = 0x6E657773_64656470 & 0x7FFFFFFFFFFFFFFF

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS schema_migration (
    version     integer PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path | None = None) -> list[Migration]:
    directory = directory or sql_dir() / "migrations"
    found = []
    for p in sorted(directory.glob("*.sql")):
        m = _NAME.match(p.name)
        if not m:
            raise DatabaseError(f"migration file name must be NNNN_name.sql: {p.name}")
        found.append(Migration(int(m.group(1)), m.group(2), p))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise DatabaseError("two migration files share a version number")
    return found


def applied(conn: psycopg.Connection) -> dict[int, str]:
    exists = conn.execute("SELECT to_regclass('schema_migration') IS NOT NULL AS e").fetchone()
    if not _first(exists):
        return {}
    rows = conn.execute("SELECT version, checksum FROM schema_migration").fetchall()
    return {_get(r, "version", 0): _get(r, "checksum", 1) for r in rows}


def migrate(conn: psycopg.Connection, directory: Path | None = None) -> list[Migration]:
    """Apply every pending migration; return the ones applied now. Idempotent."""
    migrations = discover(directory)
    done: list[Migration] = []
    conn.commit()
    prev_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            conn.execute(LEDGER_DDL)
            ledger = applied(conn)
            for m in migrations:
                if m.version in ledger:
                    if ledger[m.version] != m.checksum:
                        raise DatabaseError(
                            f"migration {m.path.name} was edited after it was applied; "
                            "add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(m.sql)
                    conn.execute(
                        "INSERT INTO schema_migration (version, name, checksum) "
                        "VALUES (%s, %s, %s)",
                        (m.version, m.name, m.checksum),
                    )
                done.append(m)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    finally:
        conn.autocommit = prev_autocommit
    return done


def pending(conn: psycopg.Connection, directory: Path | None = None) -> list[Migration]:
    ledger = applied(conn)
    return [m for m in discover(directory) if m.version not in ledger]


# what to run when the schema is behind; the CLI's `newsdedup migrate` does the same
MIGRATE_HINT = "python -m pipeline.airflow_db init (or newsdedup migrate)"


def require_current(conn: psycopg.Connection, directory: Path | None = None) -> None:
    """Refuse a database whose schema is behind this code, in one line: where migrations
    run once (Airflow's init), a task never takes the migration lock itself."""
    missing = pending(conn, directory)
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise DatabaseError(
            f"the pipeline database's schema is behind this code (migration "
            f"{missing[0].path.name}{more} not applied); run {MIGRATE_HINT}"
        )


def _first(row):
    if row is None:
        return None
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


def _get(row, key, idx):
    return row[key] if isinstance(row, dict) else row[idx]
