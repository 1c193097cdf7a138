"""The operator dashboard: a FastAPI app of server-rendered pages over the pipeline database.

``create_app()`` builds it. It runs standalone (``newsdedup dashboard``) or mounted inside
the Airflow UI at ``/newsdedup`` (``pipeline.dashboard.plugin``); every link is built from
the request's ``root_path``, so the same app works at any mount point.

Safety:
* Everything from wire copy reaches the page through Jinja2 with autoescaping on, and a
  Content-Security-Policy allows only this app's own scripts and styles (no inline code),
  so a ``<script>`` in a headline is text, twice over.
* Actions are POST only and carry a CSRF token that must match a SameSite=Strict cookie
  (clients authenticating with a bearer token send no ambient credentials and are exempt).
* Who may look and who may act is decided by the ``DashboardAuth`` the app is built with.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

import jinja2
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware

from pipeline import __version__
from pipeline.config import ConfigError, Settings, load_settings
from pipeline.dashboard import views
from pipeline.dashboard.auth import DashboardAuth, LocalAuth, Principal, has_bearer, login_name
from pipeline.stages import overrides
from pipeline.store.connect import DatabaseError, describe, resolve_url
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup.dashboard")

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CSRF_COOKIE = "newsdedup_csrf"
MAX_FORM = 64 * 1024

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


class BadRequest(ValueError):
    """A malformed query parameter or form field; shown as a one-line 400 page."""


# ------------------------------------------------------------------------------------------
# database access
# ------------------------------------------------------------------------------------------


class Database:
    """A few reusable repositories. The URL is resolved (and the schema migrated) on the
    first request, never at import: Airflow imports plugins before any database is up."""

    def __init__(self, settings: Settings, size: int = 4):
        self.settings = settings
        self.size = size
        self._url: str | None = None
        self._free: list[Repository] = []
        self._lock = threading.Lock()

    def url(self) -> str:
        with self._lock:
            if self._url is None:
                url = resolve_url(self.settings)
                first = Repository.open(url, migrate=True)
                first.one("dash_session")
                self._free.append(first)
                self._url = url
            return self._url

    def where(self) -> str:
        return describe(self._url) if self._url else "not connected yet"

    @contextlib.contextmanager
    def repo(self) -> Iterator[Repository]:
        url = self.url()
        with self._lock:
            r = self._free.pop() if self._free else None
        if r is None:
            r = Repository.open(url, migrate=False)
            r.one("dash_session")
        ok = False
        try:
            yield r
            ok = True
        finally:
            usable = not (r.conn.closed or getattr(r.conn, "broken", False))
            if usable and not ok:
                usable = r.conn.info.transaction_status == 0  # idle: nothing left open
            with self._lock:
                if usable and len(self._free) < self.size:
                    self._free.append(r)
                    r = None
            if r is not None:
                with contextlib.suppress(Exception):
                    r.close()

    def close(self) -> None:
        with self._lock:
            free, self._free = self._free, []
        for r in free:
            with contextlib.suppress(Exception):
                r.close()


# ------------------------------------------------------------------------------------------
# request plumbing
# ------------------------------------------------------------------------------------------


class _Headers(BaseHTTPMiddleware):
    """Security headers on every response; the CSRF cookie issued on first sight."""

    async def dispatch(self, request: Request, call_next):
        token = request.cookies.get(CSRF_COOKIE)
        fresh = not token or len(token) > 100
        if fresh:
            token = secrets.token_urlsafe(24)
        request.state.csrf = token
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Cache-Control", "no-store")
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                token,
                path=(request.scope.get("root_path") or "") + "/",
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response


async def form_body(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise HTTPException(413, "the form is too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


FormDep = Annotated[dict, Depends(form_body)]


def check_csrf(request: Request, form: FormDep) -> None:
    if has_bearer(request):
        return  # an API client: no ambient cookie credentials to abuse
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise HTTPException(
            403, "this form has expired or came from another site; reload the page and retry"
        )


def _int(raw: str | None, name: str, *, lo: int | None = None, hi: int | None = None):
    if raw is None or raw.strip() == "":
        return None
    try:
        v = int(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return v


def _date(raw: str | None, name: str) -> date | None:
    if not raw or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-06-11, not {raw[:40]!r}") from None


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


_ITEM_KEY = re.compile(r"^[a-z0-9_-]+:\S+$", re.I)
_STORY_ID = re.compile(r"^\s*[s#](\d{1,18})\s*$", re.I)


# ------------------------------------------------------------------------------------------
# the app
# ------------------------------------------------------------------------------------------


def _static_version() -> str:
    h = hashlib.sha256()
    for f in sorted(STATIC.iterdir()):
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ts"] = _fmt_ts
    env.filters["day"] = lambda d: d.strftime("%a %d %b %Y") if d else ""
    env.filters["secs"] = _fmt_secs
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.1f}%"
    env.filters["num"] = lambda v: f"{v:,}" if v is not None else "–"
    env.filters["score"] = lambda v: "–" if v is None else f"{v:.2f}"
    env.filters["ago"] = _ago
    return env


def _fmt_ts(v: datetime | None) -> str:
    if v is None:
        return "–"
    return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _fmt_secs(v: float | None) -> str:
    if v is None:
        return "–"
    if v < 1:
        return f"{v * 1000:.0f} ms"
    if v < 120:
        return f"{v:.1f} s"
    return f"{v / 60:.1f} min"


def _ago(v: datetime | None) -> str:
    if v is None:
        return ""
    s = (datetime.now(UTC) - v).total_seconds()
    if s < 0:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{int(s // size)} {unit} ago"
    return "just now"


def create_app(
    settings: Settings | None = None,
    *,
    auth: DashboardAuth | None = None,
    database_url: str | None = None,
    title: str = "newsdedup",
) -> FastAPI:
    """The dashboard app. ``settings`` default to ``load_settings()`` (NEWSDEDUP_* and
    newsdedup.toml, like the CLI); ``auth`` defaults to the local user with edit rights."""
    settings = settings or load_settings(database_url=database_url)
    auth = auth or LocalAuth(login_name())
    db = Database(settings)
    env = _env()
    static_v = _static_version()
    view_deps = [Depends(d) for d in auth.view]
    edit_deps = [Depends(d) for d in auth.edit]

    app = FastAPI(
        title=f"{title} dashboard",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=view_deps,
    )
    app.state.db = db
    app.state.auth = auth
    app.state.settings = settings
    app.add_middleware(_Headers)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    who_dep = Depends(auth.principal)

    def url(request: Request, name: str, query: dict | None = None, **path) -> str:
        u = (request.scope.get("root_path") or "") + app.url_path_for(name, **path)
        q = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
        return u + ("?" + urlencode(q) if q else "")

    def render(
        request: Request, template: str, ctx: dict, who: Principal | None, status: int = 200
    ) -> HTMLResponse:
        root = request.scope.get("root_path") or ""

        def link(name: str, query: dict | None = None, **path) -> str:
            return url(request, name, query, **path)

        html = env.get_template(template).render(
            **ctx,
            url=link,
            static=lambda f: f"{root}/static/{f}?v={static_v}",
            who=who,
            csrf=getattr(request.state, "csrf", ""),
            title=title,
            version=__version__,
            path=request.url.path,
        )
        return HTMLResponse(html, status_code=status)

    def error_page(request: Request, status: int, message: str, who=None) -> Response:
        if not _wants_html(request):
            return JSONResponse({"detail": message}, status_code=status)
        login = None
        if status == 401:
            with contextlib.suppress(Exception):
                login = auth.login_url(request)
        return render(
            request,
            "error.html",
            {"status": status, "message": message, "login": login},
            who,
            status,
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        resp = error_page(request, exc.status_code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest):
        return error_page(request, 400, str(exc))

    @app.exception_handler(overrides.OverrideError)
    async def _refused(request: Request, exc: overrides.OverrideError):
        return error_page(request, 409, str(exc))

    @app.exception_handler(views.NotFound)
    async def _not_found(request: Request, exc: views.NotFound):
        return error_page(request, 404, str(exc))

    @app.exception_handler(DatabaseError)
    async def _db_down(request: Request, exc: DatabaseError):
        log.error("dashboard database error: %s", exc)
        return error_page(request, 503, f"the pipeline database is not available: {exc}")

    @app.exception_handler(ConfigError)
    async def _config(request: Request, exc: ConfigError):
        return error_page(request, 503, f"configuration error: {exc}")

    # --- pages --------------------------------------------------------------------------

    @app.get("/", name="overview", response_class=HTMLResponse)
    def overview(request: Request, who: Principal = who_dep, days: str | None = None):
        d = _int(days, "days", lo=1, hi=90) or 7
        with db.repo() as repo:
            data = views.overview(repo, d)
        return render(request, "overview.html", {"nav": "overview", **data}, who)

    @app.get("/stories", name="stories", response_class=HTMLResponse)
    def stories(request: Request, who: Principal = who_dep):
        qp = request.query_params
        q = (qp.get("q") or "").strip()[:200] or None
        with db.repo() as repo:
            if q and (_STORY_ID.match(q) or _ITEM_KEY.match(q)):
                m = _STORY_ID.match(q)
                sid = int(m.group(1)) if m else views.resolve_story_ref(repo, q)
                if sid is not None and repo.one("dash_story", id=sid):
                    return RedirectResponse(url(request, "story", story_id=sid), 303)
            kill = (qp.get("kill") or "").lower()
            date_from, date_to = _date(qp.get("from"), "from"), _date(qp.get("to"), "to")
            sort = qp.get("sort") or ("published" if date_from or date_to else "updated")
            if sort not in views.SORTS:
                raise BadRequest(f"sort must be one of {', '.join(views.SORTS)}")
            f = views.StoryFilters(
                sort=sort,
                q=q,
                source=(qp.get("source") or "").strip()[:100] or None,
                min_members=_int(qp.get("min"), "min", lo=1, hi=100000),
                max_members=_int(qp.get("max"), "max", lo=1, hi=100000),
                has_kill={"yes": True, "no": False}.get(kill),
                date_from=date_from,
                date_to=date_to,
            )
            try:
                data = views.stories(repo, f, after=qp.get("after"), before=qp.get("before"))
            except ValueError as e:
                raise BadRequest(str(e)) from None
        return render(request, "stories.html", {"nav": "stories", **data}, who)

    @app.get("/stories/{story_id}", name="story", response_class=HTMLResponse)
    def story(request: Request, story_id: int, who: Principal = who_dep):
        qp = request.query_params
        with db.repo() as repo:
            s = repo.one("dash_story", id=story_id)
            if s is None:
                raise views.NotFound(f"there is no story s{story_id}")
            if s["merged_into"] is not None:
                live = overrides.live_story(repo, story_id) or s["merged_into"]
                return RedirectResponse(
                    url(request, "story", {"from": story_id}, story_id=live), 303
                )
            data = views.story(repo, story_id)
        done = _int(qp.get("done"), "done", lo=1)
        came_from = _int(qp.get("from"), "from", lo=1)
        return render(
            request,
            "story.html",
            {"nav": "stories", **data, "done": done, "came_from": came_from},
            who,
        )

    @app.get("/stories/{story_id}/diff/{article_id}", name="diff", response_class=HTMLResponse)
    def diff(request: Request, story_id: int, article_id: int, who: Principal = who_dep):
        with db.repo() as repo:
            data = views.article_diff(repo, story_id, article_id)
        return render(request, "diff.html", {"nav": "stories", **data}, who)

    @app.get("/captions", name="captions", response_class=HTMLResponse)
    def captions(request: Request, who: Principal = who_dep):
        qp = request.query_params
        days = _int(qp.get("days"), "days", lo=1, hi=90) or 7
        min_stories = _int(qp.get("stories"), "stories", lo=1, hi=1000) or 2
        page = _int(qp.get("page"), "page", lo=0, hi=10000) or 0
        with db.repo() as repo:
            data = views.caption_groups(repo, days, min_stories, page)
        return render(request, "captions.html", {"nav": "captions", **data}, who)

    @app.get("/captions/{group_id}", name="caption_group", response_class=HTMLResponse)
    def caption_group(request: Request, group_id: int, who: Principal = who_dep):
        with db.repo() as repo:
            data = views.caption_group(repo, group_id)
        return render(request, "caption_group.html", {"nav": "captions", **data}, who)

    @app.get("/quarantine", name="quarantine", response_class=HTMLResponse)
    def quarantine(request: Request, who: Principal = who_dep):
        qp = request.query_params
        source = (qp.get("source") or "").strip()[:100] or None
        before = _int(qp.get("before"), "before", lo=1)
        with db.repo() as repo:
            data = views.quarantine(repo, source, before)
        result = None
        if qp.get("requeued"):
            result = {
                "payload": _int(qp.get("requeued"), "requeued", lo=1),
                "items": _int(qp.get("items"), "items", lo=0) or 0,
                "updated": _int(qp.get("updated"), "updated", lo=0) or 0,
                "again": _int(qp.get("again"), "again", lo=0) or 0,
            }
        return render(
            request, "quarantine.html", {"nav": "quarantine", **data, "result": result}, who
        )

    # --- actions ------------------------------------------------------------------------

    action_deps = [*edit_deps, Depends(check_csrf)]

    def _resolve_other(repo: Repository, raw: str | None) -> int:
        ref = (raw or "").strip()
        if not ref:
            raise overrides.OverrideError("name the other story: its id (s123) or an item key")
        sid = views.resolve_story_ref(repo, ref)
        live = overrides.live_story(repo, sid) if sid is not None else None
        if live is None:
            raise overrides.OverrideError(f"no story matches {ref[:80]!r}")
        return live

    @app.post("/stories/{story_id}/split", name="split", dependencies=action_deps)
    def split(request: Request, story_id: int, form: FormDep, who: Principal = who_dep):
        article_id = _int(form.get("article_id"), "article_id", lo=1)
        if article_id is None:
            raise BadRequest("choose the member to split out")
        with db.repo() as repo:
            out = overrides.split(
                repo, settings.dedup, story_id, article_id, who.name, form.get("why", "")
            )
        return _done(request, out)

    @app.post("/stories/{story_id}/merge", name="merge", dependencies=action_deps)
    def merge(request: Request, story_id: int, form: FormDep, who: Principal = who_dep):
        with db.repo() as repo:
            other = _resolve_other(repo, form.get("other"))
            out = overrides.merge(
                repo, settings.dedup, story_id, other, who.name, form.get("why", "")
            )
        return _done(request, out)

    @app.post("/stories/{story_id}/never-merge", name="never_merge", dependencies=action_deps)
    def never_merge(request: Request, story_id: int, form: FormDep, who: Principal = who_dep):
        with db.repo() as repo:
            other = _resolve_other(repo, form.get("other"))
            out = overrides.never_merge(
                repo, settings.dedup, story_id, other, who.name, form.get("why", "")
            )
        return _done(request, out)

    def _done(request: Request, out: overrides.Outcome) -> RedirectResponse:
        target = url(request, "story", {"done": out.event_id}, story_id=out.story_id)
        return RedirectResponse(target, 303)

    @app.post("/quarantine/{payload_id}/requeue", name="requeue", dependencies=action_deps)
    def requeue(request: Request, payload_id: int, form: FormDep, who: Principal = who_dep):
        with db.repo() as repo:
            c = overrides.requeue(repo, payload_id, who.name)
        q = {
            "requeued": payload_id,
            "items": c.get("items_new", 0),
            "updated": c.get("items_updated", 0),
            "again": c.get("quarantined", 0),
        }
        return RedirectResponse(url(request, "quarantine", q), 303)

    return app
