"""Operator actions through the dashboard: stored with who/when/why, applied at once,
shown in the story's history, and guarded (POST + CSRF token, edit permission)."""

import re

import pytest

from tests.dashboard.conftest import (
    COPPER_CANONICAL,
    COPPER_CGTN,
    COPPER_XINHUA,
    HTML,
    POWER_1,
    POWER_2,
    make_client,
)

pytestmark = pytest.mark.integration


def test_split_a_member_out(dash, store):
    sid = dash.story_of(COPPER_CANONICAL)
    cgtn = dash.article(COPPER_CGTN)
    r = dash.post(f"/stories/{sid}/split", {"article_id": cgtn, "why": "CGTN piece is a feature"})
    assert r.status_code == 303
    assert re.fullmatch(rf"/stories/{sid}\?done=\d+", r.headers["location"])
    # applied now: the member has a story of its own, the rest stay together
    new = dash.story_of(COPPER_CGTN)
    assert new != sid
    assert dash.members(sid) == {
        COPPER_CANONICAL,
        COPPER_XINHUA,
        "reuters:tag:reuters.com,2026:newsml_L1N3CU0PP",
    }
    assert dash.members(new) == {COPPER_CGTN}
    # stored: who, when, why, and one cannot-link per other member
    ev = store.dashboard.story_history(sid)
    assert len(ev) == 1 and ev[0]["kind"] == "split" and ev[0]["who"] == "tester"
    assert ev[0]["why"] == "CGTN piece is a feature" and ev[0]["other_story_id"] == new
    pairs = {
        (o["article_a"], o["article_b"])
        for o in store.overrides.in_force([cgtn])
        if o["kind"] == "split"
    }
    assert len(pairs) == 3 and all(a == cgtn for a, _ in pairs)
    # shown in the history of both stories, with the outcome
    page = dash.get(r.headers["location"]).text
    assert "Split applied</b>" in page and "CGTN piece is a feature" in page
    assert f"moved to s{new}" in page
    assert "CGTN piece is a feature" in dash.get(f"/stories/{new}").text


def test_split_refuses_what_makes_no_sense(dash):
    sid = dash.story_of(COPPER_CANONICAL)
    canonical = dash.article(COPPER_CANONICAL)
    r = dash.post(f"/stories/{sid}/split", {"article_id": canonical, "why": "x"})
    assert r.status_code == 409 and "canonical article cannot be split" in r.text
    r = dash.post(f"/stories/{sid}/split", {"article_id": dash.article(POWER_1), "why": "x"})
    assert r.status_code == 409 and "is not a member" in r.text
    r = dash.post(f"/stories/{sid}/split", {"article_id": dash.article(COPPER_CGTN), "why": " "})
    assert r.status_code == 409 and "say why" in r.text
    r = dash.post(f"/stories/{sid}/split", {"article_id": "abc", "why": "x"})
    assert r.status_code == 400
    assert dash.story_of(COPPER_CGTN) == sid  # nothing changed


def test_merge_two_stories(dash, store):
    a, b = dash.story_of(POWER_1), dash.story_of(POWER_2)
    assert a != b
    r = dash.post(f"/stories/{b}/merge", {"other": f"s{a}", "why": "same weekly series"})
    assert r.status_code == 303
    survivor = dash.story_of(POWER_1)
    assert dash.story_of(POWER_2) == survivor == min(a, b)
    assert r.headers["location"].startswith(f"/stories/{survivor}?done=")
    # the absorbed story points to the survivor; its URL redirects there
    gone = max(a, b)
    r2 = dash.c.get(f"/stories/{gone}", follow_redirects=False)
    assert r2.status_code == 303 and r2.headers["location"] == f"/stories/{survivor}?from={gone}"
    page = dash.get(f"/stories/{survivor}").text
    assert "same weekly series" in page
    assert f"s{b} and s{a} are one story" in page
    # by item key works too, and the same story twice is refused
    r = dash.post(f"/stories/{survivor}/merge", {"other": POWER_2, "why": "again"})
    assert r.status_code == 409 and "cannot be merged with itself" in r.text
    r = dash.post(f"/stories/{survivor}/merge", {"other": "s999999", "why": "x"})
    assert r.status_code == 409 and "no story matches" in r.text


