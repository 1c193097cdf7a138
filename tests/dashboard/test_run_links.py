"""Batches and stage runs link to their DAG run and task log in Airflow's UI."""

import pytest

from pipeline.config import load_settings
from pipeline.dashboard.app import create_app
from pipeline.dashboard.auth import LocalAuth
from pipeline.model import RunOrigin
from pipeline.stages import run
from pipeline.store.store import Store
from tests.conftest import SAMPLE_INBOX
from tests.dashboard.conftest import COPPER_CANONICAL, HTML

pytestmark = pytest.mark.integration
RUN_ID = "manual__2026-06-20T00:00:00+00:00"
RUN_PATH = "manual__2026-06-20T00%3A00%3A00%2B00%3A00"


@pytest.fixture
def from_airflow(db_url):
    """The sample run as if a DAG run's task had run it (the origin a task passes)."""
    origin = RunOrigin("newsdedup_dedup", RUN_ID, "cluster_merge", None)
    with Store.open(db_url, origin=origin) as store:
        run.inbox(store, SAMPLE_INBOX, load_settings().dedup)
    return db_url


def _client(url, airflow_url):
    from fastapi.testclient import TestClient

    app = create_app(load_settings(database_url=url), auth=LocalAuth("t"), airflow_url=airflow_url)
    return TestClient(app)


def test_overview_and_story_link_to_the_dag_run_and_task_log(from_airflow):
    with _client(from_airflow, "http://127.0.0.1:8080") as c:
        html = c.get("/", headers=HTML).text
        run_url = f"http://127.0.0.1:8080/dags/newsdedup_dedup/runs/{RUN_PATH}"
        assert f'href="{run_url}" target="_top"' in html
        assert f'href="{run_url}/tasks/cluster_merge" target="_top"' in html
        page = c.get("/stories", params={"q": COPPER_CANONICAL}, headers=HTML).text
        assert f'<a href="{run_url}" target="_top"' in page
        c.app.state.db.close()


def test_no_links_without_an_airflow_url(from_airflow):
    with _client(from_airflow, None) as c:
        assert "/dags/" not in c.get("/", headers=HTML).text
        c.app.state.db.close()


def test_no_links_for_what_the_cli_ran(sample_url):
    with _client(sample_url, "http://127.0.0.1:8080") as c:
        assert "/dags/" not in c.get("/", headers=HTML).text
        c.app.state.db.close()
