"""Every page of the dashboard against a real PostgreSQL with the sample inbox in it."""

import re

import pytest

from pipeline.dashboard import views
from tests.dashboard.conftest import (
    COPPER_CANONICAL,
    COPPER_CGTN,
    COPPER_XINHUA,
    HTML,
)

pytestmark = pytest.mark.integration


def test_overview_shows_runs_counts_and_charts(dash):
    r = dash.get("/")
    assert r.status_code == 200
    html = r.text
    for stage in ("ingest:reuters", "sign", "candidates", "verify", "cluster_merge", "publish"):
        assert f">{stage}<" in html
    assert "Articles published" in html and "Duplicate rate" in html and "Stories" in html
    assert "Quarantined" in html and "Repeated captions" in html
    assert html.count('<svg class="chart"') == 3
    # the window switcher keeps working
    assert dash.get("/?days=0").status_code == 400


def test_overview_counts_by_publication_day_not_arrival(dash):
    """The sample arrived in one run but was published over nine days (11-19 June): the
    charts spread it over those days, as they would a backfill."""
    html = dash.get("/?days=30").text
    assert re.search(r'<div class="k">Articles published</div>\s*<div class="v">11</div>', html)
    received = html.split('<svg class="chart"')[1]
    days = set(re.findall(r"<title>(2026-06-\d\d) ", received))
    assert days >= {"2026-06-11", "2026-06-12", "2026-06-15", "2026-06-19"}, days
    # a 7-day window ends at the newest publication (19 June), not at today
    week = dash.get("/").text
    assert "Fri 19 Jun 2026" in week and "2026-06-11" not in week.split('<svg class="chart"')[1]


def test_overview_on_an_empty_database(db_url):
    from tests.dashboard.conftest import make_client

    with make_client(db_url) as c:
        r = c.get("/", headers=HTML)
        assert r.status_code == 200 and "No stage has run yet" in r.text
        assert c.get("/stories", headers=HTML).status_code == 200
        assert c.get("/captions", headers=HTML).status_code == 200
        assert "Nothing is quarantined" in c.get("/quarantine", headers=HTML).text


def test_story_list_filters(dash):
    r = dash.get("/stories")
    assert r.status_code == 200
    assert "Chile state copper output falls" in r.text
    assert len(re.findall(r'href="/stories/\d+">s\d+</a>', r.text)) == 6

    def ids(query):
        html = dash.get("/stories" + query).text
        return set(re.findall(r'href="/stories/(\d+)">s', html))

    copper = str(dash.story_of(COPPER_CANONICAL))
    assert ids("?q=copper") >= {copper}
    assert copper not in ids("?q=satellite")
    assert ids("?min=4") == {copper}
    assert copper not in ids("?max=2")
    assert copper in ids("?source=cgtn") and copper not in ids("?source=nosuchwire")
    killed = ids("?kill=yes")
    assert len(killed) == 1 and copper not in killed
    assert copper in ids("?kill=no")
    assert copper in ids("?from=2026-06-11&to=2026-06-11")
    assert copper not in ids("?from=2026-06-12")
    # members per source are counted
    row = dash.get("/stories?min=4").text
    assert re.search(r'chip s-reuters">reuters <b>2</b>', row)


