"""The review queue in the dashboard: the pairs verification doubted, newest first, each
with a side-by-side diff and one-click "same story" / "keep apart" (with a reason), applied
through ``pipeline.stages.review`` as the ordinary story actions.

Two routers: ``pages`` (GET, for everyone who may look) and ``actions`` (POST, guarded by
the auth's edit dependencies and the CSRF token, like every other action)."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.dashboard import diff as diffing
from pipeline.dashboard.views import NotFound, source_classes
from pipeline.dashboard.web import (
    Config,
    Db,
    FormDep,
    Who,
    check_csrf,
    int_param,
    render,
    url,
)
from pipeline.stages import review
from pipeline.stages.overrides import OverrideError
from pipeline.store.store import Store

pages = APIRouter()
actions = APIRouter(dependencies=[Depends(check_csrf)])


@pages.get("/review", name="review", response_class=HTMLResponse)
def queue(request: Request, who: Who, db: Db, cfg: Config):
    qp = request.query_params
    limit = int_param(qp.get("limit"), "limit", lo=1, hi=review.MAX_QUEUE) or 50
    with db.store() as store:
        rows = review.queue(store, cfg.dedup, limit)
        total = review.count(store, cfg.dedup)
        recent = store.review.recent(10)
    done = _done(qp.get("done"), recent)
    sources = [r[k] for r in rows for k in ("a_source", "b_source")]
    ctx = {
        "nav": "review",
        "rows": rows,
        "total": total,
        "limit": limit,
        "recent": recent,
        "done": done,
        "floors": review.floors(cfg.dedup),
        "classes": source_classes(sources),
    }
    return render(request, "review.html", ctx, who)


def _done(raw: str | None, recent: list[dict]) -> dict | None:
    """The decision just taken (``done=a-b``), to confirm it at the top of the queue."""
    a, _, b = (raw or "").partition("-")
    if not (a.isdigit() and b.isdigit()):
        return None
    return next((r for r in recent if r["a"] == int(a) and r["b"] == int(b)), None)


@pages.get("/review/{a}/{b}", name="review_pair", response_class=HTMLResponse)
def pair(request: Request, a: int, b: int, who: Who, db: Db):
    with db.store() as store:
        try:
            p = review.pair(store, a, b)
        except OverrideError as e:
            raise NotFound(str(e)) from None
        data = _diff(store, p)
    ctx = {
        "nav": "review",
        "p": p,
        **data,
        "classes": source_classes([p["a_source"], p["b_source"]]),
    }
    return render(request, "review_pair.html", ctx, who)


def _diff(store: Store, p: dict) -> dict:
    ids = [p["a"], p["b"]]
    texts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in store.dashboard.article_text(ids):
        texts[row["article_id"]].append((row["kind"], row["text"]))
    caps: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for c in store.dashboard.article_captions(ids):
        caps[c["article_id"]].append(("caption", c["text"]))
    rows = diffing.side_by_side(texts[p["a"]], texts[p["b"]])
    inline = any(k == "caption" for k, _ in texts[p["a"]] + texts[p["b"]])
    return {
        "headline_rows": diffing.side_by_side(
            [("headline", p["a_headline"])], [("headline", p["b_headline"])]
        ),
        "rows": rows,
        "caption_rows": [] if inline else diffing.side_by_side(caps[p["a"]], caps[p["b"]]),
        "summary": diffing.summary(rows),
    }


@actions.post("/review/{a}/{b}", name="review_decide")
def decide(request: Request, a: int, b: int, form: FormDep, who: Who, db: Db, cfg: Config):
    decision = form.get("decision", "")
    with db.store() as store:
        review.decide(store, cfg.dedup, a, b, decision, who.name, form.get("why", ""))
    lo, hi = min(a, b), max(a, b)
    return RedirectResponse(url(request, "review", {"done": f"{lo}-{hi}"}), 303)
