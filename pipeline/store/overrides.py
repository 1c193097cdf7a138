"""Operator corrections' part of the store: story events, the overrides (cannot-link and
must-link article pairs) they add or lift, and the story reads the actions check."""

from __future__ import annotations

from pipeline.store.session import Part


class Overrides(Part):
    FILE = "overrides"

    def in_force(self, article_ids: list[int]) -> list[dict]:
        """Overrides not lifted that touch these articles (id, kind, article_a, article_b),
        oldest first."""
        return self._rows("overrides_touching", ids=article_ids)

    def lock_stories(self, story_ids: list[int]) -> dict[int, dict]:
        """Lock the stories until the transaction ends (one action on them at a time);
        id -> {canonical_article_id, merged_into, member_count}."""
        return {r["id"]: r for r in self._rows("lock_stories", ids=story_ids)}

    def members(self, story_id: int) -> list[dict]:
        """The story's members (contributors aside): article_id, role, by article id."""
        return self._rows("own_members", story_id=story_id)

    def live_story(self, story_id: int) -> int | None:
        """The story that now holds ``story_id`` (itself, or the story it was merged into)."""
        row = self._one("live_story", id=story_id)
        return row["id"] if row else None

    def story_of(self, article_id: int) -> tuple[int | None, int]:
        """(story, its member count) of an article; (None, 0) when it is in none."""
        row = self._one("story_of_article", id=article_id)
        return (row["story_id"], row["member_count"]) if row else (None, 0)

    def add_event(
        self,
        kind: str,
        story_id: int,
        who: str,
        why: str,
        other_story_id: int | None = None,
        article_id: int | None = None,
    ) -> int:
        return self._one(
            "insert_event",
            kind=kind,
            story_id=story_id,
            other_story_id=other_story_id,
            article_id=article_id,
            who=who,
            why=why,
        )["id"]

    def finish_event(self, event_id: int, outcome: str, other_story_id: int | None) -> None:
        self._run("finish_event", id=event_id, outcome=outcome, other_story_id=other_story_id)

    def add(self, event_id: int, kind: str, a: int, b: int, who: str, why: str) -> None:
        self._run(
            "insert_override",
            kind=kind,
            article_a=a,
            article_b=b,
            who=who,
            why=why,
            event_id=event_id,
        )

    def revoke_between(
        self, event_id: int, kinds: list[str], left: list[int], right: list[int]
    ) -> list[dict]:
        """Lift the overrides of these kinds that join an article of ``left`` to one of
        ``right``; returns them (id, kind, article_a, article_b)."""
        return self._rows("revoke_between", event_id=event_id, kinds=kinds, left=left, right=right)
