"""The review queue: doubtful pairs, newest first; a decision is the ordinary story action,
takes the pair off the queue for good, and later runs honour it."""

from datetime import UTC, datetime

import pytest

from pipeline.config import load_settings
from pipeline.stages import maintenance, review, run
from pipeline.stages.overrides import OverrideError
from tests.dashboard.conftest import POWER_1, POWER_2

pytestmark = pytest.mark.integration
CONFIG = load_settings().dedup


def _next_run(store) -> None:
    """A later run that re-verifies and re-clusters the whole sample."""
    maintenance.rebuild(store, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    run.dedup(store, CONFIG)


def _power_pair(store) -> tuple[int, int]:
    a, b = (store.report.article(k)["id"] for k in (POWER_1, POWER_2))
    return min(a, b), max(a, b)


def test_the_queue_holds_conflicts_and_near_distinct_pairs_newest_first(sample_url, store):
    rows = review.queue(store, CONFIG)
    assert rows and all(r["verdict"] in ("conflict", "distinct") for r in rows)
    floors = review.floors(CONFIG)
    for r in rows:
        assert r["jaccard"] >= floors["jaccard"] or r["containment"] >= floors["containment"]
    assert [r["decided_at"] for r in rows] == sorted((r["decided_at"] for r in rows), reverse=True)
    assert _power_pair(store) in {(r["a"], r["b"]) for r in rows}
    assert review.count(store, CONFIG) == len(rows)


def test_keep_apart_persists_and_the_next_run_honours_it(sample_url, store):
    a, b = _power_pair(store)
    before = review.count(store, CONFIG)
    out = review.decide(store, CONFIG, b, a, "apart", "desk", "two different weeks")
    assert "will never be merged" in out.message
    assert (a, b) not in {(r["a"], r["b"]) for r in review.queue(store, CONFIG)}
    assert review.count(store, CONFIG) == before - 1
    with pytest.raises(OverrideError, match="already judged 'apart' by desk"):
        review.decide(store, CONFIG, a, b, "same", "desk", "changed my mind")
    _next_run(store)
    # re-verified by the rebuild, still decided, still two stories, the override in force
    assert store.review.pair(a, b)["decision"] == "apart"
    assert (a, b) not in {(r["a"], r["b"]) for r in review.queue(store, CONFIG)}
    assert store.overrides.story_of(a)[0] != store.overrides.story_of(b)[0]
    kinds = {o["kind"] for o in store.overrides.in_force([a, b])}
    assert "never_merge" in kinds


def test_same_story_merges_and_the_next_run_keeps_it(sample_url, store):
    a, b = _power_pair(store)
    out = review.decide(store, CONFIG, a, b, "same", "desk", "one report, resent")
    assert "are one story" in out.message
    assert store.overrides.story_of(a)[0] == store.overrides.story_of(b)[0]
    _next_run(store)
    assert store.overrides.story_of(a)[0] == store.overrides.story_of(b)[0]
    assert store.review.pair(a, b)["decision"] == "same"


def test_bad_decisions_are_refused_in_one_line(sample_url, store):
    a, b = _power_pair(store)
    with pytest.raises(OverrideError, match="'same' or 'apart'"):
        review.decide(store, CONFIG, a, b, "maybe", "desk", "x")
    with pytest.raises(OverrideError, match="say why"):
        review.decide(store, CONFIG, a, b, "apart", "desk", "  ")
    with pytest.raises(OverrideError, match="never verified as a pair"):
        review.decide(store, CONFIG, a, a, "apart", "desk", "x")
    assert store.review.pair(a, b)["decision"] is None


def test_the_queue_page_and_its_count_on_the_overview(dash):
    a, b = _power_pair(dash.store)
    n = review.count(dash.store, CONFIG)
    overview = dash.get("/").text
    assert 'id="kpi-review"' in overview and f'review">{n}</a>' in overview
    page = dash.get("/review")
    assert page.status_code == 200 and f'id="p{a}-{b}"' in page.text
    diff = dash.get(f"/review/{b}/{a}")
    assert diff.status_code == 200 and "Japan weekly power output" in diff.text
    assert '<table class="diff">' in diff.text and 'value="apart"' in diff.text
    r = dash.post(f"/review/{a}/{b}", {"decision": "apart", "why": "two different weeks"})
    assert r.status_code == 303 and r.headers["location"] == f"/review?done={a}-{b}"
    page = dash.get(r.headers["location"]).text
    assert "Kept apart" in page and "will never be merged" in page
    assert f'id="p{a}-{b}"' not in page and "two different weeks" in page
    # the story's own history shows the action, under the operator's name
    sid = dash.story_of(POWER_1)
    assert "two different weeks" in dash.get(f"/stories/{sid}").text
    # deciding again is a one-line refusal
    r = dash.post(f"/review/{a}/{b}", {"decision": "same", "why": "again"})
    assert r.status_code == 409 and "already judged" in r.text
    assert dash.get("/review/1/999999").status_code == 404


def test_read_only_sees_the_queue_but_cannot_decide(sample_url, store):
    from tests.dashboard.conftest import HTML, make_client

    a, b = _power_pair(store)
    with make_client(sample_url, can_edit=False) as c:
        page = c.get("/review", headers=HTML).text
        assert f'id="p{a}-{b}"' in page and 'value="apart"' not in page
        token = c.cookies.get("newsdedup_csrf")
        r = c.post(
            f"/review/{a}/{b}",
            data={"decision": "apart", "why": "x", "csrf": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert r.status_code == 403
        c.app.state.db.close()
    assert store.review.pair(a, b)["decision"] is None
