"""The connection every part of the store shares, and the base of those parts.

``Session`` is one psycopg connection in autocommit mode, so reads outside ``with
session.transaction()`` never leave a transaction open and every such block is a real,
committed transaction; transactions are the caller's, so a stage decides what is atomic.
It also keeps what the parts share: bulk settings, id allocation, and the count of rows
bulk-written per table that ``analyze_written`` acts on.

``Part`` is one aggregate of the store over the session: it owns
``sql/queries/<FILE>.sql``, is the only code that names those queries, and hands back
model records or plain row mappings.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar

import psycopg
import psycopg.sql

from pipeline.model import RunOrigin
from pipeline.store.connect import connect
from pipeline.store.queries import Queries, load_files

# the table a COPY or INSERT writes, for analyze_written's bookkeeping
_WRITES = re.compile(r"^\s*(?:COPY|INSERT\s+INTO)\s+(\w+)", re.I | re.M)


class Session:
    FILE: ClassVar[str] = "session"

    def __init__(
        self, conn: psycopg.Connection, url: str | None = None, origin: RunOrigin | None = None
    ):
        self.conn = conn
        self.url = url
        # the scheduler's run this session works for (None: the standalone CLI)
        self.origin = origin
        self._q = load_files()[self.FILE]
        # rows bulk-written per table since its last ANALYZE by us (see analyze_written)
        self.written: dict[str, int] = {}

    def close(self) -> None:
        self.conn.close()

    def rollback(self) -> None:
        """End whatever transaction a failure left open."""
        self.conn.rollback()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def bulk_settings(self) -> None:
        """Within the current transaction: asynchronous commit and a larger work_mem, for
        idempotent bulk stages (see bulk_transaction_settings in sql/queries/session.sql)."""
        self.conn.execute(self._q.bulk_transaction_settings)

    def allocate_ids(self, table: str, n: int) -> list[int]:
        """n fresh identity values of ``table``, in descending order (callers pop())."""
        if n <= 0:
            return []
        got = [r["id"] for r in self.conn.execute(self._q.allocate_ids, {"table": table, "n": n})]
        got.sort(reverse=True)
        return got

    def table_sizes(self, tables: Sequence[str]) -> dict[str, float]:
        """Row counts of these tables as of their last ANALYZE (-1: never analysed)."""
        rows = self.conn.execute(self._q.table_sizes, {"tables": list(tables)})
        return {r["relname"]: r["reltuples"] for r in rows}

    def note_written(self, table: str, n: int) -> None:
        self.written[table] = self.written.get(table, 0) + n

    def analyze_written(self, share: float = 0.2) -> list[str]:
        """ANALYZE the tables bulk-written more than ``share`` of their size since they were
        last analysed here. Autovacuum does the same a minute later; a batch planned on the
        statistics of an empty table in the meantime turns the candidate join's index
        lookups into scans. Counted here rather than read from pg_stat, whose counters lag
        behind the writer's own (even committed) writes."""
        if not self.written:
            return []
        sizes = self.table_sizes(sorted(self.written))
        done = []
        for table, n in sorted(self.written.items()):
            if table in sizes and n > share * max(sizes[table], 0) + 500:
                # an identifier cannot be a parameter: composed by psycopg, and only from
                # table names pg_class just confirmed
                self.conn.execute(
                    psycopg.sql.SQL("ANALYZE {}").format(psycopg.sql.Identifier(table))
                )
                done.append(table)
        for t in done:
            del self.written[t]
        return done

    @contextlib.contextmanager
    def side_connection(self) -> Iterator[psycopg.Connection]:
        """A connection of its own, for what must be written whatever the caller's
        transaction does; a session opened on a bare connection (tests) uses that one."""
        if self.url is None:
            yield self.conn
            return
        c = connect(self.url, autocommit=True)
        try:
            yield c
        finally:
            c.close()


class Part:
    """One aggregate of the store: the named queries of ``sql/queries/<FILE>.sql``."""

    FILE: ClassVar[str]

    def __init__(self, session: Session):
        self.session = session
        self.q: Queries = load_files()[self.FILE]

    @property
    def conn(self) -> psycopg.Connection:
        return self.session.conn

    def _rows(self, name: str, **params) -> list[dict]:
        return self.conn.execute(getattr(self.q, name), params).fetchall()

    def _one(self, name: str, **params) -> dict | None:
        return self.conn.execute(getattr(self.q, name), params).fetchone()

    def _run(self, name: str, **params) -> int:
        return self.conn.execute(getattr(self.q, name), params).rowcount

    def _exec(self, name: str) -> None:
        """A statement without parameters (staging tables, planner settings)."""
        self.conn.execute(getattr(self.q, name))

    def _many(self, name: str, rows: Sequence[dict]) -> None:
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(getattr(self.q, name), rows)

    def _copy(self, name: str, rows: Iterable[Sequence]) -> int:
        n = 0
        with self.conn.cursor() as cur, cur.copy(getattr(self.q, name)) as cp:
            for r in rows:
                cp.write_row(r)
                n += 1
        self._note(name, n)
        return n

    def _copy_binary(self, name: str, data: bytes, rows: int = 0) -> None:
        with self.conn.cursor() as cur, cur.copy(getattr(self.q, name)) as cp:
            cp.write(data)
        self._note(name, rows)

    def _note(self, name: str, n: int) -> None:
        m = _WRITES.match(getattr(self.q, name))
        if m and not m.group(1).endswith("_stage"):
            self.session.note_written(m.group(1), n)
