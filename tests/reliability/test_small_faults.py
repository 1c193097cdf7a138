"""B6-B8: entity declarations in any encoding, a killed embedded server, a misspelt section."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pipeline.sources import registry
from tests.reliability.common import env, nd

RSS = (
    '<?xml version="1.0" encoding="{enc}"?>'
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    '<rss version="2.0"><channel><title>t</title><item><title>&b;</title>'
    "<guid>x1</guid><description>Text of the story.</description></item></channel></rss>"
)


@pytest.mark.parametrize(
    "codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-8-sig"]
)
def test_b6_entity_declarations_are_refused_in_every_encoding(codec):
    body = RSS.format(enc=codec.removesuffix("-sig").upper()).encode(codec)
    parsed = registry.parse_payload(body, "xinhua", "feed.xml")
    assert not parsed.items
    assert [p.reason for p in parsed.problems] == [
        "XML declares entities (<!ENTITY>): refused as a possible entity bomb"
    ]


def test_b6_a_story_about_entities_in_json_is_not_refused():
    body = b'{"uri": "x1", "type": "text", "headline": "What <!ENTITY means", "body_text": "t"}'
    parsed = registry.parse_payload(body, "ap", "x.json")
    assert "entity bomb" not in " ".join(p.reason for p in parsed.problems)


def test_b7_a_killed_embedded_server_leaves_no_traceback(data_dir):
    """kill -9 of the embedded server: the process exits without pgserver's exit hook
    traceback, and the dead process is not left in the server's handle list."""
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        from pathlib import Path
        from pipeline.store.connect import embedded_url, _embedded
        embedded_url(Path(sys.argv[1]))
        server = next(iter(_embedded.values()))
        os.kill(server.get_pid(), signal.SIGKILL)
        time.sleep(0.5)  # a run notices its lost connection and exits, the server half dead
        """
    )
    data = data_dir
    r = subprocess.run(
        [sys.executable, "-c", script, str(data)],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert (data / "pgdata" / ".handle_pids.json").read_text() == "[]"


def test_b7_dead_handles_are_dropped_so_the_server_stops(data_dir):
    """A handle left by a killed run (a dead PID) no longer keeps the server running."""
    data = data_dir
    assert nd("db", "--data-dir", str(data)).returncode == 0
    handles = data / "pgdata" / ".handle_pids.json"
    handles.write_text("[999999999]")  # above pid_max: never a live process
    r = nd("db", "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    assert handles.read_text() == "[]"
    assert not (data / "pgdata" / "postmaster.pid").exists()


def test_b8_a_misspelt_section_is_one_line_exit_2(tmp_path, data_dir):
    cfg = tmp_path / "newsdedup.toml"
    cfg.write_text("[dedupe]\nwindow_days = 7\n")
    r = nd("db", "--config", str(cfg), "--data-dir", str(data_dir))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "dedupe" in r.stderr, r.stderr
