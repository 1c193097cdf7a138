"""Quality gate on the labelled dev set in ../shared/eval (skipped where it is absent).

Runs the whole pipeline on the dev inbox against a real PostgreSQL, scores the export with
pipeline.evaluate, fails under the targets of the quality issue, and checks that our
metrics agree with the shared scorer's on the same file."""

import json
import subprocess
import sys

import pytest

from pipeline.evaluate import evaluate, misses, record_check, record_misses
from pipeline.report import export_stories, read_jsonl
from pipeline.stages import run
from tests.conftest import EVAL_DEV, shared_or_skip

pytestmark = pytest.mark.slow


def test_dev_set_meets_quality_targets(store, config, tmp_path):
    dev = shared_or_skip(EVAL_DEV)
    run.inbox(store, dev / "inbox", config)
    stories = list(export_stories(store))
    truth = {r["item"]: r for r in read_jsonl(dev / "truth.jsonl")}
    report = evaluate(truth, stories, read_jsonl(dev / "negatives.jsonl"))
    print(report.summary())
    assert misses(report) == [], report.summary()
    check = record_check(stories, store.report.record_members())
    assert record_misses(check) == [], check.lines()
    assert check.records and check.corrections[1]  # the check saw corrections to judge

    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps(s) + "\n" for s in stories))
    scorer = dev.parent / "score.py"
    out = subprocess.run(
        [sys.executable, str(scorer), "--truth", str(dev / "truth.jsonl"), "--pred", str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == report.summary()
