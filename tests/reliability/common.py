"""Helpers for the reliability tests: the CLI as a scheduler runs it, in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict[str, str]:
    """The environment of a child ``newsdedup``: this checkout first on the import path."""
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e.update(extra)
    return e


def nd(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=env(),
        timeout=timeout,
        **kw,
    )


def nd_popen(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def export(db_url: str) -> list[str]:
    """The exported stories, one JSON line each, sorted."""
    r = nd("export", "stories", "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    return sorted(r.stdout.splitlines())
