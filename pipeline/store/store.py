"""The pipeline's database as the stages see it: one session, one part per aggregate.

    with Store.open(url) as store:
        with store.transaction():
            batch = store.batches.get(key)

Each part owns its ``sql/queries/<part>.sql`` and returns model records (or plain row
mappings for what is only shown); nothing outside ``pipeline.store`` names a query.
"""

from __future__ import annotations

from pipeline.model import RunOrigin
from pipeline.store import migrate as _migrate
from pipeline.store.batches import Batches
from pipeline.store.collect import Collect
from pipeline.store.connect import connect
from pipeline.store.dashboard import Dashboard
from pipeline.store.edges import Edges
from pipeline.store.ingest import Ingest
from pipeline.store.locks import Locks
from pipeline.store.lsh import Lsh
from pipeline.store.overrides import Overrides
from pipeline.store.packages import Packages
from pipeline.store.report import Report
from pipeline.store.review import Review
from pipeline.store.runs import Runs
from pipeline.store.session import Session
from pipeline.store.stories import Stories


class Store(Session):
    def __init__(self, conn, url: str | None = None, origin: RunOrigin | None = None):
        super().__init__(conn, url, origin)
        self.runs = Runs(self)
        self.locks = Locks(self)
        self.ingest = Ingest(self)
        self.collect = Collect(self)
        self.packages = Packages(self)
        self.batches = Batches(self)
        self.lsh = Lsh(self)
        self.edges = Edges(self)
        self.review = Review(self)
        self.stories = Stories(self)
        self.overrides = Overrides(self)
        self.dashboard = Dashboard(self)
        self.report = Report(self)

    @classmethod
    def open(
        cls,
        url: str,
        *,
        migrate: bool = True,
        check: bool = False,
        origin: RunOrigin | None = None,
    ) -> Store:
        """A session on ``url``. ``migrate`` applies pending migrations first; without it,
        ``check`` refuses a database whose schema is behind this code (where migrations run
        once elsewhere, as under Airflow). ``origin``: the scheduler's run it works for."""
        conn = connect(url, autocommit=True)
        try:
            if migrate:
                _migrate.migrate(conn)
            elif check:
                _migrate.require_current(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, url=url, origin=origin)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
