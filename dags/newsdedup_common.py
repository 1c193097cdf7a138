"""Shared pieces of the newsdedup DAGs: assets, default arguments, the pool, the database.

Not a DAG file (see .airflowignore). Cheap to import: airflow.sdk and pipeline.tasks only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset

from pipeline.airflow_db import POOL

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


# Tasks that work on the pipeline database take a slot of this pool (python -m
# pipeline.airflow_db init --pool creates it), so a backfill cannot open more sessions than
# the database is sized for.
DB_POOL = {"pool": POOL}


def default_args(retries: int = 3) -> dict:
    """Retries with exponential backoff: every task is idempotent, so a retry is safe."""
    return {
        "owner": OWNER,
        "retries": max(retries, 2),
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    }


def target():
    """Where a task works: the connection newsdedup_db (through the postgres provider's
    hook; no fallback) and the task's own DAG run, which its stage rows keep."""
    from airflow.sdk import get_current_context

    from pipeline import airflow_db
    from pipeline.tasks import Target

    return Target(airflow_db.url(), airflow_db.origin(get_current_context()))
