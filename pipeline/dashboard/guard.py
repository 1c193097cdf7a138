"""What the standalone dashboard answers: requests for its own names, and changes from its
own pages.

* ``Host`` must be one of the allowed names (127.0.0.1, localhost, ::1, the listening
  address and ``--allow-host`` names), else 421: a DNS-rebinding page (evil.example
  resolving to 127.0.0.1) cannot read the dashboard through the victim's browser.
* A state-changing request (POST, PUT, PATCH, DELETE) that carries an ``Origin`` must come
  from the dashboard's own origin, else 403: another site cannot split or merge stories
  with the operator's rights. Programs that send no Origin (curl, tests) are not browsers
  and are let through.

Inside Airflow the UI's own sign-in and CSRF rules apply; this guards ``newsdedup dashboard``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def host_name(value: str) -> str:
    """The name of a Host header or URL netloc, without port or IPv6 brackets, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostOriginGuard:
    """ASGI middleware enforcing the two rules above."""

    def __init__(self, app, allowed_hosts: Iterable[str] = ()):
        self.app = app
        self.allowed = {host_name(h) for h in (*LOCAL_NAMES, *allowed_hosts) if h}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if host_name(host) not in self.allowed:
            return await _refuse(send, 421, f"this dashboard does not answer for host {host!r}")
        origin = headers.get("origin")
        if scope["method"] in UNSAFE and origin is not None:
            parts = urlsplit(origin) if origin != "null" else None
            if parts is None or parts.netloc.lower() != host.lower():
                return await _refuse(send, 403, "cross-site request refused (Origin)")
        return await self.app(scope, receive, send)


async def _refuse(send, status: int, message: str) -> None:
    body = (message + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
