"""The standalone dashboard answers only for its own names (DNS rebinding) and takes
changes only from its own pages (Origin on POST)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.reliability.common import env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_host_allow_list_and_origin_check(db_url):
    port = _free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "pipeline.cli", "dashboard", "--port", str(port)),
            *("--database-url", db_url, "--allow-host", "desk.example"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read()
            with contextlib.suppress(httpx.HTTPError):
                ok = httpx.get(base + "/stories", timeout=5)
                break
            assert time.monotonic() < deadline, "dashboard did not start"
            time.sleep(0.3)
        assert ok.status_code == 200
        assert (
            httpx.get(base + "/stories", headers={"Host": f"localhost:{port}"}).status_code == 200
        )
        assert httpx.get(base + "/stories", headers={"Host": "desk.example"}).status_code == 200
        rebound = httpx.get(base + "/stories", headers={"Host": f"evil.example:{port}"})
        assert rebound.status_code == 421 and "evil.example" in rebound.text
        cross = httpx.post(base + "/nothing", headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403
        own = httpx.post(base + "/nothing", headers={"Origin": base})
        assert own.status_code not in (403, 421)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
