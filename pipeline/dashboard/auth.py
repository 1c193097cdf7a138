"""Who is looking, and may they act? The dashboard takes its answer from outside.

The app is built with a ``DashboardAuth``: FastAPI dependencies run before every page
(``view``) and before every action (``edit``), and one that names the person (``principal``).
Standalone, ``LocalAuth`` trusts the machine (the server listens on 127.0.0.1 by default)
and can be started read-only; inside Airflow, ``plugin.AirflowAuth`` uses Airflow's own
authentication and permissions.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request


@dataclass(frozen=True)
class Principal:
    name: str
    can_edit: bool
    # a bearer token (an API client, not a browser session): no CSRF cookie to check
    token_auth: bool = False
    # why someone who may look cannot act, in their terms (shown instead of the actions)
    read_only_reason: str = "your account may look at stories but not change them"


class DashboardAuth:
    """The dependencies an app is built with; subclasses fill them in."""

    #: run before every page and action; raise HTTPException(401/403) to refuse
    view: tuple[Callable, ...] = ()
    #: run before every action (after ``view``); raise HTTPException(403) to refuse
    edit: tuple[Callable, ...] = ()

    def principal(self, request: Request) -> Principal:  # pragma: no cover - abstract
        raise NotImplementedError

    def login_url(self, request: Request) -> str | None:
        """Where a person without a session can sign in (None: nowhere)."""
        return None


def has_bearer(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def login_name() -> str:
    """The name of the person running the process ('operator' when the OS has none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no LOGNAME (containers)
        return "operator"


class LocalAuth(DashboardAuth):
    """Standalone: the person running ``newsdedup dashboard``; optionally read-only."""

    def __init__(self, user: str, *, can_edit: bool = True):
        self.user = user
        self.can_edit = can_edit

        def require_edit() -> None:
            if not self.can_edit:
                raise HTTPException(403, "this dashboard was started read-only")

        self.edit = (require_edit,)
        self.view = ()

    def principal(self, request: Request) -> Principal:
        return Principal(
            self.user,
            self.can_edit,
            token_auth=has_bearer(request),
            read_only_reason="this dashboard was started with --read-only; start it "
            "without to split, merge and re-queue",
        )
