"""The DAG files parse cleanly, cheaply, and declare what operators rely on."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.conftest import SAMPLE_INBOX
from tests.dags.conftest import DAGS, PARSE_ENV, UNSET, dagbag, parse_env

pytest.importorskip("airflow", reason="the airflow extra is not installed")
pytestmark = pytest.mark.airflow

TABLES = "postgres://localhost:5432/newsdedup"
SOURCES = ("reuters", "xinhua", "cgtn")
EXPECTED = {
    *(f"newsdedup_ingest_{s}" for s in SOURCES),
    "newsdedup_dedup",
    "newsdedup_maintenance",
}


@pytest.fixture(scope="module")
def bag():
    # The shared DAG module reads the connection at import, and an earlier test may have
    # imported it under another connection; the dag-processor imports it afresh per parse.
    sys.modules.pop("newsdedup_common", None)
    with parse_env():
        return dagbag()


def test_no_import_errors_and_every_dag(bag):
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED


def test_every_dag_is_documented_owned_tagged_and_retried(bag):
    for dag in bag.dags.values():
        assert dag.tags and "newsdedup" in dag.tags, dag.dag_id
        assert dag.doc_md and len(dag.doc_md) > 100, dag.dag_id
        assert dag.catchup is False, dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        for t in dag.tasks:
            assert t.owner == "newsdedup", (dag.dag_id, t.task_id)
            assert t.retries >= 2, (dag.dag_id, t.task_id)
            assert t.retry_exponential_backoff, (dag.dag_id, t.task_id)


def test_ingest_dags_run_every_five_minutes_and_announce_their_source(bag):
    for s in SOURCES:
        dag = bag.dags[f"newsdedup_ingest_{s}"]
        assert dag.timetable.expression == "*/5 * * * *"
        # a data-interval timetable: every run has an interval to be keyed by
        assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
        announce = dag.get_task("announce")
        # asset URIs name the pipeline's tables (here without a connection: localhost)
        assert [a.uri for a in announce.outlets] == [f"{TABLES}/public/article?source={s}"]
        ingest = dag.get_task("ingest")
        assert ingest.outlets == [] and ingest.pool == "newsdedup_db"
        # lineage: the folders it reads
        assert [a.uri for a in ingest.inlets] == [f"file://{SAMPLE_INBOX / s}"]


def test_dedup_runs_on_the_ingest_assets_with_a_fallback_and_maps_over_shards(bag):
    dag = bag.dags["newsdedup_dedup"]
    tt = dag.timetable
    uris = {a.uri for a in tt.asset_condition.objects}
    assert uris == {
        *(f"{TABLES}/public/article?source={s}" for s in SOURCES),
        f"{TABLES}/public/article?pending=true",
    }
    assert {a.uri for a in dag.get_task("publish").outlets} == {f"{TABLES}/public/story"}
    for t in dag.tasks:  # every task on the database takes a pool slot
        assert t.pool == ("default_pool" if t.task_id == "more" else "newsdedup_db"), t.task_id
    assert tt.timetable.expression == "*/30 * * * *"
    chain = ["open_batch", "sign", "candidates", "verify", "cluster_merge", "publish", "more"]
    for up, down in itertools.pairwise(chain):
        assert down in dag.get_task(up).downstream_task_ids, (up, down)
    for mapped in ("sign", "verify"):
        assert dag.get_task(mapped).is_mapped
    assert dag.params["shards"] == 4


def test_maintenance_is_manual_with_a_form(bag):
    dag = bag.dags["newsdedup_maintenance"]
    assert type(dag.timetable).__name__ == "NullTimetable"  # manual triggers only
    assert set(dag.params.keys()) == {"operation", "payload_id", "since", "until", "shards"}
    assert dag.params["operation"] == "requeue"
    assert dag.get_task("resign").is_mapped


def test_sources_come_from_the_configuration(tmp_path, monkeypatch):
    """A source in newsdedup.toml gets its own DAG with its own schedule and retries."""
    cfg = tmp_path / "newsdedup.toml"
    cfg.write_text(
        '[sources.ap]\nfolders = ["/srv/ap"]\nschedule = "*/15 * * * *"\nretries = 5\n',
        encoding="utf-8",
    )
    out = _parse_in_subprocess({"NEWSDEDUP_CONFIG": str(cfg), "NEWSDEDUP_INBOX": ""})
    assert out["errors"] == {}
    assert "newsdedup_ingest_ap" in out["dags"]
    assert out["schedules"]["newsdedup_ingest_ap"] == "*/15 * * * *"
    assert out["retries"]["newsdedup_ingest_ap"] == 5


def test_parsing_is_cheap(record_property):
    """No pipeline stage code, numpy, numba or database driver at parse time, and no DB.

    The parse time is measured and reported (not asserted: tests never assert times)."""
    out = _parse_in_subprocess({})
    assert out["errors"] == {}
    assert out["heavy"] == []
    record_property("dagbag_parse_seconds", out["seconds"])
    print(f"\nDagBag parse of {DAGS}: {out['seconds']:.3f}s for {len(out['dags'])} DAGs")


_PARSE = """
import json, sys, time
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag
dags = Path(sys.argv[1])
t0 = time.perf_counter()
bag = BundleDagBag(dag_folder=dags, bundle_path=dags)
seconds = time.perf_counter() - t0
heavy = sorted(m for m in sys.modules
               if m.split(".")[0] in ("numpy", "numba", "psycopg", "psycopg_binary", "lxml")
               or m in ("pipeline.stages.run", "pipeline.store.store", "pipeline.stages.maintenance"))
print(json.dumps({
    "errors": {k: v.splitlines()[-1] for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dag_ids),
    "schedules": {d.dag_id: getattr(d.timetable, "expression", None) for d in bag.dags.values()},
    "retries": {d.dag_id: d.default_args.get("retries") for d in bag.dags.values()},
    "heavy": heavy,
    "seconds": seconds,
}))
"""


def _parse_in_subprocess(env_changes: dict) -> dict:
    """Parse in a fresh interpreter: what a dag-processor's parse actually imports."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update({**PARSE_ENV, **env_changes})
    got = subprocess.run(
        [sys.executable, "-c", _PARSE, str(DAGS)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=timedelta(minutes=3).total_seconds(),
    )
    return json.loads(got.stdout.strip().splitlines()[-1])
