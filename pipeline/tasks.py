"""Stage entry points for a scheduler (the Airflow DAGs in ``dags/`` call these).

Plain arguments in, small JSON-safe dicts out: a batch key, counts and seconds, never
article text, so what a task hands to the next one through XCom stays tiny. Each call opens
its own connection, runs one idempotent stage of ``pipeline.stages`` (which records it in
the ``run`` table) and closes the connection, so any worker can run any call in any order
a scheduler retries them in.

Nothing here imports Airflow: the DAG files resolve the connection ``newsdedup_db``
(:mod:`pipeline.airflow_db`) and pass a :class:`Target`, the database's URL and the DAG run
the task works for, which the batch and the stage's run row keep. A task never migrates: it
checks that the schema is current and fails in one line when it is behind.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from pipeline.config import DEFAULT_SOURCES, ConfigError, Settings, SourceConfig, load_settings
from pipeline.model import RunOrigin

log = logging.getLogger("newsdedup.tasks")

# libpq parameters an Airflow connection may carry in its extra field
_LIBPQ_EXTRA = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
)


# --- configuration -------------------------------------------------------------------------


def sources(settings: Settings | None = None) -> tuple[SourceConfig, ...]:
    """The sources to schedule: the configured ones, else the default three (without
    folders, so their runs store nothing until an inbox or folders are configured)."""
    settings = settings or load_settings()
    if settings.sources:
        return settings.sources
    return tuple(SourceConfig(name=n) for n in DEFAULT_SOURCES)


def url_from_connection(
    *,
    host: str | None,
    port: int | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: dict | None = None,
) -> str:
    """A ``postgresql://`` URL from the fields of an Airflow connection. A host starting
    with ``/`` is a Unix socket directory (the embedded server's)."""
    auth = ""
    if login:
        auth = quote(login, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        auth += "@"
    query = {k: str(v) for k, v in (extra or {}).items() if k in _LIBPQ_EXTRA and v is not None}
    netloc = ""
    if host and host.startswith("/"):
        query = {"host": host, **({"port": str(port)} if port else {}), **query}
    elif host:
        netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    url = f"postgresql://{auth}{netloc}/{quote(schema or '', safe='')}"
    return url + ("?" + urlencode(query) if query else "")


def connection_json(url: str) -> str:
    """The Airflow connection (JSON form, for ``AIRFLOW_CONN_NEWSDEDUP_DB``) of a
    ``postgresql://`` URL, including libpq's ``?host=/socket/dir`` form."""
    u = urlsplit(url)
    if u.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"not a postgresql:// URL: {url.split('@')[-1]}")
    query = dict(parse_qsl(u.query))
    host = query.pop("host", None) or u.hostname
    port = query.pop("port", None) or u.port
    fields = {
        "conn_type": "postgres",
        "host": host,
        "port": int(port) if port else None,
        "login": unquote(u.username) if u.username else None,
        "password": unquote(u.password) if u.password else None,
        "schema": unquote(u.path.lstrip("/")) or None,
        "extra": query or None,
    }
    return json.dumps({k: v for k, v in fields.items() if v not in (None, "")})


# --- helpers -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    """Where a task works: the pipeline database, and the scheduler's run it works for."""

    url: str
    origin: RunOrigin | None = None


@contextmanager
def _store(db: Target | str) -> Iterator:
    from pipeline.stages import pool
    from pipeline.store.store import Store

    pool.share_with_other_tasks()  # tasks run side by side: no task takes every CPU
    t = db if isinstance(db, Target) else Target(db)
    store = Store.open(t.url, migrate=False, check=True, origin=t.origin)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _dedup_store(db: Target | str) -> Iterator:
    """The store of a dedup task, holding the dedup lock for the task: shared with the
    other tasks of its run (shards run side by side; the DAG runs one run at a time), so
    a whole dedup run of the command, which holds it alone, never interleaves with a task
    (either waits for the other, saying whom for)."""
    with _store(db) as store:
        store.locks.hold("dedup", transaction=False, shared=True)
        try:
            yield store
        finally:
            store.locks.release("dedup", shared=True)


class _LogProgress:
    """Progress lines in the task log, at most every 10 s (and at the end)."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 10:
            return
        self.last = now
        log.info("%s: %d/%d (%d%%)", stage, done, total, 100 * done // max(total, 1))


def _out(summary) -> dict:
    """A stage's summary for XCom (its stage has already logged it)."""
    counts = dict(summary.counts)
    return {
        "stage": summary.stage,
        "batch_key": summary.batch_key,
        "counts": counts,
        "seconds": round(summary.seconds, 3),
    }


def shard_list(shards: int) -> list[int]:
    if not 1 <= int(shards) <= 256:
        raise ConfigError(f"shards must be between 1 and 256, got {shards}")
    return list(range(int(shards)))


# --- ingest --------------------------------------------------------------------------------


def files_for(source: SourceConfig, cutoff: datetime, unreadable: list | None = None) -> list[Path]:
    """The files of the source's folders last modified at or before ``cutoff``: what a run
    whose interval ends at ``cutoff`` may see, so a retry or backfill reads the same set
    (minus nothing: payloads are content-addressed, a file already stored is a no-op)."""
    from pipeline.sources.collect import walk

    limit = cutoff.timestamp()
    out: list[Path] = []
    for folder in source.folders:
        found, problems = walk(Path(folder).expanduser())
        if unreadable is not None:  # symlink loops, unreadable folders: quarantined
            unreadable.extend(problems)
        for f in found:
            try:
                if f.stat().st_mtime <= limit:
                    out.append(f)
            except OSError:  # vanished between listing and stat: the next run sees it or not
                continue
    return out


def ingest(db: Target | str, source_name: str, cutoff: datetime, key: str) -> dict:
    """Ingest one source's folders up to ``cutoff``; ``changed`` says whether articles were
    added, updated or killed (then they are pending for the next dedup batch)."""
    from pipeline.sources.prepare import configure_limits
    from pipeline.stages import ingest
    from pipeline.store.connect import configure

    settings = load_settings()
    configure(settings.database)  # [database] timeouts and [limits], as the CLI applies them
    configure_limits(settings.limits)
    source = next((s for s in sources(settings) if s.name == source_name), None)
    if source is None:
        raise ConfigError(f"source {source_name!r} is not configured any more")
    if not source.folders:
        log.warning(
            "source %s has no folders (set NEWSDEDUP_INBOX or [sources.%s] folders)",
            source_name,
            source_name,
        )
    unreadable: list = []
    files = files_for(source, cutoff, unreadable)
    log.info(
        "ingest %s: %d file(s) up to %s in %s",
        source_name,
        len(files),
        cutoff.isoformat(),
        ", ".join(source.folders) or "no folder",
    )
    with _store(db) as store:
        # the folders' files are already listed (up to the cutoff); feeds are polled with
        # their cursors, so a retry of this run fetches nothing twice
        only_urls = dataclasses.replace(source, folders=())
        out = _out(
            ingest.ingest_source(
                store,
                only_urls,
                paths=files,
                progress=_LogProgress(),
                key=key,
                unreadable=unreadable,
            )
        )
    c = out["counts"]
    out["changed"] = bool(c.get("items_new") or c.get("items_updated") or c.get("killed"))
    return out


def interval_key(start: datetime | None, end: datetime | None, run_after: datetime) -> str:
    """A run's key: its data interval, or its trigger time for a run without one."""

    def fmt(t: datetime) -> str:
        return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    if start is not None and end is not None:
        return f"{fmt(start)}/{fmt(end)}"
    return f"manual {fmt(run_after)}"


# --- dedup stages --------------------------------------------------------------------------


def open_batch(db: Target | str, key: str, shards: int) -> dict:
    """Open (or resume) a batch. ``shards`` is the list to map the parallel stages over;
    empty when there is nothing to do, so they are skipped."""
    from pipeline.stages import batch

    settings = load_settings()
    with _dedup_store(db) as store:
        out = _out(batch.open_batch(store, settings.dedup, key=key))
    out["shards"] = shard_list(shards) if out["counts"].get("articles") else []
    return out


def _batch_stage(db: Target | str, batch_key: str, fn, *args) -> dict:
    """One stage of a batch, under the configuration the batch was opened with."""
    from pipeline.stages.batch import config_of, load

    with _dedup_store(db) as store:
        batch = load(store, batch_key)
        return _out(fn(store, batch, config_of(store, batch), *args))


def sign(db: Target | str, batch_key: str, shard: int, shards: int) -> dict:
    from pipeline.stages import sign

    return _batch_stage(db, batch_key, sign.run, shard, shards)


def candidates(db: Target | str, batch_key: str) -> dict:
    from pipeline.stages import candidates

    return _batch_stage(db, batch_key, candidates.run)


def verify(db: Target | str, batch_key: str, shard: int, shards: int) -> dict:
    from pipeline.stages import verify

    return _batch_stage(db, batch_key, verify.run, shard, shards, _LogProgress())


def cluster_merge(db: Target | str, batch_key: str) -> dict:
    from pipeline.stages import cluster_merge

    return _batch_stage(db, batch_key, cluster_merge.run)


def publish(db: Target | str, batch_key: str) -> dict:
    from pipeline.stages import publish
    from pipeline.stages.batch import load, pending

    with _dedup_store(db) as store:
        out = _out(publish.run(store, load(store, batch_key)))
        out["pending"] = pending(store)
    if out["pending"]:
        log.info("%d article(s) still pending for the next batch", out["pending"])
    return out


# --- maintenance ---------------------------------------------------------------------------


def requeue(db: Target | str, payload_id: int | None) -> dict:
    from pipeline.stages import maintenance
    from pipeline.stages.batch import pending

    with _store(db) as store:
        return {"requeue": _out(maintenance.requeue(store, payload_id)), "pending": pending(store)}


def resign(
    db: Target | str, shard: int, shards: int, since: datetime | None, until: datetime | None
) -> dict:
    from pipeline.stages import maintenance

    settings = load_settings()
    with _store(db) as store:
        return _out(maintenance.resign(store, settings.dedup, shard, shards, since, until))


def rebuild(db: Target | str, since: datetime, until: datetime) -> dict:
    from pipeline.stages import maintenance
    from pipeline.stages.batch import pending

    with _store(db) as store:
        out = _out(maintenance.rebuild(store, since, until))
        out["pending"] = pending(store)
    return out


def parse_time(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time from a trigger form; a time without a zone is UTC."""
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{name}: not an ISO 8601 time: {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)
