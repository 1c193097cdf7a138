"""Airflow for the DAG tests: a private AIRFLOW_HOME with a SQLite metadata database,
initialised once per session, and the project's dags/ folder as the DAG bundle.

Airflow reads its configuration when it is first imported, so the environment is set
here, when pytest loads this file, before any test module imports airflow.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_INBOX

DAGS = ROOT / "dags"
_HOME = Path(tempfile.mkdtemp(prefix="nd-airflow-test-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # the sources' folders at parse time; tests that run DAGs point it elsewhere
        "NEWSDEDUP_INBOX": str(SAMPLE_INBOX),
    }
)
os.environ.pop("NEWSDEDUP_DATABASE_URL", None)
os.environ.pop("NEWSDEDUP_CONFIG", None)
os.environ.pop("AIRFLOW_CONN_NEWSDEDUP_DB", None)


@pytest.fixture(scope="session")
def airflow_db():
    """An initialised Airflow metadata database (needed by ``dag.test()``)."""
    from airflow.utils import db

    db.resetdb(skip_init=False)
    yield
    shutil.rmtree(_HOME, ignore_errors=True)


def dagbag():
    """The dags/ folder parsed the way the dag-processor parses a bundle."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS, bundle_path=DAGS)
