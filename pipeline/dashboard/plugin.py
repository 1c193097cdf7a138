"""The Airflow 3 plugin that puts the dashboard inside the Airflow UI.

The only module of the core package that imports airflow (registered through the
``airflow.plugins`` entry point in pyproject.toml). It

* mounts the dashboard's FastAPI app at ``/newsdedup`` (``fastapi_apps``), protected by
  Airflow's own authentication: the UI's session token (cookie) or an API bearer token is
  resolved by Airflow's ``get_user``; an anonymous request gets 401. Pages need permission
  to read DAGs, actions permission to edit them (``requires_access_dag``), so Airflow's
  roles decide who may split and merge;
* adds "Dedup" to the navigation (``external_views``), shown in the UI's iframe at
  ``/plugin/dedup``. The UI's address is that page followed by the frame's own path
  (``/plugin/dedup/newsdedup/stories/6``), so the page is named for the navigation entry
  rather than repeating the mount's name; the address of earlier versions
  (``/plugin/newsdedup/...``) redirects there.

Airflow imports plugins in every component (scheduler, workers, DAG processor), so this
module imports nothing heavy: the app and its Airflow security dependencies are built on
the first request the API server receives.

Database: the Airflow connection ``newsdedup_db``, resolved through the postgres
provider's hook exactly as the tasks resolve it (:mod:`pipeline.airflow_db`), so the
dashboard shows what the DAGs wrote and an operator's split lands where the next DAG run
reads it. No fallback: without the connection every page says so (503); the embedded
server never starts inside Airflow. The plugin never migrates; it checks the schema.
"""

import logging
import threading
from urllib.parse import urlsplit

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, Request

from pipeline.dashboard.auth import DashboardAuth, Principal, has_bearer

URL_PREFIX = "/newsdedup"
UI_PAGE = "dedup"  # the UI's page: /plugin/dedup
OLD_UI_PAGE = "/plugin/newsdedup"
log = logging.getLogger("newsdedup.dashboard")


def _base_path() -> str:
    """The path of Airflow's own base URL (``[api] base_url``), for links from its UI."""
    base = conf.get("api", "base_url", fallback="") or ""
    return urlsplit(base).path.rstrip("/")


class AirflowAuth(DashboardAuth):
    """Airflow decides: its FastAPI security dependencies guard every route."""

    def __init__(self) -> None:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.core_api.security import get_user, requires_access_dag

        self._auth_manager = get_auth_manager
        # reading the dashboard = reading DAGs; acting on stories = editing DAGs
        self.view = (requires_access_dag(method="GET"),)
        self.edit = (requires_access_dag(method="PUT"),)

        def principal(request: Request, user=Depends(get_user)) -> Principal:  # noqa: B008
            can_edit = get_auth_manager().is_authorized_dag(method="PUT", user=user)
            return Principal(
                user.get_name(),
                bool(can_edit),
                token_auth=has_bearer(request),
                read_only_reason="splitting and merging need permission to edit DAGs in Airflow",
            )

        self.principal = principal

    def login_url(self, request: Request) -> str | None:
        next_url = _base_path() + "/plugin/" + UI_PAGE
        return self._auth_manager().get_url_login(next_url=next_url)


def build_app(auth: DashboardAuth):
    """The dashboard as mounted in Airflow, guarded by ``auth``."""
    from pipeline import airflow_db
    from pipeline.dashboard import web
    from pipeline.dashboard.app import create_app

    # batches and stage runs link to their DAG run and task log in this Airflow's UI
    app = create_app(auth=auth, airflow_url=_base_path() or "/")
    # the one database of the DAGs, resolved on the first request that needs it
    app.state.db = web.Database(app.state.settings, resolve=airflow_db.url, migrate=False)
    return app


class LazyDashboard:
    """An ASGI app that builds the real dashboard on its first request."""

    def __init__(self) -> None:
        self._app = None
        self._lock = threading.Lock()

    def _build(self):
        return build_app(AirflowAuth())

    async def __call__(self, scope, receive, send):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    try:
                        self._app = self._build()
                    except Exception as e:  # a bad newsdedup.toml...: say so, retry next time
                        log.error("newsdedup dashboard cannot start: %s", e)
                        if scope["type"] != "http":
                            return
                        body = f"newsdedup dashboard cannot start: {e}".splitlines()[0].encode()
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 503,
                                "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
        await self._app(scope, receive, send)


dashboard_app = LazyDashboard()


class OldUiAddress:
    """Redirects /plugin/newsdedup[/<rest>] (the UI page's earlier name) to
    /plugin/dedup[/<rest>]; every other request passes through untouched. A root
    middleware, because the bare page address belongs to the UI's own catch-all route."""

    def __init__(self, app) -> None:
        self.app = app
        self.old = _base_path() + OLD_UI_PAGE
        self.new = _base_path() + "/plugin/" + UI_PAGE

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != self.old and not path.startswith(self.old + "/"):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = self.new + path[len(self.old) :] + (f"?{query}" if query else "")
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", target.encode("latin-1")), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


class NewsdedupPlugin(AirflowPlugin):
    name = "newsdedup"
    fastapi_apps = [  # noqa: RUF012 - Airflow reads these class attributes
        {"app": dashboard_app, "url_prefix": URL_PREFIX, "name": "newsdedup dashboard"}
    ]
    fastapi_root_middlewares = [  # noqa: RUF012
        {"middleware": OldUiAddress, "name": "newsdedup earlier UI address"}
    ]
    external_views = [  # noqa: RUF012
        {
            "name": "Dedup",
            "href": _base_path() + URL_PREFIX + "/",
            "icon": _base_path() + URL_PREFIX + "/static/icon.svg",
            "icon_dark_mode": _base_path() + URL_PREFIX + "/static/icon-dark.svg",
            "url_route": UI_PAGE,
            "destination": "nav",
            "nav_top_level": True,
        }
    ]
