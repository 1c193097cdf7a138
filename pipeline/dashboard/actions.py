"""The dashboard's operator actions: POST routes that split, merge, keep apart and
re-queue. ``create_app`` guards them with the auth's edit dependencies; each form carries
the CSRF token (``web.check_csrf``) and is answered with a redirect to the page to look at."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from pipeline.config import Settings
from pipeline.dashboard import views
from pipeline.dashboard.web import (
    BadRequest,
    Config,
    Database,
    Db,
    FormDep,
    Who,
    check_csrf,
    int_param,
    url,
)
from pipeline.stages import maintenance, overrides
from pipeline.store.store import Store

router = APIRouter(dependencies=[Depends(check_csrf)])


def _other_story(store: Store, raw: str | None) -> int:
    ref = (raw or "").strip()
    if not ref:
        raise overrides.OverrideError("name the other story: its id (s123) or an item key")
    sid = views.resolve_story_ref(store, ref)
    live = store.overrides.live_story(sid) if sid is not None else None
    if live is None:
        raise overrides.OverrideError(f"no story matches {ref[:80]!r}")
    return live


def _show(request: Request, out: overrides.Outcome) -> RedirectResponse:
    target = url(request, "story", {"done": out.event_id}, story_id=out.story_id)
    return RedirectResponse(target, 303)


@router.post("/stories/{story_id}/split", name="split")
def split(request: Request, story_id: int, form: FormDep, who: Who, db: Db, cfg: Config):
    article_id = int_param(form.get("article_id"), "article_id", lo=1)
    if article_id is None:
        raise BadRequest("choose the member to split out")
    with db.store() as store:
        out = overrides.split(store, cfg.dedup, story_id, article_id, who.name, form.get("why", ""))
    return _show(request, out)


@router.post("/stories/{story_id}/merge", name="merge")
def merge(request: Request, story_id: int, form: FormDep, who: Who, db: Db, cfg: Config):
    return _show(request, _on_two(overrides.merge, story_id, form, who, db, cfg))


@router.post("/stories/{story_id}/never-merge", name="never_merge")
def never_merge(request: Request, story_id: int, form: FormDep, who: Who, db: Db, cfg: Config):
    return _show(request, _on_two(overrides.never_merge, story_id, form, who, db, cfg))


def _on_two(action, story_id: int, form: dict, who, db: Database, cfg: Settings):
    """An action on this story and the one the form names (``other``)."""
    with db.store() as store:
        other = _other_story(store, form.get("other"))
        return action(store, cfg.dedup, story_id, other, who.name, form.get("why", ""))


@router.post("/quarantine/{payload_id}/requeue", name="requeue")
def requeue(request: Request, payload_id: int, form: FormDep, who: Who, db: Db):
    with db.store() as store:
        c = maintenance.requeue(store, payload_id, who=overrides.operator_name(who.name)).counts
    if not c["requeued"] and not c["articles_pending"]:
        raise overrides.OverrideError(f"payload {payload_id} has no open quarantine entry")
    q = {
        "requeued": payload_id,
        "items": c.get("items_new", 0),
        "updated": c.get("items_updated", 0),
        "again": c.get("quarantined", 0),
        "pending": c["articles_pending"],
    }
    return RedirectResponse(url(request, "quarantine", q), 303)
