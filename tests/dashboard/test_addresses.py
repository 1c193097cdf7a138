"""Addresses a person types or pastes: story refs as the pages write them, malformed paths
as one-line pages (never a JSON schema error), and why a read-only page cannot act."""

import pytest

from tests.dashboard.conftest import COPPER_CANONICAL, COPPER_CGTN, HTML, make_client

pytestmark = pytest.mark.integration


def test_a_story_written_as_the_pages_write_it_redirects(dash):
    sid = dash.story_of(COPPER_CANONICAL)
    for ref in (f"s{sid}", f"S{sid}"):
        r = dash.get(f"/stories/{ref}", follow_redirects=False)
        assert r.status_code == 308 and r.headers["location"] == f"/stories/{sid}"
    r = dash.get(f"/stories/s{sid}?from=3", follow_redirects=False)
    assert r.headers["location"] == f"/stories/{sid}?from=3"
    member = dash.article(COPPER_CGTN)
    r = dash.get(f"/stories/s{sid}/diff/{member}", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == f"/stories/{sid}/diff/{member}"
    assert dash.get(f"/stories/s{sid}").status_code == 200


def test_malformed_paths_are_one_line_pages(dash):
    for path in ("/stories/abc", "/stories/s", "/captions/abc", "/stories/1/diff/x"):
        r = dash.get(path)
        assert r.status_code == 404, path
        assert "text/html" in r.headers["content-type"], path
        assert "Input should be" not in r.text and '"loc"' not in r.text, path
    r = dash.c.get("/stories/abc")  # a program gets one-line JSON
    assert r.status_code == 404 and set(r.json()) == {"detail"}


def test_standalone_read_only_says_how_it_was_started(sample_url):
    with make_client(sample_url, can_edit=False) as c:
        r = c.get("/stories", headers=HTML, params={"q": COPPER_CANONICAL})
        assert r.status_code == 200 and "<h1>Chile state copper" in r.text.replace("\n", "")
        assert "started with --read-only" in r.text and "edit DAGs" not in r.text
        c.app.state.db.close()
