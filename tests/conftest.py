"""Shared fixtures.

PostgreSQL comes from ``NEWSDEDUP_TEST_DATABASE_URL`` (an admin URL of a real server, e.g.
a local ``postgresql://postgres@127.0.0.1:5432/postgres``; ``make test`` sets it when such
a server answers) or, without it, from an embedded server started once per test
session in a temporary directory. Every test that needs a database gets a fresh one,
cloned from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import psycopg.sql
import pytest

from pipeline.store import admin

ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    """The read-only shared material (samples, labelled eval set): NEWSDEDUP_SHARED_DIR,
    else the nearest shared/ folder beside the checkout or beside one of its parent
    folders. Tests that need it skip when there is none."""
    if os.environ.get("NEWSDEDUP_SHARED_DIR"):
        return Path(os.environ["NEWSDEDUP_SHARED_DIR"])
    found = next((p / "shared" for p in ROOT.parents if (p / "shared").is_dir()), None)
    return found or ROOT.parent / "shared"


SHARED = _shared_dir()
SAMPLES = SHARED / "samples"
EVAL_DEV = SHARED / "eval" / "dev"
EVAL_REAL = SHARED / "eval" / "real"
REUTERS_21578 = SHARED / "corpora" / "reuters21578"
SAMPLE_INBOX = ROOT / "pipeline" / "samples" / "inbox"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Tables whose rows a re-run of the same input must leave exactly as they were (the run
# table is a log of executions and grows by design).
STABLE_TABLES = (
    "payload",
    "raw_item",
    "article",
    "paragraph",
    "caption",
    "signature",
    "band",
    "edge",
    "story",
    "story_member",
    "provenance",
    "quarantine",
    "caption_group",
)


def pytest_report_header(config):
    url = os.environ.get("NEWSDEDUP_TEST_DATABASE_URL")
    return f"newsdedup test database: {'server ' + _redact(url) if url else 'embedded (pgserver)'}"


def _redact(url: str) -> str:
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable>"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(scope="session")
def pg_admin_url():
    url = os.environ.get("NEWSDEDUP_TEST_DATABASE_URL")
    if url:
        try:
            with psycopg.connect(url, connect_timeout=5):
                pass
        except psycopg.OperationalError as e:
            pytest.fail(f"NEWSDEDUP_TEST_DATABASE_URL is set but unreachable: {e}")
        yield url
        return
    from pipeline.store.connect import stop_embedded

    # a short path: the embedded server's Unix socket path must stay under ~100 bytes
    data = Path(tempfile.mkdtemp(prefix="ndt-"))
    yield admin.embedded_admin_url(data)
    stop_embedded(data)
    shutil.rmtree(data, ignore_errors=True)


class Databases:
    """Creates uniquely named databases on the test server and drops them afterwards."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"ndtest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        url = admin.create_database(self.admin_url, name, template)
        self.created.append(name)
        return url

    def drop_all(self) -> None:
        for name in reversed(self.created):
            admin.drop_database(self.admin_url, name)
        self.created.clear()


@pytest.fixture(scope="session")
def databases(pg_admin_url):
    dbs = Databases(pg_admin_url)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def migrated_template(databases) -> str:
    """Name of a database with every migration applied, used as a CREATE DATABASE template."""
    from pipeline.store import migrate
    from pipeline.store.connect import connect

    url = databases.create()
    with connect(url) as conn:
        migrate.migrate(conn)
    return admin.dbname(url)


@pytest.fixture
def empty_db_url(databases) -> str:
    """A brand-new database without any schema."""
    return databases.create()


@pytest.fixture
def db_url(databases, migrated_template) -> str:
    """A fresh database with the current schema."""
    return databases.create(template=migrated_template)


@pytest.fixture
def store(db_url):
    from pipeline.store.store import Store

    s = Store.open(db_url)
    yield s
    s.close()


# a name in STABLE_TABLES -> the tables it counts (band rows are recent or folded)
_COUNTED = {"band": ("lsh_band", "lsh_band_recent")}


def table_counts(store) -> dict[str, int]:
    """Rows per table of STABLE_TABLES, for before/after comparisons."""
    count = psycopg.sql.SQL("SELECT count(*) AS n FROM {}")
    return {
        n: sum(
            store.conn.execute(count.format(psycopg.sql.Identifier(t))).fetchone()["n"]
            for t in _COUNTED.get(n, (n,))
        )
        for n in STABLE_TABLES
    }


def payload_outcomes(store) -> list[dict]:
    """How the stored payloads ended up: status and count, by status."""
    return store.conn.execute(
        "SELECT status, count(*) AS n FROM payload GROUP BY status ORDER BY status"
    ).fetchall()


@pytest.fixture
def config():
    from pipeline.config import DedupConfig

    return DedupConfig()


def shared_or_skip(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (set NEWSDEDUP_SHARED_DIR to the shared material)")
    return path


def airflow_conn(conninfo: str) -> str:
    """A test database (libpq conninfo) as the value of ``AIRFLOW_CONN_NEWSDEDUP_DB``."""
    import psycopg

    from pipeline.tasks import connection_json, url_from_connection

    i = psycopg.conninfo.conninfo_to_dict(conninfo)
    return connection_json(
        url_from_connection(
            host=i.get("host"),
            port=int(i["port"]) if i.get("port") else None,
            login=i.get("user"),
            password=i.get("password"),
            schema=i.get("dbname"),
        )
    )
