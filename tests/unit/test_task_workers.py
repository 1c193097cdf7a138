"""Worker processes per task: a scheduler runs tasks side by side, so a task that does not
get NEWSDEDUP_WORKERS takes at most TASK_WORKERS of the CPUs, not all of them."""

from __future__ import annotations

import pytest

from pipeline.stages import pool


@pytest.fixture
def eight_cpus(monkeypatch):
    monkeypatch.delenv("NEWSDEDUP_WORKERS", raising=False)
    monkeypatch.setattr(pool.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(pool, "_default_workers", None)


def test_standalone_takes_every_cpu_and_a_task_its_share(eight_cpus):
    assert pool.workers() == 8
    pool.share_with_other_tasks()
    assert pool.workers() == pool.TASK_WORKERS == 2


def test_the_setting_wins_inside_a_task(eight_cpus, monkeypatch):
    pool.share_with_other_tasks()
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "6")
    assert pool.workers() == 6


def test_a_one_cpu_machine_gets_one_worker(eight_cpus, monkeypatch):
    monkeypatch.setattr(pool.os, "cpu_count", lambda: 1)
    pool.share_with_other_tasks()
    assert pool.workers() == 1
