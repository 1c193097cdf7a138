"""The scheduler entry points' pure parts: connection URLs, run keys, times, file cutoffs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import ConfigError, Settings, SourceConfig
from pipeline.tasks import (
    connection_json,
    files_for,
    interval_key,
    parse_time,
    shard_list,
    sources,
    url_from_connection,
)


def test_importing_the_entry_points_is_cheap():
    code = (
        "import sys, pipeline.tasks\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('psycopg', 'airflow', 'numpy', 'numba'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_url_from_connection_fields():
    assert (
        url_from_connection(host="db", port=5433, login="nd", password="p@ss/w", schema="news")
        == "postgresql://nd:p%40ss%2Fw@db:5433/news"
    )
    # a socket directory (the embedded server) goes into the query string
    assert (
        url_from_connection(host="/tmp/pg sock", login="postgres", schema="newsdedup")
        == "postgresql://postgres@/newsdedup?host=%2Ftmp%2Fpg+sock"
    )
    # libpq options from the extra field; anything else is ignored
    assert (
        url_from_connection(host="db", schema="n", extra={"sslmode": "require", "cursor": "x"})
        == "postgresql://db/n?sslmode=require"
    )


def test_default_sources_without_configuration(tmp_path):
    got = sources(Settings(data_dir=tmp_path))
    assert [s.name for s in got] == ["reuters", "xinhua", "cgtn"]
    assert all(s.folders == () and s.schedule == "*/5 * * * *" for s in got)


def test_interval_key_and_times():
    start = datetime(2026, 6, 11, 12, 0, tzinfo=UTC)
    end = start + timedelta(minutes=5)
    assert interval_key(start, end, end) == "2026-06-11T12:00:00Z/2026-06-11T12:05:00Z"
    assert interval_key(None, None, end) == "manual 2026-06-11T12:05:00Z"
    assert parse_time("2026-06-11", "since") == datetime(2026, 6, 11, tzinfo=UTC)
    assert parse_time("2026-06-11T02:00:00+02:00", "since") == datetime(2026, 6, 11, tzinfo=UTC)
    assert parse_time("", "since") is None
    with pytest.raises(ConfigError, match="until: not an ISO 8601 time"):
        parse_time("yesterday", "until")
    assert shard_list(3) == [0, 1, 2]
    with pytest.raises(ConfigError):
        shard_list(0)


def test_files_for_sees_only_what_arrived_by_the_cutoff(tmp_path):
    folder = tmp_path / "reuters"
    folder.mkdir()
    old, new = folder / "a.xml", folder / "b.xml"
    old.write_text("a")
    new.write_text("b")
    (folder / ".partial.xml").write_text("being written")
    cutoff = datetime(2026, 6, 11, 12, 0, tzinfo=UTC)
    os.utime(old, (cutoff.timestamp() - 60,) * 2)
    os.utime(new, (cutoff.timestamp() + 60,) * 2)
    src = SourceConfig(name="reuters", folders=(str(folder), str(tmp_path / "missing")))
    assert files_for(src, cutoff) == [old]
    assert files_for(src, cutoff + timedelta(minutes=5)) == [old, new]


def test_connection_json_round_trips_through_url_from_connection():
    import json

    for url in (
        "postgresql://postgres:@/newsdedup?host=/tmp/pgsock",
        "postgresql://nd:p%40ss@db.example:5433/news?sslmode=require",
    ):
        fields = json.loads(connection_json(url))
        assert fields["conn_type"] == "postgres"
        fields.pop("conn_type")
        assert url_from_connection(**fields).replace("%2F", "/") == url.replace(":@", "@")
    with pytest.raises(ConfigError):
        connection_json("host=db dbname=x")