def test_never_merge_is_recorded(dash, store):
    a, b = dash.story_of(POWER_1), dash.story_of(POWER_2)
    r = dash.post(f"/stories/{a}/never-merge", {"other": str(b), "why": "different weeks"})
    assert r.status_code == 303
    o = [x for x in store.overrides.in_force([dash.article(POWER_1)])]
    assert [x["kind"] for x in o] == ["never_merge"]
    for s in (a, b):
        assert "different weeks" in dash.get(f"/stories/{s}").text
    # a merge lifts the never-merge between the same stories, and says so in history
    r = dash.post(f"/stories/{a}/merge", {"other": str(b), "why": "operator changed mind"})
    assert r.status_code == 303
    assert dash.story_of(POWER_1) == dash.story_of(POWER_2)
    kinds = {x["kind"] for x in store.overrides.in_force([dash.article(POWER_1)])}
    assert kinds == {"merge"}


SAT_XINHUA = "xinhua:http://english.news.cn/2026-06/12/c_1310045.htm"
SAT_CGTN = "cgtn:2026-06-12-Fy5BsatLch"


def test_split_after_a_merge_takes_out_only_that_member(dash):
    """Merge the satellite story into the copper story: the operator joined them as wholes,
    so splitting the satellite's canonical out later takes only that article; its CGTN copy
    stays where the operator put it."""
    copper, sat = dash.story_of(COPPER_CANONICAL), dash.story_of(SAT_CGTN)
    dash.post(f"/stories/{copper}/merge", {"other": str(sat), "why": "test"})
    merged = dash.story_of(COPPER_CANONICAL)
    assert dash.story_of(SAT_CGTN) == dash.story_of(SAT_XINHUA) == merged
    r = dash.post(
        f"/stories/{merged}/split",
        {"article_id": dash.article(SAT_XINHUA), "why": "the satellite is another story"},
    )
    assert r.status_code == 303, r.text
    assert dash.story_of(SAT_XINHUA) != merged
    assert dash.story_of(SAT_CGTN) == merged
    assert dash.members(merged) >= {COPPER_CANONICAL, COPPER_CGTN, COPPER_XINHUA}


def test_merge_holds_members_the_verifier_keeps_apart(dash, store):
    """The two weekly power reports differ in figures: verification marks a conflict
    between one report and the other's Xinhua copy. An operator merge of the two stories
    keeps every member of both anyway."""
    a, b = dash.story_of(POWER_1), dash.story_of(POWER_2)
    members = dash.members(a) | dash.members(b)
    assert len(members) == 3
    dash.post(f"/stories/{a}/merge", {"other": str(b), "why": "one series"})
    assert dash.members(dash.story_of(POWER_1)) == members
    # "Why linked" names the operator merge where only it holds a member, and only there
    reasons = [r["reason"] for r in store.report.story_members(dash.story_of(POWER_1))]
    assert sum("kept together by operator merge" in r for r in reasons) == 1, reasons


def test_split_keeps_a_story_merged_in_through_the_member(dash):
    """Three stories merged one after the other, the second and third both tied through
    the satellite canonical: splitting it out keeps the third story (re-tied to the
    canonical) in place."""
    copper, sat = dash.story_of(COPPER_CANONICAL), dash.story_of(SAT_CGTN)
    mines = dash.story_of("cgtn:2026-06-13-MinesAsia2")
    dash.post(f"/stories/{sat}/merge", {"other": str(mines), "why": "one"})
    dash.post(f"/stories/{copper}/merge", {"other": str(dash.story_of(SAT_CGTN)), "why": "two"})
    merged = dash.story_of(COPPER_CANONICAL)
    assert dash.story_of("cgtn:2026-06-13-MinesAsia2") == merged
    dash.post(
        f"/stories/{merged}/split",
        {"article_id": dash.article(SAT_XINHUA), "why": "the satellite is another story"},
    )
    assert dash.story_of(SAT_XINHUA) != merged
    assert dash.story_of("cgtn:2026-06-13-MinesAsia2") == merged


