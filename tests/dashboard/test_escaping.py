"""Wire copy is untrusted: headlines, bodies, captions and item keys with script tags and
attribute injection are shown as text on every page, never as markup."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.dashboard.conftest import Dash, make_client

pytestmark = pytest.mark.integration

HEADLINE = 'Minister quits <script>alert("headline")</script> "><img src=x onerror=alert(1)>'
BODY = (
    "The minister resigned on Tuesday <script>alert('body')</script> after a vote of "
    'no confidence " onmouseover="alert(2)" in the national assembly, officials said.'
)
BODY2 = (
    "Parliament will choose a successor next week <b onclick=alert(3)>bold</b> and the "
    "opposition said it would boycott the session, according to a statement."
)
CAPTION = (
    "The minister <script>alert('caption')</script> leaves parliament "
    '"><svg onload=alert(4)> in the capital, June 16, 2026. /VCG Photo'
)
EVIL_STEM = '2026-06-16-x"><svg onload=alert(5)>'


def page(stem: str, updated: str) -> str:
    return (
        f"{HEADLINE}\nUpdated {updated}, 16-Jun-2026\nCGTN\n[]\n"
        f"{CAPTION}\n\n{CAPTION}\n\n{BODY}\n\n{BODY2}\n"
    )


class Markup(HTMLParser):
    """Every element and attribute the browser would build from a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str, where: str) -> None:
    m = Markup()
    m.feed(html)
    for tag, attrs in m.tags:
        assert tag not in ("iframe", "object", "embed"), (where, tag, attrs)
        if tag == "img":  # only the app's own icon
            assert attrs.get("src", "").startswith("/static/icon"), (where, attrs)
        assert not any(a.startswith("on") for a in attrs), (where, tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/dashboard.js"), (where, attrs)
        if tag == "svg":
            assert attrs.get("class") in ("chart", "strip"), (where, attrs)
    assert "<script>alert" not in html and "<svg onload" not in html, where


@pytest.fixture
def evil(db_url, store, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "cgtn").mkdir(parents=True)
    (inbox / "cgtn" / f"{EVIL_STEM}.txt").write_text(page(EVIL_STEM, "09:00"), encoding="utf-8")
    (inbox / "cgtn" / "2026-06-16-copy.txt").write_text(page("copy", "11:30"), encoding="utf-8")
    assert main(["run", "--inbox", str(inbox), "--database-url", db_url]) == 0
    with make_client(db_url) as c:
        yield Dash(c, store)
        c.app.state.db.close()


def test_untrusted_text_is_escaped_on_every_page(evil):
    d = evil
    key = f"cgtn:{EVIL_STEM}"
    sid = d.story_of(key)
    assert d.story_of("cgtn:2026-06-16-copy") == sid  # one story of two copies
    other = d.article("cgtn:2026-06-16-copy")
    story_html = d.get(f"/stories/{sid}").text
    # shown, as text
    assert "&lt;script&gt;alert(&#34;headline&#34;)&lt;/script&gt;" in story_html
    assert "&lt;script&gt;alert(&#39;body&#39;)&lt;/script&gt;" in story_html
    assert "&lt;script&gt;alert(&#39;caption&#39;)&lt;/script&gt;" in story_html
    assert "x&#34;&gt;&lt;svg onload=alert(5)&gt;" in story_html  # the item key
    gid = re.search(r'href="/captions/(\d+)"', d.get("/captions?stories=1&days=30").text)
    pages = {
        "overview": "/",
        "stories": "/stories",
        "search": "/stories?q=" + "%22%3E%3Cscript%3Ealert(6)%3C%2Fscript%3E",
        "story": f"/stories/{sid}",
        "diff": f"/stories/{sid}/diff/{d.article(key)}",
        "captions": "/captions?stories=1&days=30",
        "caption group": f"/captions/{gid.group(1)}" if gid else "/captions",
        "bad parameter": "/stories?min=%3Cscript%3Ealert(7)%3C/script%3E",
        "quarantine": "/quarantine",
        "diff 2": f"/stories/{sid}/diff/{other}",
    }
    for where, path in pages.items():
        r = d.get(path)
        assert r.status_code in (200, 400), (where, r.status_code)
        assert_inert(r.text, where)
    assert "&lt;script&gt;alert(7)" in d.get(pages["bad parameter"]).text
    assert "&#34;&gt;&lt;script&gt;alert(6)" in d.get(pages["search"]).text
    # after an action the history shows the operator's own words, escaped too
    canonical = d.store.dashboard.story(sid)["canonical_article_id"]
    member = other if other != canonical else d.article(key)
    r = d.post(
        f"/stories/{sid}/split",
        {"article_id": member, "why": '<script>alert("why")</script>'},
    )
    assert r.status_code == 303
    html = d.get(f"/stories/{sid}").text
    assert_inert(html, "history")
    assert "&lt;script&gt;alert(&#34;why&#34;)" in html


def test_templates_never_disable_escaping():
    tdir = Path(__file__).resolve().parents[2] / "pipeline" / "dashboard" / "templates"
    for f in tdir.glob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, f.name
        assert "Markup(" not in text, f.name
