"""Collecting payloads: files from watched folders and bodies from HTTP(S) feed URLs.

Only I/O lives here (the file system, the network, and the cursors that say what was
already taken); storing, parsing and applying is ``pipeline.stages.ingest``. Two promises:

* Nothing is read twice. A folder file whose size and mtime are those recorded in
  ``seen_file`` is skipped without being opened; a feed URL is asked with the ``ETag`` and
  ``Last-Modified`` it last answered (``source_cursor``), so an unchanged feed costs one
  ``304 Not Modified``, and a server that ignores them sends bytes whose sha256 matches the
  cursor, which are not stored again either (identical payloads are stored once anyway).
* Memory is bounded. A payload over ``MAX_PAYLOAD_BYTES`` is never held whole: its sha256
  is computed while streaming and only its first ``HEAD_KEEP`` bytes are kept, so it is
  stored as evidence and quarantined with its size as the reason.

Fetching uses the standard library (urllib): a timeout per request, retries with
exponential backoff on connection errors, timeouts, 408, 429 and 5xx (``Retry-After`` is
honoured up to ``MAX_BACKOFF``), no retry on other 4xx; only http and https URLs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import __version__
from pipeline.sources.base import MAX_PAYLOAD_BYTES

log = logging.getLogger("newsdedup")

HEAD_KEEP = 64 * 1024  # bytes kept of an oversize payload: enough to see what it was
READ_CHUNK = 1 << 20
MAX_BACKOFF = 60.0
PG_INT_MAX = 2**31 - 1  # payload.size is an integer column
USER_AGENT = f"newsdedup/{__version__} (news wire receiver)"
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Arrival:
    """One payload as it arrived: where from, its bytes (or their head), size and sha256."""

    origin: str
    body: bytes
    size: int
    sha256: bytes
    # the exact bytes of a file name that is not UTF-8 (``origin`` is then its escaped key)
    origin_bytes: bytes | None = None

    @property
    def truncated(self) -> bool:
        return len(self.body) < self.size

    @classmethod
    def of(cls, origin: str, body: bytes) -> Arrival:
        return cls(origin, body, len(body), hashlib.sha256(body).digest())


def is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def origin_name(origin: str) -> str:
    """The file name a parser sees: the last path segment of a path or of a URL."""
    if is_url(origin):
        try:
            return Path(urlsplit(origin).path).name
        except ValueError:
            return ""
    return Path(origin).name


# --- folders ---------------------------------------------------------------------------------


def path_key(path: Path | str) -> str:
    """The text a path is stored and compared under. A file system name is bytes: one that
    is not UTF-8 (``2026-06-11-\\xff\\xfebad.txt``) is keyed with its odd bytes escaped as
    ``\\xff``, and its exact bytes are kept beside the key (``path_bytes``)."""
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="backslashreplace")


def path_bytes(path: Path | str) -> bytes | None:
    """The exact bytes of a path whose name is not UTF-8; None for every other path."""
    raw = os.fsencode(path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    return None


@dataclass(frozen=True)
class PathProblem:
    """A file or folder that could not be listed or read, and why (quarantined)."""

    path: Path
    reason: str

    def arrival(self) -> Arrival:
        """The evidence stored for it: no bytes, and a digest of the path and the reason,
        so the same problem met again is the same quarantined payload."""
        marker = b"\0".join([b"newsdedup unreadable path", os.fsencode(self.path)])
        return Arrival(
            path_key(self.path),
            b"",
            0,
            hashlib.sha256(marker + self.reason.encode()).digest(),
            path_bytes(self.path),
        )


def walk(folder: Path) -> tuple[list[Path], list[PathProblem]]:
    """Every regular, non-hidden file under a folder (not under hidden folders, not through
    symlinked folders), in a stable order, and every entry that could not be looked at (an
    unreadable folder, a symlink loop) with its reason: those are quarantined, never just
    logged. A scheduled run lists the whole inbox every time, so this walks with scandir
    and sorts by path parts, not by comparing Path objects."""
    if not folder.is_dir():
        return [], []
    found: list[Path] = []
    problems: list[PathProblem] = []
    stack = [str(folder)]
    while stack:
        where = stack.pop()
        try:
            with os.scandir(where) as entries:
                for e in entries:
                    if e.name.startswith("."):
                        continue
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        elif e.is_file():
                            found.append(Path(e.path))
                    except OSError as err:  # a symlink loop, a name that cannot be looked up
                        problems.append(PathProblem(Path(e.path), _why(err)))
        except OSError as err:  # an unreadable folder: quarantined, the rest is listed
            problems.append(PathProblem(Path(where), "cannot list folder: " + _why(err)))
    return sorted(found, key=lambda p: p.parts), problems


def list_files(folder: Path) -> list[Path]:
    """The files ``walk`` finds (the problems aside)."""
    return walk(folder)[0]


def _why(err: OSError) -> str:
    return err.strerror or str(err)


def changed_files(
    seen: dict[str, tuple[int, int]], files: list[Path]
) -> tuple[list[tuple[Path, int, int]], int, list[tuple[Path, str]]]:
    """Files whose (size, mtime) differ from what ``seen`` recorded.

    Returns (to read: (path, size, mtime_ns)), the number unchanged, and (path, error) for
    files that cannot even be stat'ed."""
    todo, errors = [], []
    unchanged = 0
    for f in files:
        try:
            st = f.stat()
        except OSError as e:
            errors.append((f, e.strerror or str(e)))
            continue
        if seen.get(path_key(f)) == (st.st_size, st.st_mtime_ns):
            unchanged += 1
        else:
            todo.append((f, st.st_size, st.st_mtime_ns))
    return todo, unchanged, errors


