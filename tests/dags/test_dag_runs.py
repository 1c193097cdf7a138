"""The DAGs run end to end with ``dag.test()`` against a real PostgreSQL: twice gives the
same rows, the stories equal the CLI's, XCom stays small, and maintenance works."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.report import export_stories
from pipeline.stages import run
from tests.conftest import SAMPLE_INBOX, STABLE_TABLES, table_counts
from tests.dags.conftest import UNSET, dagbag

pytest.importorskip("airflow", reason="the airflow extra is not installed")
pytestmark = [pytest.mark.airflow, pytest.mark.integration]

SOURCES = ("reuters", "xinhua", "cgtn")
STABLE = STABLE_TABLES


@pytest.fixture
def inbox(tmp_path):
    """A small inbox: the copper story's versions and rewrites, the satellite captions, a
    kill, plus one truncated file that lands in quarantine."""
    keep = {
        "reuters": [
            "2026-06-11T142000Z_1_L1N3CU0PP_CHILE-COPPER.xml",
            "2026-06-11T161500Z_2_L1N3CU0PP_CHILE-COPPER-UPDATE-1.xml",
            "2026-06-11T183000Z_1_L1N3CU0QQ_CHILE-COPPER-CORRECTED.xml",
            "2026-06-15T090500Z_1_L5N3CW1AA_PORTUGAL-AIRLINE.xml",
            "2026-06-15T113000Z_2_L5N3CW1AA_PORTUGAL-AIRLINE-KILL.xml",
        ],
        "xinhua": ["feed-001.xml", "feed-002.xml"],
        "cgtn": ["2026-06-11-CuChile7x.txt", "2026-06-12-Fy5BsatLch.txt"],
    }
    root = tmp_path / "inbox"
    for source, names in keep.items():
        (root / source).mkdir(parents=True)
        for n in names:
            shutil.copy2(SAMPLE_INBOX / source / n, root / source / n)
    whole = (SAMPLE_INBOX / "reuters" / keep["reuters"][0]).read_bytes()
    (root / "reuters" / "truncated.xml").write_bytes(whole[: len(whole) // 2])
    return root


def as_url(conninfo: str) -> str:
    """The test database as a postgresql:// URL, the form AIRFLOW_CONN_* takes."""
    import psycopg

    from pipeline.tasks import url_from_connection

    i = psycopg.conninfo.conninfo_to_dict(conninfo)
    return url_from_connection(
        host=i.get("host"),
        port=int(i["port"]) if i.get("port") else None,
        login=i.get("user"),
        password=i.get("password"),
        schema=i.get("dbname"),
    )


@pytest.fixture
def airflow_env(airflow_db, db_url, inbox, monkeypatch):
    for k in UNSET:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDEDUP_DB", as_url(db_url))
    monkeypatch.setenv("NEWSDEDUP_INBOX", str(inbox))
    return db_url


