"""Stage locks: two runs at once (a manual run during a scheduled one, two DAG runs) take
turns per stage instead of writing the same rows at the same time.

A run that must wait says what for and who holds it ("waiting for the dedup lock held by
newsdedup pid 1234 on host-a since 14:51"); a lock whose holder is a dead process on this
host (its workers or socket outlived it) is taken over by ending that session.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Callable
from datetime import datetime

import psycopg

from pipeline.errors import DatabaseError
from pipeline.store import connect
from pipeline.store.session import Part

log = logging.getLogger("newsdedup")

LOCK_CLASS = 0x6E64  # "nd": the first key of every stage lock
STAGE_LOCKS = {"ingest": 1, "dedup": 2}
POLL_S = 0.5
# application_name of a lock holder: "newsdedup <what> <host> <pid> <HH:MM>" (63 bytes max)
_LABEL = re.compile(r"^newsdedup (\w+) (\S+) (\d+) (\d\d:\d\d)$")


def label(what: str) -> str:
    host = socket.gethostname()[:32]
    return f"newsdedup {what} {host} {os.getpid()} {datetime.now().strftime('%H:%M')}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


class Locks(Part):
    FILE = "locks"

    def hold(
        self,
        what: str,
        *,
        transaction: bool,
        wait_s: float | None = None,
        say: Callable[[str], None] | None = None,
        shared: bool = False,
    ) -> None:
        """Take the ``what`` stage lock: for the current transaction, or for the session
        (until ``release``); ``shared`` (session only) with other shared holders. Waits at
        most ``wait_s`` seconds (default: ``[database] stage_lock_wait_s``; 0: no limit),
        saying whom it waits for; takes over the lock of a dead run on this host."""
        if wait_s is None:
            wait_s = connect.stage_lock_wait_s
        say = say or log.warning
        key = {"cls": LOCK_CLASS, "key": STAGE_LOCKS[what]}
        deadline = time.monotonic() + wait_s
        told = None
        while not self._try(key, transaction, shared):
            holder = self._one("holder", **key)
            if holder is not None and self._stale(holder):
                say(
                    f"taking over the {what} lock of a run that is gone "
                    f"({holder['application_name']})"
                )
                self._one("terminate", backend_pid=holder["backend_pid"])
                continue
            who = _describe(holder)
            if who != told:
                say(f"waiting for the {what} lock held by {who}")
                told = who
            if wait_s and time.monotonic() > deadline:
                raise DatabaseError(
                    f"gave up after {wait_s:.0f} s waiting for the {what} lock held by {who}"
                )
            time.sleep(POLL_S)
        self._one("label", label=label(what))

    def release(self, what: str, *, shared: bool = False) -> None:
        """Give the session lock back; a lost connection has given it back already."""
        key = {"cls": LOCK_CLASS, "key": STAGE_LOCKS[what]}
        try:
            if shared:
                self._one("shared_session_unlock", **key)
            else:
                self._one("session_unlock", **key)
        except psycopg.Error as e:
            log.info("%s lock not released (%s); the server released it with the session", what, e)

    def _try(self, key: dict, transaction: bool, shared: bool) -> bool:
        if transaction:
            return self._one("try_xact_lock", **key)["got"]
        if shared:
            return self._one("try_shared_session_lock", **key)["got"]
        return self._one("try_session_lock", **key)["got"]

    @staticmethod
    def _stale(holder: dict) -> bool:
        """The holder's session belongs to a newsdedup process on this host that is dead."""
        m = _LABEL.match(holder.get("application_name") or "")
        if not m or m.group(2) != socket.gethostname()[:32]:
            return False
        pid = int(m.group(3))
        return pid != os.getpid() and not _pid_alive(pid)


def _describe(holder: dict | None) -> str:
    if holder is None:
        return "another session (just released)"
    m = _LABEL.match(holder.get("application_name") or "")
    if m:
        return f"run pid {m.group(3)} on {m.group(2)} since {m.group(4)}"
    since = holder["backend_start"].strftime("%H:%M") if holder.get("backend_start") else "?"
    return f"database session {holder['backend_pid']} since {since}"
