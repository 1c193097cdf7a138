"""The run report, the story export and ``newsdedup explain``: the store read as a whole."""

from __future__ import annotations

from pipeline.store.session import Part


class Report(Part):
    FILE = "report"

    def articles_per_source(self) -> list[dict]:
        """source, articles, killed."""
        return self._rows("articles_per_source")

    def story_totals(self) -> dict:
        """stories (live), multi (more than one member), duplicates (members beyond one)."""
        return self._one("story_totals")

    def repeated_caption_groups(self) -> int:
        return self._one("repeated_caption_groups")["groups"]

    def stories(self) -> list[dict]:
        """Every live story: story_id, canonical, headline, member item keys, contributors,
        killed members."""
        return self._rows("export_stories")

    def story_records(self) -> list[dict]:
        """story_id, kind, in_canonical, text, credit (item key) of every provenance row of
        a live story: its merged record and contributions, in order."""
        return self._rows("export_record")

    def record_members(self) -> dict[str, dict]:
        """item key -> source, headline, headline_tag, ed_stat, killed, first_created,
        version_created, word_count, paragraphs (body text) of every live story's member."""
        return {r["item_key"]: r for r in self._rows("record_members")}

    def story_captions(self) -> list[dict]:
        """story_id, text, group_id of every caption of a live story's members."""
        return self._rows("export_captions")

    def article(self, item_key: str) -> dict | None:
        return self._one("article_by_key", key=item_key)

    def versions(self, item_key: str) -> list[dict]:
        """Every version received of an item, oldest first, with the payload's origin."""
        return self._rows("article_versions", key=item_key)

    def membership(self, article_id: int) -> dict | None:
        """The article's story, role and reason, and the story's canonical."""
        return self._one("membership_of", id=article_id)

    def story_members(self, story_id: int) -> list[dict]:
        return self._rows("story_members_brief", story_id=story_id)

    def story_provenance(self, story_id: int) -> list[dict]:
        return self._rows("story_provenance", story_id=story_id)

    def edges_of(self, article_id: int) -> list[dict]:
        """The article's verified story pairs, duplicates and closest first."""
        return self._rows("edges_of", id=article_id)

    def story_canonical_key(self, story_id: int) -> str | None:
        row = self._one("story_canonical_key", story_id=story_id)
        return row["item_key"] if row else None

    def keys_ending_with(self, tail: str) -> list[str]:
        """Item keys that end with ``tail`` (at most 20)."""
        return [r["item_key"] for r in self._rows("keys_ending_with", tail=tail)]

    def largest_story(self) -> dict | None:
        """item_key (its canonical), story_id, member_count of the largest live story."""
        return self._one("largest_story")
