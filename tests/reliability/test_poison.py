"""A poison item never blocks the pipeline: an article whose processing raises in sign,
verify, merge or publish is quarantined at that stage with its reason, the run exits 1,
every other story is published as in a clean run, and re-runs converge.

Publish meets a real poison: a headline over PostgreSQL's search-vector limit, let through
ingest by a raised ``[limits] headline_chars``. No real input makes the pure code of sign,
verify or merge raise (it would be a bug, fixed when found), so for those the stage's own
per-item function is made to raise for one item: that is the failure a not-yet-known bug
would cause, and the test checks what the pipeline does about it, not how it arises. The
runs are in this process (``pipeline.cli.main``) so the fault can be injected.
"""

from __future__ import annotations

import json
import random
import shutil

import pytest

from pipeline import cli
from pipeline.config import Limits
from pipeline.merge import story
from pipeline.sources.prepare import configure_limits
from pipeline.stages import sign, verify
from pipeline.store.store import Store
from tests.conftest import SAMPLE_INBOX
from tests.reliability.common import export

POISON = "cgtn:2026-06-12-Fy5BsatLch"  # one of the two copies of the satellite story
POISON_HEADLINE = "China sends Fengyun-5B weather satellite into orbit"


@pytest.fixture(autouse=True)
def _default_limits():
    yield
    configure_limits(Limits())  # a run in this process set them from its configuration


def _nd(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def _stories(db: str) -> list[dict]:
    """The exported stories without their ids and caption group labels, which are
    numbered in publish order (a requeued article's story is published last), sorted."""
    out = []
    for line in export(db):
        s = json.loads(line)
        s.pop("story_id")
        for c in s["captions"]:
            c["group"] = c["group"] is not None
        out.append(json.dumps(s, sort_keys=True))
    return sorted(out)


def _apart_from(stories: list[str], clean: list[str], key: str) -> list[str]:
    """The stories that share no member with the clean run's story of ``key``."""
    mates = {m for s in clean for m in json.loads(s)["members"] if key in json.loads(s)["members"]}
    return [s for s in stories if not mates & set(json.loads(s)["members"])]


def _raise_for_poison(real, is_poison):
    def fault(*args, **kw):
        if is_poison(*args):
            raise RuntimeError("poisoned on purpose")
        return real(*args, **kw)

    return fault


FAULTS = {
    # the stage's pure function of one article, made to raise for the poison
    "sign": (sign, "lsh_text", lambda headline, text: headline == POISON_HEADLINE),
    "verify": (verify, "_features", lambda r: r["item_key"] == POISON),
    "merge": (story, "_member", lambda r: r["item_key"] == POISON),
}


@pytest.fixture(scope="module")
def clean(databases, migrated_template) -> list[str]:
    db = databases.create(template=migrated_template)
    assert cli.main(["run", "--inbox", str(SAMPLE_INBOX), "--database-url", db]) == 0
    return _stories(db)


def _quarantine(db: str) -> list[dict]:
    with Store.open(db) as store:
        return store.ingest.open_quarantine(10)


@pytest.mark.parametrize("stage", sorted(FAULTS))
def test_an_article_failing_in_a_stage_is_quarantined_there(
    stage, clean, db_url, capsys, monkeypatch
):
    module, name, is_poison = FAULTS[stage]
    monkeypatch.setattr(module, name, _raise_for_poison(getattr(module, name), is_poison))
    run = ("run", "--inbox", str(SAMPLE_INBOX), "--database-url", db_url)

    code, out = _nd(capsys, *run)
    assert code == cli.EXIT_QUARANTINED, out
    assert f"quarantined: 1 item(s) or file(s) ({stage} 1)" in out
    [q] = _quarantine(db_url)
    assert (q["item_key"], q["stage"]) == (POISON, stage)
    assert q["reason"] == f"{stage}: RuntimeError: poisoned on purpose"
    got = _stories(db_url)
    assert _apart_from(got, clean, POISON) == _apart_from(clean, clean, POISON)
    assert not any(POISON in s for s in got)  # not published half-processed

    # the fault still there: a re-run has nothing new to do and changes nothing
    code, out = _nd(capsys, *run)
    assert code == cli.EXIT_OK, out
    assert _stories(db_url) == got

    # the fault fixed: requeued, the next dedup publishes exactly the clean stories
    monkeypatch.undo()
    code, out = _nd(capsys, "requeue", "--database-url", db_url)
    assert code == cli.EXIT_OK and "1 article(s) a dedup stage quarantined" in out, out
    code, out = _nd(capsys, "dedup", "--database-url", db_url)
    assert code == cli.EXIT_OK, out
    assert _stories(db_url) == clean
    assert _quarantine(db_url) == []


RSS = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Xinhua</title>'
    "<item><title>{headline}</title><link>http://english.news.cn/2026-06/14/c_77.htm</link>"
    "<description>&lt;p&gt;{body}&lt;/p&gt;</description>"
    "<pubDate>Sun, 14 Jun 2026 04:40:00 +0800</pubDate><guid>c_77</guid></item>"
    "</channel></rss>"
)


@pytest.mark.slow
def test_a_headline_the_database_refuses_is_quarantined_at_publish(clean, db_url, capsys, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    rng = random.Random(1)
    headline = " ".join(f"w{rng.getrandbits(40):x}" for _ in range(100_000))  # ~1.2 MB
    body = "Copper output at the mines fell in May, the commission said on Thursday. " * 3
    (inbox / "xinhua" / "feed-huge.xml").write_text(RSS.format(headline=headline, body=body))
    config = tmp_path / "newsdedup.toml"
    config.write_text("[limits]\nheadline_chars = 2000000\n")
    run = ("run", "--inbox", str(inbox), "--database-url", db_url, "--config", str(config))
    key = "xinhua:c_77"

    code, out = _nd(capsys, *run)
    assert code == cli.EXIT_QUARANTINED, out
    [q] = _quarantine(db_url)
    assert (q["item_key"], q["stage"]) == (key, "publish")
    assert q["reason"].startswith("publish: ProgramLimitExceeded: string is too long for tsvector")
    assert _stories(db_url) == clean

    code, out = _nd(capsys, *run)
    assert code == cli.EXIT_OK, out
    assert _stories(db_url) == clean
    # requeued without a fix, it fails the same way again, and nothing else changes
    code, out = _nd(capsys, "requeue", "--database-url", db_url)
    assert code == cli.EXIT_OK, out
    code, out = _nd(capsys, "dedup", "--database-url", db_url, "--config", str(config))
    assert code == cli.EXIT_QUARANTINED, out
    assert [(q["item_key"], q["stage"]) for q in _quarantine(db_url)] == [(key, "publish")]
    assert _stories(db_url) == clean