def read_file(path: Path, limit: int = MAX_PAYLOAD_BYTES) -> Arrival:
    """The file's bytes; past ``limit``, only its head, with the sha256 of all of it."""
    with open(path, "rb") as fh:
        head = fh.read(limit + 1)
        if len(head) <= limit:
            return Arrival(
                path_key(path), head, len(head), hashlib.sha256(head).digest(), path_bytes(path)
            )
        h = hashlib.sha256(head)
        size = len(head)
        for chunk in iter(lambda: fh.read(READ_CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
    return Arrival(
        path_key(path), head[:HEAD_KEEP], min(size, PG_INT_MAX), h.digest(), path_bytes(path)
    )


# --- feeds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetch:
    """The outcome of polling one URL.

    ``status``: ``new`` (a body to store), ``not_modified`` (304), ``unchanged`` (200 with
    the bytes of last time) or ``failed`` (after the retries; ``error`` says why)."""

    url: str
    status: str
    arrival: Arrival | None = None
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    error: str = ""
    attempts: int = 1


class _Retryable(Exception):
    def __init__(self, message: str, wait: float | None = None, code: int | None = None):
        super().__init__(message)
        self.wait = wait
        self.code = code


def check_url(url: str) -> None:
    """A usage error for anything but an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise ValueError(f"not a valid URL: {url} ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"only http:// and https:// feed URLs are supported: {url}")


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    last_sha256: bytes | None = None,
    timeout: float = 20.0,
    retries: int = 3,
    backoff: float = 1.0,
    max_bytes: int = MAX_PAYLOAD_BYTES,
    sleep: Callable[[float], None] = time.sleep,
) -> Fetch:
    """Poll ``url`` once (with retries); never raises for network or HTTP trouble."""
    check_url(url)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    attempts = max(0, int(retries)) + 1
    last_error, last_code = "", None
    for attempt in range(1, attempts + 1):
        try:
            return _once(url, headers, timeout, max_bytes, last_sha256, attempt)
        except _Retryable as e:
            last_error, last_code = str(e), e.code
            if attempt == attempts:
                break
            wait = e.wait if e.wait is not None else backoff * 2 ** (attempt - 1)
            sleep(min(max(wait, 0.0), MAX_BACKOFF))
        except _Final as e:
            return Fetch(url, "failed", http_status=e.code, error=str(e), attempts=attempt)
    return Fetch(url, "failed", http_status=last_code, error=last_error, attempts=attempts)


class _Final(Exception):
    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


def _once(
    url: str,
    headers: dict[str, str],
    timeout: float,
    max_bytes: int,
    last_sha256: bytes | None,
    attempt: int,
) -> Fetch:
    req = urllib.request.Request(url, headers=headers, method="GET")
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        code = e.code
        retry_after = _retry_after(e.headers.get("Retry-After") if e.headers else None)
        e.close()
        if code == 304:
            return Fetch(
                url,
                "not_modified",
                etag=headers.get("If-None-Match"),
                last_modified=headers.get("If-Modified-Since"),
                http_status=304,
                attempts=attempt,
            )
        if code in _RETRY_STATUS:
            raise _Retryable(f"HTTP {code} {e.reason}", retry_after, code) from None
        raise _Final(f"HTTP {code} {e.reason}", code) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        reason = getattr(e, "reason", e)
        raise _Retryable(f"cannot fetch: {reason}") from None
    except (ValueError, OSError) as e:  # malformed URL parts, odd socket failures
        raise _Final(f"cannot fetch: {e}") from None
    with resp:
        try:
            body, size, sha = _read(resp, timeout, max_bytes)
        except OSError as e:  # timeouts and resets included
            raise _Retryable(f"connection lost while reading: {e}") from None
        code = resp.status
        new_etag = resp.headers.get("ETag")
        new_lm = resp.headers.get("Last-Modified")
    if last_sha256 is not None and sha == bytes(last_sha256) and len(body) == size:
        return Fetch(url, "unchanged", None, new_etag, new_lm, code, attempts=attempt)
    return Fetch(
        url, "new", Arrival(url, body, size, sha), new_etag, new_lm, code, attempts=attempt
    )


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only: urllib would also follow one to ftp://."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not is_url(newurl):
            raise urllib.error.HTTPError(newurl, code, f"redirect to {newurl} refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def _read(resp, timeout: float, max_bytes: int) -> tuple[bytes, int, bytes]:
    """(body or its head, size, sha256), reading at most ``max_bytes`` + 1 bytes (after
    gzip, which is decompressed with the same cap, so a gzip bomb stops at the limit) and
    giving up on a server that trickles for longer than ten timeouts."""
    deadline = time.monotonic() + max(timeout, 1.0) * 10
    gz = "gzip" in (resp.headers.get("Content-Encoding") or "").lower()
    dec = zlib.decompressobj(16 + zlib.MAX_WBITS) if gz else None
    h = hashlib.sha256()
    parts: list[bytes] = []
    n = 0
    while n <= max_bytes:
        if time.monotonic() > deadline:
            raise _Final("the server sent the body too slowly (gave up)")
        raw = resp.read(READ_CHUNK)
        if not raw:
            if dec is not None:
                raw_out = dec.flush()
                if raw_out:
                    h.update(raw_out)
                    parts.append(raw_out)
                    n += len(raw_out)
            break
        if dec is not None:
            try:
                raw = dec.decompress(raw, max_bytes + 1 - n)
            except zlib.error as e:
                raise _Final(f"corrupt gzip body: {e}") from None
        h.update(raw)
        parts.append(raw)
        n += len(raw)
    body = b"".join(parts)
    if n > max_bytes:
        declared = resp.headers.get("Content-Length") if dec is None else None
        size = int(declared) if declared and declared.isdigit() else n
        return body[:HEAD_KEEP], min(size, PG_INT_MAX), h.digest()
    return body, n, h.digest()


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
