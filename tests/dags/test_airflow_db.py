"""Inside Airflow the pipeline database is the connection newsdedup_db, read through the
postgres provider's hook, with no fallback; migrations run once, by ``init``."""

from __future__ import annotations

import psycopg
import pytest

from pipeline import airflow_db
from pipeline.config import ConfigError
from pipeline.store import migrate
from tests.conftest import airflow_conn

pytest.importorskip("airflow.providers.postgres", reason="the airflow extra is not installed")
pytestmark = [pytest.mark.airflow, pytest.mark.integration]


@pytest.fixture
def no_connection(monkeypatch, tmp_path):
    monkeypatch.delenv("AIRFLOW_CONN_NEWSDEDUP_DB", raising=False)
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", "postgresql://nowhere.invalid/x")
    monkeypatch.setenv("NEWSDEDUP_DATA_DIR", str(tmp_path))
    return tmp_path


def test_a_missing_connection_is_one_line_and_never_a_fallback(no_connection, capsys):
    with pytest.raises(ConfigError, match="connection newsdedup_db is not defined"):
        airflow_db.url()
    assert airflow_db.main(["init"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AIRFLOW_CONN_NEWSDEDUP_DB" in err
    assert not (no_connection / "pgdata").exists()


def test_a_connection_of_another_type_is_refused(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDEDUP_DB", '{"conn_type": "mysql", "host": "db"}')
    with pytest.raises(ConfigError, match="type 'mysql', not postgres"):
        airflow_db.url()


def test_init_migrates_once_through_the_hook(empty_db_url, monkeypatch, capsys):
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDEDUP_DB", airflow_conn(empty_db_url))
    with psycopg.connect(airflow_db.url()) as c:
        name = c.execute("SELECT current_database()").fetchone()[0]
    assert psycopg.conninfo.conninfo_to_dict(empty_db_url)["dbname"] == name
    assert airflow_db.main(["init"]) == 0
    first = capsys.readouterr().out
    assert f"{len(migrate.discover())} migration(s) applied" in first
    assert airflow_db.main(["init"]) == 0
    assert "0 migration(s) applied" in capsys.readouterr().out
    with psycopg.connect(empty_db_url) as c:
        assert migrate.pending(c) == []


def test_asset_uris_name_the_tables_of_the_connection_alike_everywhere(monkeypatch):
    """Read from the variable every process shares (never looked up), so the dag-processor
    and the workers name the assets alike; a socket directory is this machine."""
    cases = {
        "postgresql://nd:pw@newsdedup-db:5432/newsdedup": "postgres://newsdedup-db:5432/newsdedup",
        "postgresql://u@db.example:6543/news%20db?sslmode=require": (
            "postgres://db.example:6543/news%20db"
        ),
        '{"conn_type": "postgres", "host": "/srv/pg", "schema": "newsdedup"}': (
            "postgres://localhost:5432/newsdedup"
        ),
    }
    for value, base in cases.items():
        monkeypatch.setenv("AIRFLOW_CONN_NEWSDEDUP_DB", value)
        assert airflow_db.asset_base() == base
    monkeypatch.delenv("AIRFLOW_CONN_NEWSDEDUP_DB")
    assert airflow_db.asset_base() == airflow_db.DEFAULT_ASSET_BASE


def test_the_dashboard_as_the_plugin_wires_it_says_503_in_one_line(no_connection):
    """The plugin's database: the connection, checked not migrated; without it every page
    answers 503 with one line, and no embedded server starts."""
    from fastapi.testclient import TestClient

    from pipeline.dashboard.auth import LocalAuth
    from pipeline.dashboard.plugin import build_app

    app = build_app(LocalAuth("ops"))  # the plugin's own wiring, without Airflow's login
    r = TestClient(app).get("/stories", headers={"Accept": "application/json"})
    assert r.status_code == 503
    assert "connection newsdedup_db is not defined" in r.text
    assert not (no_connection / "pgdata").exists()


def test_the_plugin_refuses_a_schema_behind_instead_of_migrating(empty_db_url, monkeypatch):
    from fastapi.testclient import TestClient

    from pipeline.dashboard.auth import LocalAuth
    from pipeline.dashboard.plugin import build_app

    monkeypatch.setenv("AIRFLOW_CONN_NEWSDEDUP_DB", airflow_conn(empty_db_url))
    app = build_app(LocalAuth("ops"))  # the plugin's own wiring, without Airflow's login
    r = TestClient(app).get("/stories", headers={"Accept": "application/json"})
    assert r.status_code == 503 and "behind this code" in r.text
    with psycopg.connect(empty_db_url) as c:
        assert len(migrate.pending(c)) == len(migrate.discover())  # nothing was applied
