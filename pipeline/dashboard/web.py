"""The dashboard's request plumbing: a pool of store sessions, security headers and CSRF,
form and query parsing, rendering. Shared by the page and action routers; ``create_app``
puts the per-app pieces (database, auth, templates) in ``app.state``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

import jinja2
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware

from pipeline import __version__
from pipeline.config import Settings
from pipeline.dashboard.auth import Principal, has_bearer
from pipeline.store.connect import describe, resolve_url
from pipeline.store.store import Store

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


def principal(request: Request) -> Principal:
    """Who is asking: ``create_app`` puts its DashboardAuth's dependency in place of this."""
    raise NotImplementedError("create_app overrides this dependency")


def database(request: Request) -> Database:
    return request.app.state.db


def settings(request: Request) -> Settings:
    return request.app.state.settings


# ------------------------------------------------------------------------------------------
# database access
# ------------------------------------------------------------------------------------------


class Database:
    """A few reusable store sessions. The URL is resolved (and the schema migrated) on the
    first request, never at import: Airflow imports plugins before any database is up."""

    def __init__(
        self,
        settings: Settings,
        size: int = 4,
        *,
        resolve: Callable[[], str] | None = None,
        migrate: bool = True,
    ):
        """``resolve`` finds the URL (default: the settings, else the embedded server);
        without ``migrate`` the schema is only checked (migrations run elsewhere)."""
        self.settings = settings
        self.size = size
        self._resolve = resolve or (lambda: resolve_url(settings))
        self._migrate = migrate
        self._url: str | None = None
        self._free: list[Store] = []
        self._lock = threading.Lock()

    def url(self) -> str:
        with self._lock:
            if self._url is None:
                url = self._resolve()
                first = Store.open(url, migrate=self._migrate, check=not self._migrate)
                first.dashboard.start_session()
                self._free.append(first)
                self._url = url
            return self._url

    def where(self) -> str:
        return describe(self._url) if self._url else "not connected yet"

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """A session for one request, back in the pool afterwards unless it broke."""
        url = self.url()
        with self._lock:
            r = self._free.pop() if self._free else None
        if r is None:
            r = Store.open(url, migrate=False)
            r.dashboard.start_session()
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


# what a route declares to get them
Who = Annotated[Principal, Depends(principal)]
Db = Annotated[Database, Depends(database)]
Config = Annotated[Settings, Depends(settings)]


# ------------------------------------------------------------------------------------------
# request plumbing
# ------------------------------------------------------------------------------------------


class SecurityHeaders(BaseHTTPMiddleware):
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


def int_param(raw: str | None, name: str, *, lo: int | None = None, hi: int | None = None):
    if raw is None or raw.strip() == "":
        return None
    try:
        v = int(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise BadRequest(f"{name} must be between {lo} and {hi}")
    return v


def date_param(raw: str | None, name: str) -> date | None:
    if not raw or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-06-11, not {raw[:40]!r}") from None


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


# ------------------------------------------------------------------------------------------
# rendering
# ------------------------------------------------------------------------------------------


def static_version() -> str:
    h = hashlib.sha256()
    for f in sorted(STATIC.iterdir()):
        h.update(f.read_bytes())
    return h.hexdigest()[:10]


def environment() -> jinja2.Environment:
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


def url(request: Request, name: str, query: dict | None = None, **path) -> str:
    """The URL of a route by name, under the mount point the request came through."""
    u = (request.scope.get("root_path") or "") + request.app.url_path_for(name, **path)
    q = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
    return u + ("?" + urlencode(q) if q else "")


def render(
    request: Request, template: str, ctx: dict, who: Principal | None, status: int = 200
) -> HTMLResponse:
    state = request.app.state
    root = request.scope.get("root_path") or ""

    def link(name: str, query: dict | None = None, **path) -> str:
        return url(request, name, query, **path)

    html = state.templates.get_template(template).render(
        **ctx,
        url=link,
        static=lambda f: f"{root}/static/{f}?v={state.static_version}",
        who=who,
        csrf=getattr(request.state, "csrf", ""),
        title=state.title,
        version=__version__,
        path=request.url.path,
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str, who=None) -> Response:
    """A one-line error: a page for a browser, JSON for a program."""
    if not wants_html(request):
        return JSONResponse({"detail": message}, status_code=status)
    login = None
    if status == 401:
        with contextlib.suppress(Exception):
            login = request.app.state.auth.login_url(request)
    return render(
        request, "error.html", {"status": status, "message": message, "login": login}, who, status
    )
