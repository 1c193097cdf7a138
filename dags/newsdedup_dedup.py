"""The dedup and merge DAG: one batch of pending articles through every stage."""

from __future__ import annotations

import os

from airflow.sdk import (
    DAG,
    AssetAny,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    XComArg,
    get_current_context,
    task,
)
from newsdedup_common import (
    DB_POOL,
    PENDING,
    START,
    STORIES,
    STORY_TABLES,
    TAGS,
    articles_asset,
    default_args,
    observe,
    report_lineage,
    table,
    target,
)

from pipeline import tasks as nd

SHARDS = int(os.environ.get("NEWSDEDUP_SHARDS", "4"))
FALLBACK = os.environ.get("NEWSDEDUP_DEDUP_FALLBACK_CRON", "*/30 * * * *")

DOC = f"""\
### Dedup and merge

Runs when an ingest DAG stored new articles (the `newsdedup://articles/<source>` assets),
when maintenance queued articles (`newsdedup://articles/pending`), and on `{FALLBACK}` as a
fallback. One run takes one batch of pending articles (an unfinished batch is resumed first):

`open_batch` → `sign` (one task per shard) → `candidates` → `verify` (one task per shard)
→ `cluster_merge` → `publish` (one transaction; updates `newsdedup://stories`) → `more`
(updates `newsdedup://articles/pending` when articles are still waiting, so another run
follows).

Shards split the batch's articles (sign) and candidate pairs (verify) so more workers
finish a batch sooner; the `shards` parameter sets how many (default {SHARDS},
`NEWSDEDUP_SHARDS`). An empty batch skips every stage after `open_batch`. XCom carries the
batch key, the shard list and counts only; each stage's counts are in its log and in the
pipeline's `run` table.
"""


def _label(shard: int) -> int:
    """Label a mapped task by its shard; the shard count is the run's ``shards`` param."""
    ctx = get_current_context()
    shards = ctx["params"]["shards"]
    ctx["shard_label"] = f"shard {shard + 1} of {shards}"
    return shards


with DAG(
    dag_id="newsdedup_dedup",
    description="Sign, find candidates, verify, cluster, merge and publish pending articles",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(FALLBACK, timezone="UTC"),
        assets=AssetAny(*(articles_asset(s.name) for s in nd.sources()), PENDING),
    ),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(3),
    params={
        "shards": Param(
            SHARDS,
            type="integer",
            minimum=1,
            maximum=64,
            title="Shards",
            description="Parallel sign and verify tasks for this batch.",
        )
    },
    tags=[*TAGS, "dedup"],
    doc_md=DOC,
):

    @task(**DB_POOL)
    def open_batch() -> list[int]:
        """Claim the pending articles into a batch keyed by this DAG run (or resume an
        unfinished one). Returns the shards to map over (none for an empty batch) and
        pushes the batch key as XCom ``batch_key``."""
        ctx = get_current_context()
        key = f"airflow {ctx['dag_run'].run_id}"
        got = observe(nd.open_batch(target(), key, ctx["params"]["shards"]))
        ctx["ti"].xcom_push(key="batch_key", value=got["batch_key"])
        ctx["ti"].xcom_push(key="articles", value=got["counts"].get("articles", 0))
        return got["shards"]

    @task(map_index_template="{{ shard_label }}", **DB_POOL)
    def sign(batch_key: str, shard: int) -> dict:
        """MinHash signatures and LSH bands of one shard of the batch."""
        shards = _label(shard)
        return observe(nd.sign(target(), batch_key, shard, shards))["counts"]

    @task(**DB_POOL)
    def candidates(batch_key: str) -> dict:
        """One band join of the batch against history in the time window."""
        return observe(nd.candidates(target(), batch_key))["counts"]

    @task(map_index_template="{{ shard_label }}", **DB_POOL)
    def verify(batch_key: str, shard: int) -> dict:
        """Exact scores, verdict and reason for one shard of the candidate pairs."""
        shards = _label(shard)
        return observe(nd.verify(target(), batch_key, shard, shards))["counts"]

    @task(**DB_POOL)
    def cluster_merge(batch_key: str) -> dict:
        """Re-cluster every story the batch touches; stage the merged records."""
        return observe(nd.cluster_merge(target(), batch_key))["counts"]

    @task(outlets=[STORIES], **DB_POOL)
    def publish(batch_key: str) -> dict:
        """Apply the staged stories in one transaction."""
        # the batch's articles, as the stories' rows (STORIES is the first of them)
        report_lineage([table("article")], [table(t) for t in STORY_TABLES])
        got = observe(nd.publish(target(), batch_key))
        return {**got["counts"], "pending": got["pending"]}

    @task(outlets=[PENDING])
    def more(published: dict) -> int:
        """Ask for another run when articles are still pending."""
        from airflow.sdk.exceptions import AirflowSkipException

        if not published["pending"]:
            raise AirflowSkipException("no article is pending")
        return published["pending"]

    shards = open_batch()
    key = XComArg(shards.operator, key="batch_key")
    signed = sign.partial(batch_key=key).expand(shard=shards)
    found = candidates(key)
    verified = verify.partial(batch_key=key).expand(shard=shards)
    merged = cluster_merge(key)
    published = publish(key)
    signed >> found >> verified >> merged >> published
    more(published)
