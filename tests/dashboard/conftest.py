"""Fixtures for the dashboard: a database with the sample inbox run through the pipeline,
and an in-process client of the standalone app (``LocalAuth``)."""

from __future__ import annotations

import warnings

import pytest

from pipeline.config import load_settings
from pipeline.dashboard.app import create_app
from pipeline.dashboard.auth import LocalAuth
from pipeline.dashboard.web import CSRF_COOKIE
from pipeline.stages import run
from tests.conftest import SAMPLE_INBOX

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette asks for httpx2; httpx works the same here
    from fastapi.testclient import TestClient

HTML = {"Accept": "text/html"}

COPPER_CANONICAL = "reuters:tag:reuters.com,2026:newsml_L1N3CU0QQ"
COPPER_CGTN = "cgtn:2026-06-11-CuChile7x"
COPPER_XINHUA = "xinhua:http://english.news.cn/2026-06/11/c_1310001.htm"
POWER_1 = "reuters:tag:reuters.com,2026:newsml_L4N3CV0TK"
POWER_2 = "reuters:tag:reuters.com,2026:newsml_L4N3CY0TK"


@pytest.fixture
def sample_url(db_url, store, config) -> str:
    run.inbox(store, SAMPLE_INBOX, config)
    return db_url


class Dash:
    """A browser-like client: keeps cookies, sends the CSRF token with every form."""

    def __init__(self, client: TestClient, store):
        self.c = client
        self.store = store

    def get(self, path: str, **kw):
        return self.c.get(path, headers=HTML, **kw)

    def token(self) -> str:
        if CSRF_COOKIE not in self.c.cookies:
            self.get("/")
        return self.c.cookies[CSRF_COOKIE]

    def post(self, path: str, data: dict, *, csrf: bool = True, **kw):
        form = dict(data)
        if csrf:
            form["csrf"] = self.token()
        return self.c.post(path, data=form, headers=HTML, follow_redirects=False, **kw)

    def article(self, key: str) -> int:
        return self.store.report.article(key)["id"]

    def story_of(self, key: str) -> int:
        return self.store.dashboard.story_of_article_key(key)

    def members(self, story_id: int) -> set[str]:
        rows = self.store.report.story_members(story_id)
        return {r["item_key"] for r in rows if r["role"] != "contributor"}


def make_client(url: str, *, user: str = "tester", can_edit: bool = True) -> TestClient:
    app = create_app(load_settings(database_url=url), auth=LocalAuth(user, can_edit=can_edit))
    return TestClient(app)


@pytest.fixture
def dash(sample_url, store):
    with make_client(sample_url) as c:
        yield Dash(c, store)
        c.app.state.db.close()
