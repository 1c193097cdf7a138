"""`newsdedup dashboard`: the same app without Airflow, as a person starts it."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nd(*args, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "dashboard", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def test_dashboard_command_serves_pages_under_a_root_path(sample_url):
    port = _free_port()
    proc = nd(
        "--port",
        str(port),
        "--database-url",
        sample_url,
        "--user",
        "night desk",
        "--root-path",
        "/dedup",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read()
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(base + "/stories", headers={"Accept": "text/html"}, timeout=5)
                break
            assert time.monotonic() < deadline, "dashboard did not start"
            time.sleep(0.3)
        assert r.status_code == 200
        assert "night desk" in r.text and 'href="/dedup/stories/' in r.text
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    out = proc.stdout.read()
    assert f"http://127.0.0.1:{port}/dedup/" in out


def test_dashboard_command_mistakes_are_one_line_exit_2(sample_url):
    cases = [
        ("--port", "0", "--database-url", sample_url),
        ("--root-path", "dedup", "--database-url", sample_url),
        ("--database-url", "postgresql://nobody@127.0.0.1:1/none"),
    ]
    for args in cases:
        p = nd(*args)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 2, (args, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    # a port already taken
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        p = nd("--port", str(s.getsockname()[1]), "--database-url", sample_url)
        _, err = p.communicate(timeout=60)
    assert p.returncode == 2 and "cannot listen on" in err
