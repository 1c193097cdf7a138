"""Creating and dropping whole databases: for evaluations, benchmarks and tests that need a
fresh database on a server (or on the embedded one)."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from pipeline.store.connect import embedded_url


def with_dbname(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def embedded_admin_url(data_dir: Path) -> str:
    """The maintenance database URL of the embedded server in ``data_dir`` (started)."""
    return with_dbname(embedded_url(data_dir), "postgres")


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    with psycopg.connect(admin_url, autocommit=True) as c:
        if template:
            c.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        else:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_dbname(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url).get("dbname", "")
