"""A stage run under a scheduler keeps the DAG run it belongs to, on the batch and on the
stage's row of the run table; the standalone CLI leaves those empty. A store opened to
check (not migrate) refuses a schema that is behind, in one line."""

from __future__ import annotations

import psycopg
import pytest

from pipeline.errors import DatabaseError
from pipeline.model import RunOrigin
from pipeline.stages import batch
from pipeline.store import migrate
from pipeline.store.store import Store

pytestmark = pytest.mark.integration


def _rows(url, sql):
    with psycopg.connect(url) as c:
        return c.execute(sql).fetchall()


def test_batch_and_stage_rows_keep_their_dag_run(db_url, config):
    origin = RunOrigin("newsdedup_dedup", "manual__2026-06-11T12:00:00", "open_batch", None)
    with Store.open(db_url, migrate=False, check=True, origin=origin) as store:
        batch.open_batch(store, config, key="airflow manual__2026-06-11T12:00:00")
    with Store.open(db_url) as store:
        batch.open_batch(store, config, key="cli")
    assert _rows(db_url, "SELECT key, dag_id, dag_run_id FROM batch ORDER BY id") == [
        ("airflow manual__2026-06-11T12:00:00", "newsdedup_dedup", "manual__2026-06-11T12:00:00"),
        ("cli", None, None),
    ]
    assert _rows(
        db_url, "SELECT batch_key, dag_id, dag_run_id, task_id, map_index FROM run ORDER BY id"
    ) == [
        (
            "airflow manual__2026-06-11T12:00:00",
            "newsdedup_dedup",
            "manual__2026-06-11T12:00:00",
            "open_batch",
            None,
        ),
        ("cli", None, None, None, None),
    ]


def test_a_check_refuses_a_schema_behind_and_never_migrates(empty_db_url):
    with psycopg.connect(empty_db_url) as c:
        migrate.migrate(c)
        c.execute("DELETE FROM schema_migration WHERE version = 8")
    with pytest.raises(DatabaseError, match=r"behind this code .*0008_airflow_origin\.sql"):
        Store.open(empty_db_url, migrate=False, check=True)
    assert _rows(empty_db_url, "SELECT count(*) FROM schema_migration WHERE version = 8") == [(0,)]
