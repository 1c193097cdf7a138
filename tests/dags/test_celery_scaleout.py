"""Scale-out: scripts/celery_scaleout.py runs the DAGs under the CeleryExecutor with two
workers (the local Redis as broker, the local PostgreSQL for Airflow and the pipeline), triggers them through the REST API and compares the stories with a
single-process ``newsdedup run``. About two minutes; skipped where Redis or a PostgreSQL
server is missing (the script says which)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytest.importorskip("airflow", reason="the airflow extra is not installed")
pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def test_two_celery_workers_share_the_mapped_tasks_and_match_the_cli(tmp_path):
    admin = os.environ.get("NEWSDEDUP_TEST_DATABASE_URL")
    if not admin:
        pytest.skip("needs a PostgreSQL server (NEWSDEDUP_TEST_DATABASE_URL) for Airflow")
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    got = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "celery_scaleout.py"), "--json", str(out)],
        capture_output=True,
        text=True,
        env={**env, "NEWSDEDUP_TEST_DATABASE_URL": admin},
        timeout=1200,
    )
    if got.returncode == 2:
        pytest.skip(got.stderr.strip())
    print(got.stdout)
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["both_workers"] and result["all_tasks_ok"] and result["stories_equal"]
    assert set(result["mapped_task_workers"]) == {"worker-1", "worker-2"}
