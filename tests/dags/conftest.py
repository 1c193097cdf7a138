"""Airflow for the DAG tests: a private AIRFLOW_HOME with a SQLite metadata database,
initialised once per session, and the project's dags/ folder as the DAG bundle.

Airflow reads its configuration when it is first imported, so the environment is set
here, when pytest loads this file, before any test module imports airflow.
"""

from __future__ import annotations

import contextlib
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
    }
)

# What the DAG files read at parse time. Set per use, never for the whole session: other
# tests load settings from the same environment.
PARSE_ENV = {"NEWSDEDUP_INBOX": str(SAMPLE_INBOX)}
UNSET = ("NEWSDEDUP_CONFIG", "NEWSDEDUP_DATABASE_URL", "AIRFLOW_CONN_NEWSDEDUP_DB")


@pytest.fixture(scope="session")
def airflow_db():
    """An initialised Airflow metadata database (needed by ``dag.test()``)."""
    from airflow.utils import db

    db.resetdb(skip_init=False)
    yield
    shutil.rmtree(_HOME, ignore_errors=True)


@contextlib.contextmanager
def parse_env(**overrides: str):
    """The sample inbox as the sources' folders and no stray newsdedup settings, for as
    long as the block runs (``overrides`` win)."""
    saved = {k: os.environ.get(k) for k in (*PARSE_ENV, *UNSET, *overrides)}
    for k in UNSET:
        os.environ.pop(k, None)
    os.environ.update({**PARSE_ENV, **overrides})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dagbag():
    """The dags/ folder parsed the way the dag-processor parses a bundle."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS, bundle_path=DAGS)
