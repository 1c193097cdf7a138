"""Manually triggered maintenance: re-parse quarantined payloads, re-sign history after a
change of the dedup configuration, rebuild the stories of a time range."""

from __future__ import annotations

from airflow.sdk import DAG, Param, get_current_context, task
from newsdedup_common import DB_POOL, PENDING, START, TAGS, default_args, observe, target

from pipeline import tasks as nd

DOC = """\
### Maintenance

Trigger with a form (the `operation` decides what runs, the other fields are its options):

* **requeue**: quarantined payloads (all, or only `payload_id`) are parsed again, e.g. after
  a parser fix. Articles that change become pending.
* **resign**: after a change of a signature setting in `[dedup]` (`num_perm`, `bands`,
  `rows`, `shingle_size`, ... : a new fingerprint), every article and caption (optionally
  only those published in [`since`, `until`)) gets its signature and band hashes under the
  new fingerprint, one task per shard, so new batches find their duplicates in history.
  Stories are not changed: follow with *rebuild* to re-cluster them.
* **rebuild**: the articles published in [`since`, `until`) are marked pending and their
  story edges dropped; the `newsdedup_dedup` DAG then re-signs, re-verifies and
  re-clusters them, and every story they belong to, under the current configuration and
  operator overrides. Refused (and retried) while a dedup batch is open.

* **migrate**: apply the pipeline database's pending migrations after an upgrade (tasks
  never migrate: they fail with a clear message while the schema is behind).

*requeue* and *rebuild* update `newsdedup://articles/pending`, which runs `newsdedup_dedup`.
Every operation is recorded in the pipeline's `run` table.
"""

with DAG(
    dag_id="newsdedup_maintenance",
    description="Re-parse quarantined payloads, re-sign history, rebuild stories",
    schedule=None,
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(2),
    params={
        "operation": Param(
            "requeue",
            enum=["requeue", "resign", "rebuild", "migrate"],
            title="Operation",
            description="requeue quarantined payloads, resign history, rebuild a time range, "
            "or migrate the pipeline database's schema",
        ),
        "payload_id": Param(
            None,
            type=["null", "integer"],
            title="Payload id (requeue)",
            description="Only this payload; empty: every open quarantine entry.",
        ),
        "since": Param(
            None,
            type=["null", "string"],
            title="Since (resign, rebuild)",
            description="ISO 8601 time, inclusive; UTC when no zone is given.",
        ),
        "until": Param(
            None,
            type=["null", "string"],
            title="Until (resign, rebuild)",
            description="ISO 8601 time, exclusive; UTC when no zone is given.",
        ),
        "shards": Param(4, type="integer", minimum=1, maximum=64, title="Shards (resign)"),
    },
    tags=[*TAGS, "maintenance"],
    doc_md=DOC,
):

    def _range(params: dict) -> tuple:
        return nd.parse_time(params["since"], "since"), nd.parse_time(params["until"], "until")

    @task.branch
    def choose() -> str:
        """Check the form and pick the operation's task."""
        from airflow.sdk.exceptions import AirflowFailException

        params = get_current_context()["params"]
        op = params["operation"]
        try:
            since, until = _range(params)
            if op == "rebuild" and (since is None or until is None):
                raise nd.ConfigError("rebuild needs both since and until")
            if since and until and since >= until:
                raise nd.ConfigError("since must be before until")
        except nd.ConfigError as e:  # a form mistake: retrying would not help
            raise AirflowFailException(str(e)) from None
        return {
            "requeue": "requeue",
            "resign": "resign_shards",
            "rebuild": "rebuild",
            "migrate": "migrate",
        }[op]

    @task(outlets=[PENDING], **DB_POOL)
    def requeue() -> dict:
        """Re-parse quarantined payloads."""
        got = nd.requeue(target(), get_current_context()["params"]["payload_id"])
        observe(got["requeue"])
        return got

    @task
    def resign_shards() -> list[int]:
        """The shards to map resign over."""
        return nd.shard_list(get_current_context()["params"]["shards"])

    @task(map_index_template="{{ shard_label }}", **DB_POOL)
    def resign(shard: int) -> dict:
        """Signatures under the current fingerprint for one shard of history."""
        ctx = get_current_context()
        shards = ctx["params"]["shards"]
        ctx["shard_label"] = f"shard {shard + 1} of {shards}"
        since, until = _range(ctx["params"])
        return observe(nd.resign(target(), shard, shards, since, until))["counts"]

    @task(outlets=[PENDING], **DB_POOL)
    def rebuild() -> dict:
        """Queue the time range for a fresh dedup batch."""
        since, until = _range(get_current_context()["params"])
        return observe(nd.rebuild(target(), since, until))

    @task(**DB_POOL)
    def migrate() -> list[str]:
        """Apply the pipeline's pending migrations (tasks only check the schema)."""
        from pipeline import airflow_db

        return airflow_db.init()

    shards = resign_shards()
    choose() >> [requeue(), shards, rebuild(), migrate()]
    resign.expand(shard=shards)
