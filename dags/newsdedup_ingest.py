"""Ingest DAGs, one per wire source of the newsdedup configuration.

The sources come from the same configuration the ``newsdedup`` CLI reads: ``[sources.*]``
in newsdedup.toml (``NEWSDEDUP_CONFIG``) and ``NEWSDEDUP_INBOX``, whose ``reuters/``,
``xinhua/`` and ``cgtn/`` subfolders become the folders of the three default sources.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, CronDataIntervalTimetable, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException
from newsdedup_common import (
    DB_POOL,
    START,
    TAGS,
    articles_asset,
    default_args,
    observe,
    report_lineage,
    source_inlets,
    source_uris,
    table,
    target,
)

from pipeline import tasks as nd

DOC = """\
### Ingest `{name}`

Every run stores the files of `{folders}` that were last modified before the run's
trigger time (the end of its data interval): each file verbatim, parsed, its items applied
as articles. Payloads are content-addressed, so a retry, a cleared run or a backfill stores
nothing twice; the run is recorded in the pipeline's `run` table under its data interval.

When the run added, updated or killed articles, `announce` updates the asset
`newsdedup://articles/{name}` and the `newsdedup_dedup` DAG runs; otherwise `announce` is
skipped. Schedule `{schedule}` (`[sources.{name}] schedule` in newsdedup.toml).
"""


def ingest_dag(source: nd.SourceConfig) -> DAG:
    asset = articles_asset(source.name)
    with DAG(
        dag_id=f"newsdedup_ingest_{source.name}",
        description=f"Store and parse new {source.name} wire copy",
        schedule=CronDataIntervalTimetable(source.schedule, timezone="UTC"),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(source.retries),
        dagrun_timeout=timedelta(hours=2),
        tags=[*TAGS, "ingest", source.name],
        doc_md=DOC.format(
            name=source.name,
            folders="`, `".join(source.folders) or "(no folder configured)",
            schedule=source.schedule,
        ),
    ) as dag:

        @task(execution_timeout=timedelta(hours=1), inlets=source_inlets(source), **DB_POOL)
        def ingest(source_name: str) -> dict:
            """Store, parse and apply the files that arrived up to the run's trigger time."""
            ctx = get_current_context()
            run = ctx["dag_run"]
            start, end = ctx.get("data_interval_start"), ctx.get("data_interval_end")
            key = nd.interval_key(start, end, run.run_after)
            # the raw copies and the source's articles (the asset announce updates)
            report_lineage(source_uris(source), [table("payload"), asset.uri])
            return observe(nd.ingest(target(), source_name, run.run_after, key))

        @task(outlets=[asset])
        def announce(result: dict) -> dict:
            """Update the source's asset, but only when articles changed."""
            counts = result["counts"]
            if not result["changed"]:
                raise AirflowSkipException("no new, updated or killed article")
            ctx = get_current_context()
            ctx["outlet_events"][asset].extra = {
                k: counts.get(k, 0) for k in ("items_new", "items_updated", "killed")
            }
            return counts

        announce(ingest(source.name))
    return dag


for _source in nd.sources():
    ingest_dag(_source)
