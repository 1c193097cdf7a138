"""B3 and B5: any bytes in a file name, symlink loops and unreadable files or folders.

Tests run as root in some places, where chmod cannot make a file unreadable: then reading
is refused by a patched ``open`` / ``os.scandir`` for exactly those paths, which is the
error the pipeline meets as an ordinary user."""

from __future__ import annotations

import os
import shutil

import pytest

from pipeline.sources import collect
from tests.conftest import SAMPLE_INBOX
from tests.reliability.common import nd

BAD_NAME = b"2026-06-11-\xff\xfebad.txt"


@pytest.fixture
def inbox(tmp_path):
    dst = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, dst)
    return dst


def test_b3_a_file_name_that_is_not_utf8_is_ingested_with_its_exact_bytes(inbox, db_url, store):
    src = inbox / "cgtn" / "2026-06-11-CuChile7x.txt"
    odd = os.path.join(os.fsencode(inbox / "cgtn"), BAD_NAME)
    with open(odd, "wb") as f:
        f.write(src.read_bytes().replace(b"Chile", b"Peru"))
    r = nd("run", "--inbox", str(inbox), "--database-url", db_url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    row = store.conn.execute(
        "SELECT origin, origin_bytes FROM payload WHERE origin_bytes IS NOT NULL"
    ).fetchone()
    assert row["origin"].endswith("2026-06-11-\\xff\\xfebad.txt")
    assert bytes(row["origin_bytes"]) == odd
    # a second run takes nothing twice
    r = nd("run", "--inbox", str(inbox), "--database-url", db_url)
    assert r.returncode == 0 and "Traceback" not in r.stderr


def test_b5_a_symlink_loop_is_quarantined_and_the_folder_still_ingested(inbox, db_url, store):
    loop = inbox / "reuters" / "a-loop.xml"  # listed first: it must not hide the others
    os.symlink(loop, loop)  # ELOOP on every look
    r = nd("run", "--inbox", str(inbox), "--database-url", db_url)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "quarantined: 1" in r.stdout
    n = store.conn.execute(
        "SELECT count(*) AS n FROM payload WHERE source = 'reuters' AND status = 'parsed'"
    ).fetchone()["n"]
    assert n == len(list((SAMPLE_INBOX / "reuters").iterdir()))
    q = nd("quarantine", "--database-url", db_url)
    assert "a-loop.xml" in q.stdout and "symbolic links" in q.stdout, q.stdout


def _deny(monkeypatch, *paths):
    """Make ``paths`` unreadable: chmod where that binds, a refusing open/scandir as root."""
    for p in paths:
        p.chmod(0)
    if os.geteuid() != 0:
        return
    denied = {os.fsencode(p) for p in paths}
    real_open, real_scandir = open, os.scandir

    def guarded(path, *a, **kw):
        if os.fsencode(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))
        return (real_scandir if guarded.scandir else real_open)(path, *a, **kw)

    def fake_open(path, *a, **kw):
        guarded.scandir = False
        return guarded(path, *a, **kw)

    def fake_scandir(path="."):
        guarded.scandir = True
        return guarded(path)

    monkeypatch.setattr(collect, "open", fake_open, raising=False)
    monkeypatch.setattr(collect.os, "scandir", fake_scandir)


def test_b5_unreadable_file_and_folder_are_quarantined(inbox, store, config, monkeypatch):
    from pipeline.report import render_report
    from pipeline.stages import run

    sub = inbox / "xinhua" / "late"
    sub.mkdir()
    shutil.copy(inbox / "xinhua" / "feed-001.xml", sub / "feed-009.xml")
    bad_file = inbox / "cgtn" / "2026-06-12-Fy5BsatLch.txt"
    try:
        _deny(monkeypatch, bad_file, sub)
        summaries = run.inbox(store, inbox, config)
        text, quarantined = render_report(store, summaries)
    finally:
        bad_file.chmod(0o644)
        sub.chmod(0o755)
    assert quarantined == 2, text
    reasons = store.conn.execute(
        "SELECT p.origin, p.format, q.reason FROM quarantine q JOIN payload p ON p.id = q.payload_id"
    ).fetchall()
    got = {os.path.basename(r["origin"]): r["reason"] for r in reasons}
    assert got == {
        "2026-06-12-Fy5BsatLch.txt": "cannot read file: Permission denied",
        "late": "cannot list folder: Permission denied",
    }
    assert {r["format"] for r in reasons} == {"path"}


def test_b5_a_scheduled_ingest_quarantines_a_loop_too(tmp_path):
    """The Airflow ingest lists folders itself (up to its cutoff): a loop it meets there is
    handed on to be quarantined, not dropped."""
    from datetime import UTC, datetime

    from pipeline.config import SourceConfig
    from pipeline.tasks import files_for

    folder = tmp_path / "reuters"
    folder.mkdir()
    (folder / "a.xml").write_text("a")
    os.symlink(folder / "loop.xml", folder / "loop.xml")
    unreadable: list = []
    src = SourceConfig(name="reuters", folders=(str(folder),))
    assert files_for(src, datetime(2100, 1, 1, tzinfo=UTC), unreadable) == [folder / "a.xml"]
    assert [(p.path.name, "symbolic links" in p.reason) for p in unreadable] == [("loop.xml", True)]


def _open_reasons(store) -> dict[str, str]:
    rows = store.conn.execute(
        "SELECT p.origin, q.reason FROM quarantine q JOIN payload p ON p.id = q.payload_id "
        "WHERE q.resolved_at IS NULL"
    ).fetchall()
    return {os.path.basename(r["origin"]): r["reason"] for r in rows}


def test_requeue_reads_an_unreadable_path_again_from_disk(inbox, store, config, monkeypatch):
    """A quarantined path has no bytes to parse: requeue reads the file or folder again.
    Still unreadable, it is quarantined again with its reason; fixed, it is ingested; gone,
    requeue says so."""
    from pipeline.stages import maintenance, run

    loop = inbox / "reuters" / "a-loop.xml"
    os.symlink(loop, loop)
    sub = inbox / "xinhua" / "late"
    sub.mkdir()
    late = (inbox / "xinhua" / "feed-001.xml").read_text().replace("c_131", "c_931")
    (sub / "feed-009.xml").write_text(late)
    gone = inbox / "cgtn" / "gone.txt"
    gone.write_text("x")
    try:
        _deny(monkeypatch, sub, gone)
        run.inbox(store, inbox, config)
        assert set(_open_reasons(store)) == {"a-loop.xml", "late", "gone.txt"}
        # nothing fixed yet: each is quarantined again, with the same reason
        before = _open_reasons(store)
        c = maintenance.requeue(store).counts
        assert (c["paths_reread"], c["quarantined"], c["items_new"]) == (3, 3, 0)
        assert _open_reasons(store) == before
    finally:
        monkeypatch.undo()
        sub.chmod(0o755)
    # fixed: the loop is a file, the folder readable, the file deleted
    loop.unlink()
    loop.write_text((SAMPLE_INBOX / "xinhua" / "feed-002.xml").read_text().replace("c_13", "c_83"))
    gone.unlink()
    c = maintenance.requeue(store).counts
    assert (c["paths_reread"], c["paths_gone"], c["quarantined"]) == (3, 1, 0)
    assert c["items_new"] >= 2  # the late feed's items and the former loop's
    assert _open_reasons(store) == {}
    keys = {r["item_key"] for r in store.conn.execute("SELECT item_key FROM article")}
    assert any("c_931" in k for k in keys) and any("c_83" in k for k in keys), keys
