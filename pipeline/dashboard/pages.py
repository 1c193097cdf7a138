"""The dashboard's pages: GET routes, read-only. Each parses its query, asks ``views`` for
what the page shows and renders a template."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.dashboard import links, views
from pipeline.dashboard.web import (
    BadRequest,
    Config,
    Db,
    Who,
    date_param,
    int_param,
    render,
    url,
)
from pipeline.stages import review

router = APIRouter()

_ITEM_KEY = re.compile(r"^[a-z0-9_-]+:\S+$", re.I)
_STORY_ID = re.compile(r"^\s*[s#](\d{1,18})\s*$", re.I)


@router.get("/", name="overview", response_class=HTMLResponse)
def overview(request: Request, who: Who, db: Db, cfg: Config, days: str | None = None):
    d = int_param(days, "days", lo=1, hi=90) or 7
    with db.store() as store:
        data = views.overview(store, d)
        data["kpi"]["review"] = review.count(store, cfg.dedup)
    base = request.app.state.airflow_url
    for r in data["runs"]:
        r["dag_run_url"] = links.dag_run(base, r["dag_id"], r["dag_run_id"])
        r["task_url"] = links.task_log(
            base, r["dag_id"], r["dag_run_id"], r["task_id"], r["map_index"]
        )
    return render(request, "overview.html", {"nav": "overview", **data}, who)


@router.get("/stories", name="stories", response_class=HTMLResponse)
def stories(request: Request, who: Who, db: Db):
    qp = request.query_params
    q = (qp.get("q") or "").strip()[:200] or None
    with db.store() as store:
        if q and (_STORY_ID.match(q) or _ITEM_KEY.match(q)):
            m = _STORY_ID.match(q)
            sid = int(m.group(1)) if m else views.resolve_story_ref(store, q)
            if sid is not None and store.dashboard.story(sid):
                return RedirectResponse(url(request, "story", story_id=sid), 303)
        kill = (qp.get("kill") or "").lower()
        date_from, date_to = date_param(qp.get("from"), "from"), date_param(qp.get("to"), "to")
        sort = qp.get("sort") or ("published" if date_from or date_to else "updated")
        if sort not in views.SORTS:
            raise BadRequest(f"sort must be one of {', '.join(views.SORTS)}")
        f = views.StoryFilters(
            sort=sort,
            q=q,
            source=(qp.get("source") or "").strip()[:100] or None,
            min_members=int_param(qp.get("min"), "min", lo=1, hi=100000),
            max_members=int_param(qp.get("max"), "max", lo=1, hi=100000),
            has_kill={"yes": True, "no": False}.get(kill),
            date_from=date_from,
            date_to=date_to,
        )
        try:
            data = views.stories(store, f, after=qp.get("after"), before=qp.get("before"))
        except ValueError as e:
            raise BadRequest(str(e)) from None
    return render(request, "stories.html", {"nav": "stories", **data}, who)


def _story_path_id(request: Request, raw: str) -> int | RedirectResponse:
    """A story id from the path: ``6``, or ``s6`` / ``#6`` as the pages write it (answered
    with a redirect to the plain address); anything else is a 404 page."""
    if raw.isdigit() and len(raw) <= 18:
        return int(raw)
    m = _STORY_ID.match(raw)
    if not m:
        raise views.NotFound(f"there is no story {raw[:40]!r}: stories are s123 or 123")
    path = dict(request.path_params, story_id=int(m.group(1)))
    target = url(request, request.scope["route"].name, dict(request.query_params), **path)
    return RedirectResponse(target, 308)


@router.get("/stories/{story_id}", name="story", response_class=HTMLResponse)
def story(request: Request, story_id: str, who: Who, db: Db):
    sid = _story_path_id(request, story_id)
    if isinstance(sid, RedirectResponse):
        return sid
    story_id = sid
    qp = request.query_params
    with db.store() as store:
        s = store.dashboard.story(story_id)
        if s is None:
            raise views.NotFound(f"there is no story s{story_id}")
        if s["merged_into"] is not None:
            live = store.overrides.live_story(story_id) or s["merged_into"]
            return RedirectResponse(url(request, "story", {"from": story_id}, story_id=live), 303)
        data = views.story(store, story_id)
    s = data["story"]
    s["batch_url"] = links.dag_run(
        request.app.state.airflow_url, s["batch_dag_id"], s["batch_dag_run_id"]
    )
    done = int_param(qp.get("done"), "done", lo=1)
    came_from = int_param(qp.get("from"), "from", lo=1)
    return render(
        request,
        "story.html",
        {"nav": "stories", **data, "done": done, "came_from": came_from},
        who,
    )


@router.get("/stories/{story_id}/diff/{article_id}", name="diff", response_class=HTMLResponse)
def diff(request: Request, story_id: str, article_id: int, who: Who, db: Db):
    sid = _story_path_id(request, story_id)
    if isinstance(sid, RedirectResponse):
        return sid
    story_id = sid
    with db.store() as store:
        data = views.article_diff(store, story_id, article_id)
    return render(request, "diff.html", {"nav": "stories", **data}, who)


@router.get("/captions", name="captions", response_class=HTMLResponse)
def captions(request: Request, who: Who, db: Db):
    qp = request.query_params
    days = int_param(qp.get("days"), "days", lo=1, hi=90) or 7
    min_stories = int_param(qp.get("stories"), "stories", lo=1, hi=1000) or 2
    page = int_param(qp.get("page"), "page", lo=0, hi=10000) or 0
    with db.store() as store:
        data = views.caption_groups(store, days, min_stories, page)
    return render(request, "captions.html", {"nav": "captions", **data}, who)


@router.get("/captions/{group_id}", name="caption_group", response_class=HTMLResponse)
def caption_group(request: Request, group_id: int, who: Who, db: Db):
    with db.store() as store:
        data = views.caption_group(store, group_id)
    return render(request, "caption_group.html", {"nav": "captions", **data}, who)


@router.get("/quarantine", name="quarantine", response_class=HTMLResponse)
def quarantine(request: Request, who: Who, db: Db):
    qp = request.query_params
    source = (qp.get("source") or "").strip()[:100] or None
    before = int_param(qp.get("before"), "before", lo=1)
    with db.store() as store:
        data = views.quarantine(store, source, before)
    result = None
    if qp.get("requeued"):
        result = {
            "payload": int_param(qp.get("requeued"), "requeued", lo=1),
            "items": int_param(qp.get("items"), "items", lo=0) or 0,
            "updated": int_param(qp.get("updated"), "updated", lo=0) or 0,
            "again": int_param(qp.get("again"), "again", lo=0) or 0,
            "pending": int_param(qp.get("pending"), "pending", lo=0) or 0,
        }
    return render(request, "quarantine.html", {"nav": "quarantine", **data, "result": result}, who)
