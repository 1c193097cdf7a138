"""Shared pieces of the newsdedup DAGs: assets and lineage, metrics, default arguments, the
pool, the database.

Not a DAG file (see .airflowignore). Cheap to import: airflow.sdk and pipeline's adapters.

Lineage: every asset has a ``postgres://`` URI naming a table of the pipeline database.
The ingest and publish tasks report what they read and write to Airflow's hook lineage
collector (:func:`report_lineage`), which the OpenLineage provider, when installed and
given a transport, emits as the input and output datasets of the task's events; otherwise
the collector does nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from airflow.sdk import Asset

from pipeline import airflow_db
from pipeline.airflow_db import POOL

OWNER = "newsdedup"
TAGS = ["newsdedup"]
START = datetime(2026, 1, 1, tzinfo=UTC)  # catchup is off: only a lower bound


def _tables() -> str:
    """``postgres://host:port/database`` of the connection newsdedup_db: asset URIs name
    the pipeline's own tables, so lineage (OpenLineage's postgres namespace) points at the
    real database."""
    try:
        return airflow_db.asset_base()
    except ValueError:  # a malformed variable: tasks refuse it in one line, parsing goes on
        return airflow_db.DEFAULT_ASSET_BASE


TABLES = _tables()


def table(name: str) -> str:
    """The URI of a table of the pipeline database (the form of the assets' URIs)."""
    return f"{TABLES}/public/{name}"


# An update of articles_asset(source) means: that source's ingest stored new, updated or
# killed articles, which now wait for a dedup batch. PENDING means the same for articles
# queued by maintenance, or left over by a batch that reached its size limit. STORIES: a
# batch published its stories. (Names and URIs both differ from those of earlier versions,
# so an existing Airflow home activates these at once instead of keeping the old ones.)
PENDING = Asset(
    name="newsdedup.articles.pending",
    uri=table("article") + "?pending=true",
    group="newsdedup",
)
STORIES = Asset(name="newsdedup.stories", uri=table("story"), group="newsdedup")


def articles_asset(source: str) -> Asset:
    return Asset(
        name=f"newsdedup.articles.{source}",
        uri=table("article") + f"?source={quote(source)}",
        group="newsdedup",
    )


# What a published batch writes: the stories, their members and the provenance of their
# merged records (``publish`` applies them from the staged layout).
STORY_TABLES = ("story", "story_member", "provenance")


def source_uris(source) -> list[str]:
    """What an ingest reads: its folders (``file://``) and feeds."""
    folders = ["file://" + quote(str(Path(f).expanduser().resolve())) for f in source.folders]
    return folders + list(source.urls)


def source_inlets(source) -> list[Asset]:
    """The ingest task's inlets (shown with the task in Airflow's UI)."""
    return [Asset(uri=u) for u in source_uris(source)]


def report_lineage(inputs: list[str], outputs: list[str]) -> None:
    """A task's inputs and outputs (URIs) to Airflow's hook lineage collector. The
    OpenLineage provider turns them into the datasets of the task's events (a ``file://``
    folder into the ``file`` namespace, a table into ``postgres://host:port`` and
    ``database.public.table``, a feed into ``https://host`` and its path, through the
    converter of pipeline/airflow_provider.py). What the collector holds replaces the
    task's inlets and outlets there, so a task reports all of them. Without a lineage
    reader (the provider absent or without a transport) the collector is a no-op."""
    from airflow.sdk.lineage import get_hook_lineage_collector

    collector = get_hook_lineage_collector()
    via = airflow_db.hook()  # the hook the task reaches the database through
    for uri in inputs:
        collector.add_input_asset(via, uri=uri)
    for uri in outputs:
        collector.add_output_asset(via, uri=uri)


def observe(result: dict) -> dict:
    """A stage's counts and duration as Airflow metrics (StatsD or OpenTelemetry, when
    Airflow's [metrics] sends them anywhere): ``newsdedup.stage.<stage>.duration`` and
    ``newsdedup.stage.<stage>.<count>``. Returns ``result`` unchanged."""
    from airflow.sdk.observability import stats

    stage = re.sub(r"[^A-Za-z0-9_]", "_", result["stage"])
    stats.timing(f"newsdedup.stage.{stage}.duration", timedelta(seconds=result["seconds"]))
    for k, v in result["counts"].items():
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
            stats.incr(f"newsdedup.stage.{stage}.{re.sub(r'[^A-Za-z0-9_]', '_', k)}", v)
    return result


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
