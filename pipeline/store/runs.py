"""The run table: one row per stage execution, with its counts, duration and outcome."""

from __future__ import annotations

import socket

from psycopg.types.json import Jsonb

from pipeline.store.session import Part


class Runs(Part):
    FILE = "runs"

    # recorded on a connection of their own, outside the stage's transaction, so that a
    # failed stage is still visible

    def start(self, stage: str, batch_key: str | None) -> int:
        origin = self.session.origin
        params = {
            "stage": stage,
            "batch_key": batch_key,
            "host": socket.gethostname(),
            "dag_id": origin and origin.dag_id,
            "dag_run_id": origin and origin.dag_run_id,
            "task_id": origin and origin.task_id,
            "map_index": origin and origin.map_index,
        }
        with self.session.side_connection() as c:
            return c.execute(self.q.start_run, params).fetchone()["id"]

    def finish(
        self, run_id: int, status: str, counts: dict, seconds: float, error: str | None = None
    ) -> None:
        params = {
            "id": run_id,
            "status": status,
            "counts": Jsonb(counts),
            "seconds": seconds,
            "error": error,
        }
        with self.session.side_connection() as c:
            c.execute(self.q.finish_run, params)
