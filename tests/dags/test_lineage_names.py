"""The URIs the ingest and publish tasks report (dags/newsdedup_common.py) become the
OpenLineage datasets we document, through the converters Airflow's OpenLineage provider
looks up in the installed providers' registry: ``file`` and ``postgres`` from Airflow's
providers, ``http(s)`` (feeds) from ours (pipeline/airflow_provider.py)."""

from __future__ import annotations

import importlib
import sys

import pytest

from pipeline.airflow_provider import feed_name
from pipeline.config import SourceConfig
from tests.dags.conftest import DAGS

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage provider is missing")
pytestmark = pytest.mark.airflow


@pytest.fixture
def common(monkeypatch):
    """The shared DAG module, imported afresh under a connection of our own."""
    monkeypatch.syspath_prepend(str(DAGS))
    monkeypatch.setenv("AIRFLOW_CONN_NEWSDEDUP_DB", "postgresql://nd@db.example:5433/wire")
    sys.modules.pop("newsdedup_common", None)
    yield importlib.import_module("newsdedup_common")
    sys.modules.pop("newsdedup_common", None)


def _dataset(uri: str) -> tuple[str, str] | None:
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset
    from airflow.sdk import Asset

    got = translate_airflow_asset(Asset(uri=uri), None)
    return None if got is None else (got.namespace, got.name)


def test_folders_feeds_and_tables_are_named_as_documented(common, tmp_path):
    folder = tmp_path / "reuters"
    source = SourceConfig(
        name="reuters",
        folders=(str(folder),),
        urls=("https://wire.example:8443/feeds/reuters.xml?since=cursor",),
    )
    assert [_dataset(u) for u in common.source_uris(source)] == [
        ("file", str(folder)),
        ("https://wire.example:8443", "/feeds/reuters.xml?since=cursor"),
    ]
    assert _dataset(common.articles_asset("reuters").uri) == (
        "postgres://db.example:5433",
        "wire.public.article",
    )
    assert [_dataset(common.table(t)) for t in common.STORY_TABLES] == [
        ("postgres://db.example:5433", f"wire.public.{t}")
        for t in ("story", "story_member", "provenance")
    ]
    assert common.STORIES.uri == common.table("story")


def test_a_feed_without_a_path_or_query():
    assert feed_name("http://wire.example") == ("http://wire.example", "/")
