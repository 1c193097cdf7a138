"""Operator actions are honoured by every later run: new copies of the same stories arrive
through ``newsdedup run`` and nothing the operator decided is undone."""

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.conftest import SAMPLE_INBOX
from tests.dashboard.conftest import (
    COPPER_CANONICAL,
    COPPER_CGTN,
    COPPER_XINHUA,
    POWER_1,
    POWER_2,
    Dash,
    make_client,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COPPER_PP = "reuters:tag:reuters.com,2026:newsml_L1N3CU0PP"
SAT_CGTN = "cgtn:2026-06-12-Fy5BsatLch"
MINES = "cgtn:2026-06-13-MinesAsia2"


def run(inbox: Path, url: str) -> None:
    assert main(["run", "--inbox", str(inbox), "--database-url", url]) == 0


def later_inbox(tmp_path: Path) -> Path:
    """New copies of the copper and power stories: a CGTN reprint of the copper piece
    (new file, same text) and a Xinhua feed re-sending both stories under new guids."""
    inbox = tmp_path / "later"
    (inbox / "cgtn").mkdir(parents=True)
    (inbox / "xinhua").mkdir()
    cu = (SAMPLE_INBOX / "cgtn" / "2026-06-11-CuChile7x.txt").read_text(encoding="utf-8")
    cu = cu.replace("Updated 23:40, 11-Jun-2026", "Updated 08:15, 12-Jun-2026")
    (inbox / "cgtn" / "2026-06-12-CuChileAgain.txt").write_text(cu, encoding="utf-8")
    feed = (SAMPLE_INBOX / "xinhua" / "feed-002.xml").read_text(encoding="utf-8")
    feed = feed.replace("c_1310001.htm", "c_1319001.htm").replace("c_1310077.htm", "c_1319077.htm")
    feed = feed.replace("c_1310045.htm", "c_1319045.htm")
    (inbox / "xinhua" / "feed-later.xml").write_text(feed, encoding="utf-8")
    return inbox


def mines_copy(tmp_path: Path, stem: str, updated: str) -> Path:
    """An inbox with one more CGTN copy of the mines story, dated ``updated``."""
    inbox = tmp_path / stem
    (inbox / "cgtn").mkdir(parents=True, exist_ok=True)
    text = (SAMPLE_INBOX / "cgtn" / "2026-06-13-MinesAsia2.txt").read_text(encoding="utf-8")
    text = text.replace("Updated 10:20, 13-Jun-2026", f"Updated {updated}")
    (inbox / "cgtn" / f"{stem}.txt").write_text(text, encoding="utf-8")
    return inbox


@pytest.fixture
def fresh(db_url, store):
    run(SAMPLE_INBOX, db_url)
    with make_client(db_url, user="desk-editor") as c:
        yield Dash(c, store)
        c.app.state.db.close()


def test_split_and_merge_survive_new_copies(fresh, db_url, tmp_path):
    d = fresh
    copper = d.story_of(COPPER_CANONICAL)
    r = d.post(
        f"/stories/{copper}/split",
        {"article_id": d.article(COPPER_CGTN), "why": "CGTN feature, not the output story"},
    )
    assert r.status_code == 303
    p1, p2 = d.story_of(POWER_1), d.story_of(POWER_2)
    assert (
        d.post(f"/stories/{p1}/merge", {"other": f"s{p2}", "why": "one series"}).status_code == 303
    )
    power = d.story_of(POWER_1)
    sat, mines = d.story_of(SAT_CGTN), d.story_of(MINES)
    r = d.post(f"/stories/{sat}/merge", {"other": f"s{mines}", "why": "one Asia weather story"})
    assert r.status_code == 303
    asia = d.story_of(SAT_CGTN)

    def check():
        assert d.story_of(COPPER_CGTN) != d.story_of(COPPER_CANONICAL)
        assert d.members(d.story_of(COPPER_CANONICAL)) >= {
            COPPER_CANONICAL,
            COPPER_PP,
            COPPER_XINHUA,
        }
        assert d.story_of(POWER_1) == d.story_of(POWER_2) == power
        assert d.story_of(MINES) == d.story_of(SAT_CGTN) == asia

    check()
    run(later_inbox(tmp_path), db_url)  # new copies of copper and power arrive
    check()
    # the new copies were placed like any copy (the operator judged the split member, not
    # its reprints: clustering places those by their own verified pairs)
    assert d.story_of("xinhua:http://english.news.cn/2026-06/11/c_1319001.htm") == d.story_of(
        COPPER_CANONICAL
    )
    assert d.store.dashboard.story_of_article_key("cgtn:2026-06-12-CuChileAgain")
    # a re-sent satellite story joins the merged Asia story; the re-sent week-1 power
    # report conflicts with week 2's figures, so it is placed by itself: the operator
    # judged the two stories, not copies that arrive later
    assert d.story_of("xinhua:http://english.news.cn/2026-06/12/c_1319045.htm") == asia
    run(SAMPLE_INBOX, db_url)  # and re-running everything changes nothing either
    check()
    page = d.get(f"/stories/{d.story_of(COPPER_CANONICAL)}").text
    assert "CGTN feature, not the output story" in page and "desk-editor" in page


def test_never_merge_survives_a_bridging_copy(
    fresh, db_url, tmp_path, databases, migrated_template
):
    """A reprint of the mines story six weeks later is outside the 30-day candidate window:
    a story of its own. A third copy dated in between is a verified duplicate of both, but
    the late copy has no verified edge to the story's canonical nor to most of its members:
    joined only through the copy in between, it stays apart. The operator's word that they
    are different events holds all the same."""
    late = mines_copy(tmp_path, "2026-07-25-MinesLate", "10:20, 25-Jul-2026")
    middle = mines_copy(tmp_path, "2026-07-04-MinesMiddle", "10:20, 04-Jul-2026")
    from pipeline.store.store import Store

    def stories(url):
        with Store.open(url) as r:
            return [
                r.dashboard.story_of_article_key(k) for k in (MINES, "cgtn:2026-07-25-MinesLate")
            ]

    # control: in a twin database without the operator's word, no chain through the
    # middle copy fuses them either
    twin = databases.create(template=migrated_template)
    run(SAMPLE_INBOX, twin)
    run(late, twin)
    first, second = stories(twin)
    assert first != second, "six weeks apart, the copies should start as two stories"
    run(middle, twin)
    first, second = stories(twin)
    assert first != second, "a chain through the copy in between must not fuse them"
    with Store.open(twin) as r:
        assert r.dashboard.story_of_article_key("cgtn:2026-07-04-MinesMiddle") in (first, second)

    d = fresh
    run(late, db_url)
    a, b = stories(db_url)
    r = d.post(f"/stories/{a}/never-merge", {"other": f"s{b}", "why": "a new season's story"})
    assert r.status_code == 303
    run(middle, db_url)
    a2, b2 = stories(db_url)
    assert a2 != b2
    assert d.story_of("cgtn:2026-07-04-MinesMiddle") in (a2, b2)
    assert "a new season" in d.get(f"/stories/{b2}").text


def test_requeued_payload_is_parsed_by_the_dashboard_and_placed_by_the_next_run(
    fresh, db_url, tmp_path
):
    d = fresh
    inbox = tmp_path / "fixed"
    shutil.copytree(SAMPLE_INBOX, inbox)
    broken = inbox / "cgtn" / "2026-06-15-Empty.txt"
    broken.write_bytes(b"")
    assert main(["run", "--inbox", str(inbox), "--database-url", db_url]) == 1
    q = d.store.ingest.open_quarantine(5)
    assert q and q[0]["origin"].endswith("2026-06-15-Empty.txt")
    r = d.post(f"/quarantine/{q[0]['payload_id']}/requeue", {})
    assert r.status_code == 303
    # an empty file is still unusable: it is quarantined again, and says so
    assert "quarantined again" in d.get(r.headers["location"]).text


def test_a_batch_running_during_the_action_cannot_undo_it(fresh, db_url, tmp_path, config):
    """The pipeline staged its layout (cluster_merge) before the operator split a member,
    and publishes it after: the action marked its articles pending, so the next batch
    applies the split again."""
    from pipeline.sources.collect import list_files
    from pipeline.stages import batch, candidates, cluster_merge, ingest, publish, run, sign, verify

    d = fresh
    later = later_inbox(tmp_path)
    ingest.ingest_files(d.store, "cgtn", list_files(later / "cgtn"))
    b = batch.load(d.store, batch.open_batch(d.store, config).batch_key)
    for stage in (sign.run, candidates.run, verify.run, cluster_merge.run):
        stage(d.store, b, config)  # staged with the CGTN copy still in the copper story
    copper = d.story_of(COPPER_CANONICAL)
    r = d.post(
        f"/stories/{copper}/split",
        {"article_id": d.article(COPPER_CGTN), "why": "while a batch runs"},
    )
    assert r.status_code == 303
    assert d.story_of(COPPER_CGTN) != d.story_of(COPPER_CANONICAL)
    publish.run(d.store, b)  # the stale layout lands...
    run.dedup(d.store, config)  # ...and the next run puts the split back
    assert d.story_of(COPPER_CGTN) != d.story_of(COPPER_CANONICAL)
    assert d.members(d.story_of(COPPER_CANONICAL)) >= {COPPER_CANONICAL, COPPER_PP, COPPER_XINHUA}
