"""Database URL resolution, the embedded PostgreSQL default, and connections.

With ``NEWSDEDUP_DATABASE_URL`` (or ``--database-url``) we connect there. With neither, a
PostgreSQL server shipped inside the ``pgserver`` wheel is started in
``<data dir>/pgdata`` (initialised on first use, listening on a Unix socket only) and
stopped when the last process using it exits; a newcomer needs no server of their own.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from pipeline.config import DatabaseSettings, Settings
from pipeline.errors import ConfigError, DatabaseError

log = logging.getLogger(__name__)

EMBEDDED_DB = "newsdedup"

# Session settings for every connection: JIT compilation costs more than it saves on the
# short, index-driven queries this pipeline runs (the band join included).
# lock_timeout and idle_in_transaction_session_timeout come from [database] (configure):
# no statement waits for ever, no orphaned transaction holds its locks for ever.
SESSION_SETTINGS = {
    "jit": "off",
    "lock_timeout": "300s",
    "idle_in_transaction_session_timeout": "600s",
}


# how long a run waits for another run's stage lock (pipeline.store.locks); 0: no limit
stage_lock_wait_s = DatabaseSettings.stage_lock_wait_s


def configure(db: DatabaseSettings) -> None:
    """Apply the ``[database]`` timeouts to every connection opened from now on."""
    global stage_lock_wait_s
    stage_lock_wait_s = db.stage_lock_wait_s
    SESSION_SETTINGS["lock_timeout"] = f"{int(db.lock_timeout_s * 1000)}ms"
    SESSION_SETTINGS["idle_in_transaction_session_timeout"] = (
        f"{int(db.idle_in_transaction_timeout_s * 1000)}ms"
    )


_embedded: dict[Path, object] = {}


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded server in ``data_dir`` and return its URL."""
    pgdata = (data_dir / "pgdata").resolve()
    server = _embedded.get(pgdata)
    if server is None:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"cannot create data directory {data_dir}: {e.strerror}") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            try:
                import pgserver
            except ImportError:  # pragma: no cover - pgserver is a core dependency
                raise DatabaseError(
                    "no database URL given and the embedded PostgreSQL (pgserver) is not "
                    "installed; set NEWSDEDUP_DATABASE_URL"
                ) from None
            logging.getLogger("pgserver").setLevel(logging.WARNING)
            try:
                forget_dead_handles(pgdata)
                server = pgserver.get_server(pgdata, cleanup_mode="stop")
            except Exception as e:  # pgserver raises bare exceptions with the server log
                raise DatabaseError(
                    f"embedded PostgreSQL failed to start in {pgdata}: {e}".splitlines()[0]
                ) from None
        # pgserver's own exit hook prints a traceback when the server was killed; ours
        # releases the handle quietly and stops the server only when it is still alive.
        atexit.unregister(server._cleanup)
        atexit.register(_release, server)
        _embedded[pgdata] = server
        uri = server.get_uri()
        _ensure_database(uri, EMBEDDED_DB)
    return server.get_uri(EMBEDDED_DB)


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server of ``data_dir`` if this process started or joined it."""
    server = _embedded.pop((data_dir / "pgdata").resolve(), None)
    if server is not None:
        atexit.unregister(_release)
        _release(server)


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (a killed server nobody has reaped yet)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def forget_dead_handles(pgdata: Path) -> None:
    """Drop the PIDs of processes that died without releasing the embedded server (kill -9)
    from its handle list: else the server counts them as users and is never stopped."""
    from pgserver.postgres_server import PostgresServer

    handles = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        alive = [p for p in pids if isinstance(p, int) and _alive(p)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _release(server) -> None:
    """Give up this process's handle on the embedded server; the last live user stops it.
    Never raises: it runs at exit, when a traceback helps nobody."""
    logging.getLogger("pgserver").setLevel(logging.CRITICAL)
    try:
        forget_dead_handles(server.pgdata)
        info = server._postmaster_info
        if info is not None and not _alive(info.pid):
            server.cleanup_mode = None  # killed already: nothing to stop
        server._cleanup()
    except Exception as e:  # at exit, one line is all that helps
        log.warning("embedded PostgreSQL not stopped cleanly: %s", str(e).splitlines()[0])


def lost_connection(e: BaseException) -> bool:
    """The server went away under us (a restart, a crash, an administrator ending the
    session): for the user a database error in one line, not an internal one."""
    if not isinstance(e, psycopg.OperationalError):
        return False
    state = getattr(e, "sqlstate", None)
    return state is None or state.startswith(("57P", "08"))


def is_database_error(e: BaseException) -> bool:
    return isinstance(e, psycopg.Error)


def refused_value(e: BaseException) -> bool:
    """The server refused a value the data brought, not the run's circumstances: SQLSTATE
    class 22 (a number out of range, an invalid byte sequence) or class 54 (a string too
    long for a search vector)."""
    return isinstance(e, (psycopg.errors.DataError, psycopg.errors.ProgramLimitExceeded))


def _ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def resolve_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded_url(settings.data_dir)


def describe(url: str) -> str:
    """Where the data lives, for humans, without a password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparsable database URL>"
    host = info.get("host") or "localhost"
    where = host if host.startswith("/") else f"{host}:{info.get('port') or 5432}"
    return f"postgresql database {info.get('dbname') or '?'} at {where}"


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A psycopg connection with dict rows and this pipeline's session settings."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)
    except psycopg.OperationalError as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else "connection failed"
        raise DatabaseError(f"cannot connect to {describe(url)}: {msg}") from None
    except psycopg.ProgrammingError as e:
        raise DatabaseError(f"bad database URL: {e}") from None
    with conn.cursor() as cur:
        for k, v in SESSION_SETTINGS.items():
            cur.execute("SELECT set_config(%s, %s, false)", (k, v))
    if not autocommit:
        conn.commit()
    return conn


@contextlib.contextmanager
def connection(url: str) -> Iterator[psycopg.Connection]:
    conn = connect(url)
    try:
        yield conn
    finally:
        conn.close()


def sql_dir() -> Path:
    """The project's sql/ folder (NEWSDEDUP_SQL_DIR overrides, e.g. in an image)."""
    env = os.environ.get("NEWSDEDUP_SQL_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "sql"
