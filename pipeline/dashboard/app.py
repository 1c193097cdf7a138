"""The operator dashboard: a FastAPI app of server-rendered pages over the pipeline database.

``create_app()`` builds it from the page and action routers (``pages``, ``actions``). It
runs standalone (``newsdedup dashboard``) or mounted inside the Airflow UI at
``/newsdedup`` (``pipeline.dashboard.plugin``); every link is built from the request's
``root_path``, so the same app works at any mount point.

Safety:
* Everything from wire copy reaches the page through Jinja2 with autoescaping on, and a
  Content-Security-Policy allows only this app's own scripts and styles (no inline code),
  so a ``<script>`` in a headline is text, twice over.
* Actions are POST only and carry a CSRF token that must match a SameSite=Strict cookie
  (clients authenticating with a bearer token send no ambient credentials and are exempt).
* Who may look and who may act is decided by the ``DashboardAuth`` the app is built with.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from pipeline import __version__
from pipeline.config import ConfigError, Settings, load_settings
from pipeline.dashboard import actions, pages, review, views, web
from pipeline.dashboard.auth import DashboardAuth, LocalAuth, login_name
from pipeline.stages.overrides import OverrideError
from pipeline.store.connect import DatabaseError

log = logging.getLogger("newsdedup.dashboard")


def create_app(
    settings: Settings | None = None,
    *,
    auth: DashboardAuth | None = None,
    database_url: str | None = None,
    title: str = "newsdedup",
    airflow_url: str | None = None,
) -> FastAPI:
    """The dashboard app. ``settings`` default to ``load_settings()`` (NEWSDEDUP_* and
    newsdedup.toml, like the CLI); ``auth`` defaults to the local user with edit rights.
    ``airflow_url``: the Airflow UI that batches and stage runs link to (none: no links)."""
    settings = settings or load_settings(database_url=database_url)
    auth = auth or LocalAuth(login_name())
    app = FastAPI(
        title=f"{title} dashboard",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(d) for d in auth.view],
    )
    app.state.db = web.Database(settings)
    app.state.auth = auth
    app.state.settings = settings
    app.state.title = title
    app.state.airflow_url = airflow_url
    app.state.templates = web.environment()
    app.state.static_version = web.static_version()
    app.dependency_overrides[web.principal] = auth.principal
    app.add_middleware(web.SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(web.STATIC)), name="static")
    app.include_router(pages.router)
    app.include_router(review.pages)
    app.include_router(actions.router, dependencies=[Depends(d) for d in auth.edit])
    app.include_router(review.actions, dependencies=[Depends(d) for d in auth.edit])
    _error_pages(app)
    return app


def _error_pages(app: FastAPI) -> None:
    """Every refusal as a one-line page (or JSON for a program), with its status."""

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        resp = web.error_page(request, exc.status_code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError):
        # a path that names no page (/captions/abc) is "not found", not a JSON schema error
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = first.get("loc", ("", ""))
        if where and where[0] == "path":
            return web.error_page(request, 404, f"no page at {request.url.path[:120]}")
        name = where[-1] if where else "input"
        return web.error_page(request, 400, f"{name}: {first.get('msg', 'not valid')}")

    @app.exception_handler(web.BadRequest)
    async def _bad_request(request: Request, exc: web.BadRequest):
        return web.error_page(request, 400, str(exc))

    @app.exception_handler(OverrideError)
    async def _refused(request: Request, exc: OverrideError):
        return web.error_page(request, 409, str(exc))

    @app.exception_handler(views.NotFound)
    async def _not_found(request: Request, exc: views.NotFound):
        return web.error_page(request, 404, str(exc))

    @app.exception_handler(DatabaseError)
    async def _db_down(request: Request, exc: DatabaseError):
        log.error("dashboard database error: %s", exc)
        return web.error_page(request, 503, f"the pipeline database is not available: {exc}")

    @app.exception_handler(ConfigError)
    async def _config(request: Request, exc: ConfigError):
        return web.error_page(request, 503, f"configuration error: {exc}")