def test_story_list_pages_with_a_keyset_cursor(dash, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    first = dash.get("/stories").text
    seen1 = re.findall(r'href="/stories/(\d+)">s', first)
    older = re.search(r'href="(/stories\?after=[^"]+)">Older', first).group(1)
    second = dash.get(older.replace("&amp;", "&")).text
    seen2 = re.findall(r'href="/stories/(\d+)">s', second)
    assert len(seen1) == 4 and len(seen2) == 2 and not set(seen1) & set(seen2)
    assert 'class="btn off">Older' in second
    newer = re.search(r'href="(/stories\?before=[^"]+)">', second).group(1)
    assert re.findall(r'href="/stories/(\d+)">s', dash.get(newer).text) == seen1
    assert dash.get("/stories?after=nonsense").status_code == 400
    assert dash.get("/stories?min=lots").status_code == 400
    assert dash.get("/stories?sort=random").status_code == 400


def test_story_list_in_publication_order_pages_too(dash, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    # a date filter switches to publication order (it stays on an index for any date)
    first = dash.get("/stories?from=2026-06-01").text
    assert 'class="on">newest publication first' in first
    dates = re.findall(r'<td class="nowrap">(2026-06-\d\d \d\d:\d\d) UTC</td>', first)
    assert dates == sorted(dates, reverse=True) and len(dates) == 4
    older = re.search(r'href="(/stories\?[^"]*after=[^"]+)">Older', first).group(1)
    second = dash.get(older.replace("&amp;", "&")).text
    more = re.findall(r'<td class="nowrap">(2026-06-\d\d \d\d:\d\d) UTC</td>', second)
    assert more and max(more) <= min(dates)


def test_search_jumps_to_a_story_by_id_or_item_key(dash):
    sid = dash.story_of(COPPER_CGTN)
    for q in (f"s{sid}", COPPER_CGTN):
        r = dash.c.get("/stories", params={"q": q}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/stories/{sid}"


def test_story_detail(dash):
    sid = dash.story_of(COPPER_CANONICAL)
    r = dash.get(f"/stories/{sid}")
    assert r.status_code == 200
    html = r.text
    # every member, with its role, scores and the reason it was linked
    for key in (COPPER_CANONICAL, COPPER_CGTN, COPPER_XINHUA):
        assert key in html
    for role in ("canonical", "version", "duplicate"):
        assert f'role role-{role}">{role}<' in html
    assert "same story: 3-gram Jaccard" in html
    # version history of the corrected item: UPDATE 1 and the first take
    assert "2 versions" in html
    # the merged record credits each paragraph to a member (M1 = the canonical)
    assert re.search(r'class="tag s-reuters"[^>]*>M1 reuters</span>', html)
    assert html.count('<li class="') >= 3
    # a diff link per non-canonical member, and split forms for an editor
    cgtn_id = dash.article(COPPER_CGTN)
    assert f'/stories/{sid}/diff/{cgtn_id}"' in html
    assert 'name="article_id" value="' in html
    assert "No operator action on this story yet." in html


def test_story_detail_captions_show_where_a_photo_is_reused(dash):
    sat = dash.story_of("cgtn:2026-06-12-Fy5BsatLch")
    html = dash.get(f"/stories/{sat}").text
    assert "Fengyun-5B satellite blasts off" in html and "carried by 2 copies" in html
    # the Atacama truck photo is printed by the copper story and the mines story
    copper = dash.story_of(COPPER_CANONICAL)
    html = dash.get(f"/stories/{copper}").text
    assert "Trucks queue at the entrance" in html and "photo reused in 2 stories" in html


def test_diff_side_by_side(dash):
    sid = dash.story_of(COPPER_CANONICAL)
    r = dash.get(f"/stories/{sid}/diff/{dash.article(COPPER_XINHUA)}")
    assert r.status_code == 200
    assert "Side by side" in r.text and '<table class="diff">' in r.text
    assert "<mark>" in r.text  # words that differ are marked
    assert dash.get(f"/stories/{sid}/diff/999999").status_code == 404


def test_repeated_captions_pages(dash):
    r = dash.get("/captions?stories=1&days=30")
    assert r.status_code == 200
    assert "Fengyun-5B" in r.text and "Trucks queue" in r.text
    across = dash.get("/captions?stories=2&days=30").text
    assert "Trucks queue" in across and "Fengyun-5B" not in across
    gid = re.search(r'href="/captions/(\d+)"', r.text).group(1)
    g = dash.get(f"/captions/{gid}")
    assert g.status_code == 200 and "Photo g" in g.text and "/stories/" in g.text
    assert dash.get("/captions/999999").status_code == 404
    assert dash.get("/captions?days=0").status_code == 400


def test_quarantine_page_lists_reasons(dash, store, tmp_path, config):
    bad = tmp_path / "xinhua"
    bad.mkdir()
    (bad / "broken-feed.xml").write_bytes(b"<rss><channel><item>")
    from pipeline.stages import ingest

    ingest.ingest_files(store, "xinhua", [bad / "broken-feed.xml"])
    r = dash.get("/quarantine")
    assert r.status_code == 200
    assert "broken-feed.xml" in r.text and "not well-formed" in r.text
    assert "Re-queue" in r.text
    assert "broken-feed.xml" in dash.get("/quarantine?source=xinhua").text
    assert "broken-feed.xml" not in dash.get("/quarantine?source=cgtn").text


def test_errors_are_pages_for_people_and_json_for_programs(dash):
    r = dash.get("/stories/999999")
    assert r.status_code == 404 and "there is no story s999999" in r.text
    r = dash.c.get("/stories/999999", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json() == {"detail": "there is no story s999999"}
    assert dash.get("/no/such/page").status_code == 404


def test_security_headers_and_static_files(dash):
    r = dash.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    cookie = r.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie
    for f in ("dashboard.css", "dashboard.js", "icon.svg"):
        assert dash.c.get(f"/static/{f}").status_code == 200
    # no inline script or style anywhere: the CSP would block it
    for page in ("/", "/stories", f"/stories/{dash.story_of(COPPER_CANONICAL)}", "/captions"):
        html = dash.get(page).text
        assert "<script>" not in html and " style=" not in html and "<style" not in html


def test_mounted_under_a_prefix_every_link_keeps_it(sample_url):
    from fastapi import FastAPI

    from tests.dashboard.conftest import TestClient, make_client

    inner = make_client(sample_url).app
    outer = FastAPI()
    outer.mount("/newsdedup", inner)
    with TestClient(outer) as c:
        for page in ("/newsdedup/", "/newsdedup/stories", "/newsdedup/captions"):
            html = c.get(page, headers=HTML).text
            links = re.findall(r'(?:href|src|action)="(/[^"]*)"', html)
            assert links and all(link.startswith("/newsdedup/") for link in links), links
        r = c.get("/newsdedup/stories", params={"q": COPPER_CGTN}, follow_redirects=False)
        assert r.headers["location"].startswith("/newsdedup/stories/")
    inner.state.db.close()
