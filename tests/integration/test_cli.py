"""The CLI end to end, as a user runs it: exit codes, report, export, explain."""

import json
import shutil
import subprocess
import sys

from tests.conftest import SAMPLE_INBOX


def nd(*args, env=None, check=False):
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=check,
    )


def test_run_report_export_explain(db_url, tmp_path):
    r = nd("run", "--inbox", str(SAMPLE_INBOX), "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    assert "stories:" in r.stdout and "time per stage:" in r.stdout
    assert "Traceback" not in r.stderr
    out = tmp_path / "stories.jsonl"
    r = nd("export", "stories", "--database-url", db_url, "-o", str(out))
    assert r.returncode == 0, r.stderr
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert recs and all(
        {"story_id", "canonical", "members", "contributors", "captions"} <= set(x) for x in recs
    )
    r = nd("explain", "cgtn:2026-06-11-CuChile7x", "--database-url", db_url)
    assert r.returncode == 0 and "same story" in r.stdout
    _sample_records_read_right(recs, db_url)
    r = nd("eval", "--record-only", "--database-url", db_url)
    assert r.returncode == 0 and "record targets: all met" in r.stdout, r.stdout + r.stderr
    assert "merged records 6: repeated-fact pairs 0" in r.stdout


CORRECTED = "reuters:tag:reuters.com,2026:newsml_L1N3CU0QQ"
FIRST_TAKE = "reuters:tag:reuters.com,2026:newsml_L1N3CU0PP"
KILLED = "reuters:tag:reuters.com,2026:newsml_L5N3CW1AA"


def _sample_records_read_right(recs, db_url):
    """The Chile copper story: the correction is canonical, its corrected figure is credited
    to it, the other paragraphs to the first take that carried them, and no member's
    rewording of the lead is added. The killed story is marked so, with no text."""
    chile = next(x for x in recs if CORRECTED in x["members"])
    assert chile["canonical"] == CORRECTED and chile["headline"].startswith("Chile")
    paras = [e for e in chile["record"] if e["kind"] != "caption"]
    assert all(e["kind"] == "canonical" for e in paras)
    teniente = next(e for e in paras if "El Teniente" in e["text"])
    assert "38,100" in teniente["text"] and teniente["credit"] == CORRECTED
    assert all(e["credit"] == FIRST_TAKE for e in paras if e is not teniente)
    assert not any("36,100" in e["text"] for e in chile["record"])
    assert chile["killed"] is False and chile["killed_members"] == []
    dead = next(x for x in recs if KILLED in x["members"])
    assert dead["killed"] is True and dead["killed_members"] == [KILLED]
    assert dead["record"] == [] and dead["canonical"] is None
    r = nd("explain", KILLED, "--database-url", db_url)
    assert "killed: true" in r.stdout and "(1 member)" in r.stdout
    assert "operator merge" not in r.stdout and " 0.00 " not in r.stdout
    r = nd("explain", FIRST_TAKE, "--database-url", db_url)
    assert "version of the canonical: same story: 3-gram Jaccard" in r.stdout


def test_quarantine_exits_1_with_count(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    (inbox / "xinhua" / "bad.xml").write_bytes(b"<rss><channel><item>")
    r = nd("run", "--inbox", str(inbox), "--database-url", db_url)
    assert r.returncode == 1
    assert "quarantined: 1" in r.stdout
    r = nd("quarantine", "--database-url", db_url)
    assert "bad.xml" in r.stdout and "not well-formed" in r.stdout


def test_user_mistakes_are_one_line_exit_2(db_url, tmp_path):
    cases = [
        ("run", "--inbox", str(tmp_path / "missing"), "--database-url", db_url),
        ("run", "--database-url", "postgresql://nobody@127.0.0.1:1/none"),
        ("explain", "reuters:nope", "--database-url", db_url),
        ("run", "--bogus-flag"),
        ("run", "--config", str(tmp_path / "nope.toml"), "--database-url", db_url),
    ]
    for args in cases:
        r = nd(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_embedded_default_database(tmp_path):
    """No URL anywhere: an embedded PostgreSQL starts in the data dir and says so."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEDUP_")}
    data = tmp_path / "d"
    r = nd("run", "--data-dir", str(data), env=env)
    assert r.returncode == 0, r.stderr
    assert f"embedded PostgreSQL in {data / 'pgdata'}" in r.stdout
    assert (data / "pgdata" / "PG_VERSION").exists()
    r = nd("export", "stories", "--data-dir", str(data), env=env)
    assert r.returncode == 0 and len(r.stdout.splitlines()) >= 5