def test_actions_need_post_and_a_csrf_token(dash):
    sid = dash.story_of(COPPER_CANONICAL)
    form = {"article_id": dash.article(COPPER_CGTN), "why": "x"}
    assert dash.c.get(f"/stories/{sid}/split", headers=HTML).status_code == 405
    r = dash.post(f"/stories/{sid}/split", form, csrf=False)
    assert r.status_code == 403 and "reload the page" in r.text
    dash.token()  # the client holds a genuine cookie; the form carries another value
    r = dash.c.post(f"/stories/{sid}/split", data={**form, "csrf": "forged"}, headers=HTML)
    assert r.status_code == 403
    r = dash.c.post(
        f"/stories/{sid}/split",
        content=b'{"article_id": 1}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 415
    assert dash.story_of(COPPER_CGTN) == sid


def test_read_only_dashboard_shows_but_refuses(sample_url, store):
    with make_client(sample_url, user="viewer", can_edit=False) as c:
        sid = store.dashboard.story_of_article_key(COPPER_CANONICAL)
        page = c.get(f"/stories/{sid}", headers=HTML).text
        assert "read-only" in page and 'name="why"' not in page and "Re-queue" not in page
        token = c.cookies["newsdedup_csrf"]
        r = c.post(
            f"/stories/{sid}/split",
            data={"article_id": 1, "why": "x", "csrf": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert r.status_code == 403 and "read-only" in r.text
        c.app.state.db.close()


def test_requeue_a_quarantined_payload(dash, store, tmp_path):
    from pipeline.stages import ingest

    folder = tmp_path / "xinhua"
    folder.mkdir()
    bad = folder / "feed-bad.xml"
    bad.write_bytes(b"<rss><channel><item>")
    ingest.ingest_files(store, "xinhua", [bad])
    q = store.ingest.open_quarantine(10)
    assert len(q) == 1
    pid = q[0]["payload_id"]
    r = dash.post(f"/quarantine/{pid}/requeue", {})
    assert r.status_code == 303
    assert f"requeued={pid}" in r.headers["location"]
    page = dash.get(r.headers["location"]).text
    assert f"Payload #{pid} re-queued" in page and "1 quarantined again" in page
    # the old entry is resolved by whom; the still-broken payload is quarantined again
    assert "requeued by tester" in page
    assert store.ingest.count_open_quarantine() == 1
    r = dash.post("/quarantine/999999/requeue", {})
    assert r.status_code == 409


def test_requeue_an_article_a_dedup_stage_quarantined(dash, store, config, monkeypatch):
    from pipeline.stages import run, verify

    key = "cgtn:2026-06-12-Fy5BsatLch"
    real = verify._features

    def fault(r):
        if r["item_key"] == key:
            raise RuntimeError("poisoned on purpose")
        return real(r)

    monkeypatch.setattr(verify, "_features", fault)
    with store.transaction():  # the sample is loaded: its article goes through dedup again
        store.batches.mark_pending(list(store.ingest.article_ids([key]).values()))
    run.dedup(store, config)
    [q] = store.ingest.open_quarantine(10)
    assert (q["item_key"], q["stage"]) == (key, "verify")
    page = dash.get("/quarantine").text
    assert "put the article back in the queue of the next dedup run" in page
    r = dash.post(f"/quarantine/{q['payload_id']}/requeue", {})
    assert r.status_code == 303
    page = dash.get(r.headers["location"]).text
    assert "1 article a dedup stage quarantined is back in the queue" in page
    pending = store.conn.execute("SELECT pending FROM article WHERE item_key = %s", (key,))
    assert pending.fetchone()["pending"] is True