def _run(dag_id: str, **conf):
    """One ``dag.test()`` run; returns {task_id or task_id[i]: (state, xcom)}."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = dagbag().dags[dag_id]
    for t in dag.tasks:  # a failure fails the test now, not after minutes of backoff
        t.retries = 0
    dr = dag.test(run_conf=conf or None)
    with create_session() as session:
        tis = {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): ti.state
            for ti in dr.get_task_instances(session=session)
        }
        xcoms = {
            (x.task_id if x.map_index < 0 else f"{x.task_id}[{x.map_index}]", x.key): x.value
            for x in session.scalars(
                select(XComModel).where(XComModel.dag_id == dag_id, XComModel.run_id == dr.run_id)
            )
        }
    return dr.state, tis, xcoms


def _ingest_and_dedup():
    states = {}
    for s in SOURCES:
        states[s] = _run(f"newsdedup_ingest_{s}")
    states["dedup"] = _run("newsdedup_dedup")
    return states


def _snapshot(url):
    from pipeline.store.store import Store

    with Store.open(url) as store:
        counts = {k: v for k, v in table_counts(store).items() if k in STABLE}
        stories = sorted(
            (s["canonical"] or "", tuple(sorted(s["members"])), tuple(sorted(s["contributors"])))
            for s in export_stories(store)
        )
    return counts, stories


def test_ingest_and_dedup_twice_same_rows_and_same_stories_as_the_cli(
    airflow_env, inbox, databases, migrated_template, config
):
    first = _ingest_and_dedup()
    for name, (state, tis, _) in first.items():
        assert state == "success", (name, tis)
    # every source stored something new, so every announce updated its asset
    for s in SOURCES:
        assert first[s][1]["announce"] == "success"
    _, tis, xcoms = first["dedup"]
    assert {tis[f"sign[{i}]"] for i in range(4)} == {"success"}
    assert {tis[f"verify[{i}]"] for i in range(4)} == {"success"}
    assert tis["publish"] == "success" and tis["more"] == "skipped"
    # XCom: batch keys, shard numbers and counts; never article text
    for (task, key), value in xcoms.items():
        blob = json.dumps(value, default=str)
        assert len(blob) < 1000, (task, key)
        assert "copper" not in blob.lower(), (task, key)
    assert xcoms[("open_batch", "return_value")] == [0, 1, 2, 3]
    assert xcoms[("open_batch", "batch_key")].startswith("airflow manual__")

    snap = _snapshot(airflow_env)
    assert snap[0]["story"] >= 3 and snap[0]["quarantine"] == 1

    second = _ingest_and_dedup()
    for s in SOURCES:
        state, tis, xcoms = second[s]
        assert state == "success" and tis["announce"] == "skipped"
        counts = xcoms[("ingest", "return_value")]["counts"]
        assert counts["payloads_new"] == 0 and counts["items_new"] == 0
    state, tis, xcoms = second["dedup"]
    assert state == "success"
    assert xcoms[("open_batch", "return_value")] == []  # empty batch: the stages skip
    assert tis["candidates"] == "skipped" and tis["publish"] == "skipped"
    assert _snapshot(airflow_env) == snap

    # the same inbox through the CLI's single-process path gives the same stories
    from pipeline.store.store import Store

    cli_url = databases.create(template=migrated_template)
    with Store.open(cli_url) as store:
        run.inbox(store, inbox, config)
    assert _snapshot(cli_url)[1] == snap[1]


def test_ingest_records_its_data_interval_in_the_run_table(airflow_env):
    from pipeline.store.store import Store

    state, _, _ = _run("newsdedup_ingest_xinhua")
    assert state == "success"
    with Store.open(airflow_env) as store:
        row = store.conn.execute(
            "SELECT stage, batch_key, status, counts FROM run WHERE stage = 'ingest:xinhua'"
        ).fetchone()
    assert row["status"] == "ok" and row["counts"]["files"] == 2
    # <start>/<end> of the 5-minute interval
    start, end = row["batch_key"].split("/")
    assert start < end and end.endswith(":00Z")


def test_batches_and_stage_runs_keep_their_dag_run(airflow_env):
    from pipeline.store.store import Store

    _ingest_and_dedup()
    with Store.open(airflow_env) as store:
        batch = store.conn.execute("SELECT key, dag_id, dag_run_id FROM batch").fetchone()
        runs = store.conn.execute(
            "SELECT stage, dag_id, dag_run_id, task_id, map_index FROM run ORDER BY id"
        ).fetchall()
    assert batch["dag_id"] == "newsdedup_dedup"
    assert batch["key"] == f"airflow {batch['dag_run_id']}"
    assert runs and all(r["dag_run_id"] for r in runs)
    ingest = next(r for r in runs if r["stage"] == "ingest:cgtn")
    assert (ingest["dag_id"], ingest["task_id"], ingest["map_index"]) == (
        "newsdedup_ingest_cgtn",
        "ingest",
        None,
    )
    signs = sorted(r["map_index"] for r in runs if r["task_id"] == "sign")
    assert signs == [0, 1, 2, 3]
    assert {r["dag_run_id"] for r in runs if r["dag_id"] == "newsdedup_dedup"} == {
        batch["dag_run_id"]
    }


def test_a_task_without_the_connection_fails_in_one_line(airflow_env, monkeypatch, tmp_path):
    monkeypatch.delenv("AIRFLOW_CONN_NEWSDEDUP_DB")
    monkeypatch.setenv("NEWSDEDUP_DATABASE_URL", "postgresql://nowhere.invalid/x")
    monkeypatch.setenv("NEWSDEDUP_DATA_DIR", str(tmp_path))
    state, tis, _ = _run("newsdedup_ingest_xinhua")
    assert state == "failed" and tis["ingest"] == "failed"
    assert not (tmp_path / "pgdata").exists()  # no embedded server, no other database


def test_maintenance_requeue_rebuild_and_resign(airflow_env, tmp_path, monkeypatch):
    from pipeline.store.store import Store

    _ingest_and_dedup()
    before = _snapshot(airflow_env)

    state, tis, xcoms = _run("newsdedup_maintenance", operation="requeue")
    assert state == "success" and tis["requeue"] == "success"
    assert tis["rebuild"] == "skipped" and tis["resign_shards"] == "skipped"
    got = xcoms[("requeue", "return_value")]
    assert got["requeue"]["counts"]["requeued"] == 1
    assert got["requeue"]["counts"]["quarantined"] == 1  # still truncated: quarantined again

    # rebuild the copper week: its articles go back to pending, the next batch re-derives
    # the same stories (nothing changed in between)
    state, tis, xcoms = _run(
        "newsdedup_maintenance",
        operation="rebuild",
        since="2026-06-11T00:00:00Z",
        until="2026-06-13T00:00:00",
    )
    assert state == "success", tis
    got = xcoms[("rebuild", "return_value")]
    assert got["counts"]["marked_pending"] >= 4 and got["pending"] >= 4
    state, tis, _ = _run("newsdedup_dedup")
    assert state == "success" and tis["publish"] == "success"
    after = _snapshot(airflow_env)
    assert after[1] == before[1]

    # a form mistake fails at once, without retries, and changes nothing
    state, tis, _ = _run("newsdedup_maintenance", operation="rebuild", since="2026-06-11")
    assert state == "failed" and tis["choose"] == "failed"

    # a new fingerprint: resign gives every article a signature under it
    cfg = tmp_path / "newsdedup.toml"
    cfg.write_text("[dedup]\nnum_perm = 64\nbands = 21\ncaption_bands = 16\n", encoding="utf-8")
    monkeypatch.setenv("NEWSDEDUP_CONFIG", str(cfg))
    state, tis, xcoms = _run("newsdedup_maintenance", operation="resign", shards=2)
    assert state == "success" and tis["resign[0]"] == tis["resign[1]"] == "success"
    from pipeline.config import load_settings

    fp = load_settings().dedup.fingerprint
    with Store.open(airflow_env) as store:
        row = store.conn.execute(
            "SELECT count(*) FILTER (WHERE s.kind = 'story') AS story,"
            " (SELECT count(*) FROM article WHERE story_text <> '') AS articles"
            " FROM signature s JOIN dedup_config c ON c.id = s.config_id"
            " WHERE c.fingerprint = %s",
            (fp,),
        ).fetchone()
    assert row["story"] == row["articles"] > 0
    signed = sum(xcoms[(f"resign[{i}]", "return_value")]["articles"] for i in range(2))
    assert signed == row["articles"]
    # again: nothing left to sign
    state, tis, xcoms = _run("newsdedup_maintenance", operation="resign", shards=2)
    assert sum(xcoms[(f"resign[{i}]", "return_value")]["articles"] for i in range(2)) == 0
