"""Shared pieces of the newsdedup DAGs: assets, default arguments, the database URL.

Not a DAG file (see .airflowignore). Cheap to import: airflow.sdk and pipeline.tasks only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset

OWNER = "newsdedup"
TAGS = ["newsdedup"]
START = datetime(2026, 1, 1, tzinfo=UTC)  # catchup is off: only a lower bound

# An update of articles_asset(source) means: that source's ingest stored new, updated or
# killed articles, which now wait for a dedup batch. PENDING means the same for articles
# queued by maintenance, or left over by a batch that reached its size limit.
PENDING = Asset(name="newsdedup_pending", uri="newsdedup://articles/pending", group="newsdedup")
STORIES = Asset(name="newsdedup_stories", uri="newsdedup://stories", group="newsdedup")


def articles_asset(source: str) -> Asset:
    return Asset(
        name=f"newsdedup_articles_{source}",
        uri=f"newsdedup://articles/{source}",
        group="newsdedup",
    )


def default_args(retries: int = 3) -> dict:
    """Retries with exponential backoff: every task is idempotent, so a retry is safe."""
    return {
        "owner": OWNER,
        "retries": max(retries, 2),
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    }


def db_url() -> str:
    """The pipeline database, resolved inside a task: the Airflow connection newsdedup_db
    (AIRFLOW_CONN_NEWSDEDUP_DB works), else NEWSDEDUP_DATABASE_URL."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from pipeline import tasks

    try:
        conn = Connection.get(tasks.CONNECTION_ID)
    except AirflowNotFoundException:
        return tasks.database_url(None)
    return tasks.database_url(
        {
            "host": conn.host,
            "port": conn.port,
            "login": conn.login,
            "password": conn.password,
            "schema": conn.schema,
            "extra": conn.extra_dejson,
        }
    )
