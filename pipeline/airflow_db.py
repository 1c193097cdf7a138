"""The pipeline database inside Airflow: the connection ``newsdedup_db``, one way.

Tasks and the dashboard plugin alike resolve it here, through the postgres provider's
``PostgresHook`` (psycopg 3). There is no fallback: inside Airflow a missing connection is
a one-line error, never an embedded server started by whichever process asked first (each
worker would get a database of its own). The embedded server is the standalone CLI's
default only.

Migrations run once, where Airflow itself is set up (``python -m pipeline.airflow_db
init``: ``make airflow``, compose's ``airflow-init``, the maintenance DAG's ``migrate``
operation); a task only checks the schema version (``Store.open(check=True)``).

Imports Airflow lazily, so importing this module stays cheap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from pipeline.config import ConfigError
from pipeline.model import RunOrigin

CONNECTION_ID = "newsdedup_db"
POOL = "newsdedup_db"
POOL_SLOTS_ENV = "NEWSDEDUP_DB_POOL_SLOTS"
DEFAULT_POOL_SLOTS = 4

MISSING = (
    f"the Airflow connection {CONNECTION_ID} is not defined: add it (postgres type) in "
    f"Admin > Connections or as AIRFLOW_CONN_{CONNECTION_ID.upper()}=postgresql://..."
)


def hook():
    """The provider's hook on ``newsdedup_db``."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    return PostgresHook(postgres_conn_id=CONNECTION_ID)


def _connection(h):
    from airflow.exceptions import AirflowNotFoundException

    try:
        conn = h.connection
    except AirflowNotFoundException:
        raise ConfigError(MISSING) from None
    if (conn.conn_type or "").lower() not in ("postgres", "postgresql"):
        raise ConfigError(
            f"the Airflow connection {CONNECTION_ID} is of type {conn.conn_type!r}, not postgres"
        )
    return conn


def url() -> str:
    """The pipeline database's ``postgresql://`` URL, from the hook's connection."""
    from pipeline.tasks import url_from_connection

    conn = _connection(hook())
    return url_from_connection(
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=conn.extra_dejson,
    )


# asset URIs while parsing without the connection (they are names, never a database)
DEFAULT_ASSET_BASE = "postgres://localhost:5432/newsdedup"


def asset_base() -> str:
    """``postgres://host:port/database`` of the connection, the prefix of the pipeline's
    asset URIs (a Unix-socket directory is this machine: localhost).

    Read from ``AIRFLOW_CONN_NEWSDEDUP_DB`` itself, not looked up: the dag-processor and
    every worker must name an asset alike (a task whose outlet differs from the parsed
    one is refused), and the variable is the same in every process of a deployment while a
    lookup may reach a secrets backend in one and not in another. Without the variable
    (a connection stored in Airflow) the URIs use DEFAULT_ASSET_BASE everywhere. Imports
    neither Airflow nor a driver: DAG files call it while parsing."""
    raw = os.environ.get(f"AIRFLOW_CONN_{CONNECTION_ID.upper()}", "").strip()
    if not raw:
        return DEFAULT_ASSET_BASE
    if raw.startswith("{"):
        fields = json.loads(raw)
        host, port, db = fields.get("host"), fields.get("port"), fields.get("schema")
    else:
        u = urlsplit(raw)
        host = u.hostname or dict(parse_qsl(u.query)).get("host")
        port, db = u.port, unquote(u.path.lstrip("/"))
    if not host or host.startswith("/"):
        host = "localhost"
    return f"postgres://{host}:{port or 5432}/{quote(db or 'postgres', safe='')}"


def init() -> list[str]:
    """Apply the pending migrations on the hook's own (psycopg 3) connection; return the
    names of those applied now."""
    from pipeline.store.migrate import migrate

    h = hook()
    _connection(h)
    conn = h.get_conn()
    try:
        return [m.path.name for m in migrate(conn)]
    finally:
        conn.close()


def pool_slots() -> int:
    raw = os.environ.get(POOL_SLOTS_ENV, "").strip()
    try:
        slots = int(raw) if raw else DEFAULT_POOL_SLOTS
    except ValueError:
        raise ConfigError(f"{POOL_SLOTS_ENV} must be a whole number, got {raw!r}") from None
    if slots < 1:
        raise ConfigError(f"{POOL_SLOTS_ENV} must be at least 1, got {slots}")
    return slots


def ensure_pool(slots: int | None = None) -> int:
    """The Airflow pool bounding database-heavy tasks, created or resized (needs Airflow's
    metadata database: run where Airflow is set up, not inside a task)."""
    from airflow.models.pool import Pool

    slots = slots or pool_slots()
    Pool.create_or_update_pool(
        name=POOL,
        slots=slots,
        description="newsdedup tasks that work on the pipeline database",
        include_deferred=False,
    )
    return slots


def origin(context) -> RunOrigin:
    """The DAG run, task and map index of a task's context."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    return RunOrigin(
        dag_id=ti.dag_id,
        dag_run_id=context["dag_run"].run_id,
        task_id=ti.task_id,
        map_index=map_index if map_index is not None and map_index >= 0 else None,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m pipeline.airflow_db",
        description=f"The pipeline database of the Airflow connection {CONNECTION_ID}.",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init", help="apply pending migrations (and, with --pool, the pool)")
    p.add_argument(
        "--pool",
        action="store_true",
        help=f"also create the Airflow pool {POOL} ({POOL_SLOTS_ENV} slots, default "
        f"{DEFAULT_POOL_SLOTS}); needs Airflow's metadata database",
    )
    p.add_argument(
        "--metadata",
        action="store_true",
        help="first create or upgrade Airflow's own metadata database (a local Airflow)",
    )
    sub.add_parser("url", help="print where the connection points (without a password)")
    args = ap.parse_args(argv)
    try:
        if args.command == "url":
            from pipeline.store.connect import describe

            print(describe(url()))
            return 0
        if args.metadata:
            from airflow.utils import db

            db.initdb()  # one process for both set-ups: Airflow's import is the slow part
        done = init()
        print(
            f"newsdedup: {len(done)} migration(s) applied"
            + (": " + ", ".join(done) if done else "")
        )
        if args.pool:
            print(f"newsdedup: pool {POOL} with {ensure_pool()} slot(s)")
    except Exception as e:  # one line, like the CLI
        print(f"newsdedup: error: {e}".splitlines()[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
