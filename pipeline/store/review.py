"""The review queue's part of the store: doubtful article pairs (``conflict`` verdicts and
``distinct`` ones near the thresholds) and the decisions operators took on them."""

from __future__ import annotations

from pipeline.store.session import Part


class Review(Part):
    FILE = "review"

    def queue(self, jaccard: float, containment: float, limit: int) -> list[dict]:
        """Undecided pairs kept apart (conflict or distinct) whose Jaccard or containment
        reaches the given floors, newest first."""
        return self._rows("queue", jaccard=jaccard, containment=containment, limit=limit)

    def count(self, jaccard: float, containment: float) -> int:
        return self._one("count", jaccard=jaccard, containment=containment)["n"]

    def pair(self, a: int, b: int) -> dict | None:
        """The verified pair of articles a < b, both articles, their stories, its decision."""
        return self._one("pair", a=a, b=b)

    def record(
        self, a: int, b: int, decision: str, event_id: int | None, who: str, why: str, outcome: str
    ) -> None:
        self._run(
            "record",
            a=a,
            b=b,
            decision=decision,
            event_id=event_id,
            who=who,
            why=why,
            outcome=outcome,
        )

    def recent(self, limit: int = 10) -> list[dict]:
        return self._rows("recent", limit=limit)
