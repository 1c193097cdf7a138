"""Migrations: applied once under a lock, recorded with checksums, and they alone rebuild
the schema the code expects."""

import re
import threading
from pathlib import Path

import psycopg
import pytest

from pipeline.errors import DatabaseError
from pipeline.store import migrate
from pipeline.store.connect import connect
from pipeline.store.dashboard import STORY_ORDERS, story_page_sql
from pipeline.store.queries import load

SCHEMA_Q = """
SELECT table_name, column_name, data_type, is_nullable
FROM information_schema.columns WHERE table_schema = 'public'
ORDER BY table_name, column_name
"""


def _schema(url):
    with psycopg.connect(url) as c:
        cols = c.execute(SCHEMA_Q).fetchall()
        idx = c.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY indexname"
        ).fetchall()
    return cols, idx


def test_migrate_from_empty_is_idempotent(empty_db_url):
    with connect(empty_db_url) as conn:
        done = migrate.migrate(conn)
        assert [m.version for m in done] == [m.version for m in migrate.discover()]
        first = _schema(empty_db_url)
        assert migrate.migrate(conn) == []
        assert migrate.pending(conn) == []
    assert _schema(empty_db_url) == first
    tables = {t for t, *_ in first[0]}
    for needed in (
        "payload",
        "raw_item",
        "article",
        "paragraph",
        "caption",
        "signature",
        "lsh_band",
        "lsh_band_recent",
        "band_key",
        "edge",
        "story",
        "story_member",
        "provenance",
        "run",
        "quarantine",
        "schema_migration",
        "override",
        "source_cursor",
    ):
        assert needed in tables


def test_concurrent_migrations_apply_once(empty_db_url):
    errors, results = [], []

    def worker():
        try:
            with connect(empty_db_url) as conn:
                results.append(len(migrate.migrate(conn)))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [0, 0, len(migrate.discover())]


def test_edited_migration_is_refused(empty_db_url, tmp_path):
    src = migrate.discover()
    folder = tmp_path / "migrations"
    folder.mkdir()
    for m in src:
        (folder / m.path.name).write_bytes(m.path.read_bytes())
    with connect(empty_db_url) as conn:
        migrate.migrate(conn, folder)
        first = folder / src[0].path.name
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(DatabaseError, match="edited after it was applied"):
            migrate.migrate(conn, folder)


def _positional(text: str) -> str:
    """%(name)s placeholders -> $1, $2 ... (the same name keeps its number)."""
    numbers: dict[str, int] = {}

    def number(m: re.Match) -> str:
        return f"${numbers.setdefault(m.group(1), len(numbers) + 1)}"

    return re.sub(r"%\((\w+)\)s", number, text).replace("%%", "%")


def test_every_named_query_prepares_against_the_schema(db_url):
    """Each statement in sql/queries parses and plans against the migrated schema."""
    q = load()
    failures = []
    with psycopg.connect(db_url, autocommit=True) as c:
        c.execute("CREATE TEMP TABLE edge_stage (LIKE edge INCLUDING DEFAULTS)")
        # the staging tables the bulk queries read, as the queries themselves create them
        for name in q.names():
            if getattr(q, name).lstrip().upper().startswith("CREATE TEMP TABLE IF NOT EXISTS"):
                c.execute(getattr(q, name))
        statements = [(n, getattr(q, n)) for n in q.names() if n != "story_page"]
        # the story list is a template: every variant the store composes
        statements += [
            (f"story_page_{order}_{newer}", story_page_sql(q.story_page, order, newer).as_string(c))
            for order in STORY_ORDERS
            for newer in (False, True)
        ]
        for name, text in statements:
            # utility statements cannot be prepared
            code = re.sub(r"^(\s*--[^\n]*\n)*", "", text).lstrip().upper()
            if code.startswith(("COPY", "CREATE", "TRUNCATE", "ANALYZE", "LOCK", "DROP")):
                continue
            # PREPARE needs positional parameters: map each %(x)s to $n
            pos = _positional(text)
            try:
                c.execute(f"PREPARE q_{name} AS {pos}")
                c.execute(f"DEALLOCATE q_{name}")
            except psycopg.Error as e:
                failures.append(f"{name}: {str(e).splitlines()[0]}")
    assert failures == []
    assert len(q.names()) > 30


def test_migration_files_are_numbered_and_forward_only():
    names = [m.path.name for m in migrate.discover()]
    assert names == sorted(names)
    assert all(Path(n).stem[:4].isdigit() for n in names)
