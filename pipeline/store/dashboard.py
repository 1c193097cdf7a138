"""What the operator dashboard's pages read. Every read is bounded (a time window, a keyset
page, one story's ids), so a page costs the same with a thousand articles or a million."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from psycopg import sql

from pipeline.store.session import Part

# the story list's two orders, by the column its keyset runs on (see story_page)
STORY_ORDERS = {"updated": "updated_at", "published": "first_published"}


@cache
def story_page_sql(template: str, order: str, newer: bool) -> sql.Composed:
    """story_page for one order and direction: the column is an identifier from
    STORY_ORDERS, the comparison and direction one of two fixed pairs."""
    return sql.SQL(template).format(
        key=sql.Identifier(STORY_ORDERS[order]),
        after=sql.SQL(">" if newer else "<"),
        direction=sql.SQL("ASC" if newer else "DESC"),
    )


class Dashboard(Part):
    FILE = "dashboard"

    def start_session(self) -> None:
        """Plan the page queries, whose filters are optional, with the values at hand."""
        self._exec("session")

    # --- overview ------------------------------------------------------------------------

    def last_runs(self) -> list[dict]:
        """The latest run of every stage, with the statuses and durations of its last 12."""
        return self._rows("last_runs")

    def window_ends(self) -> dict:
        """last_published, last_quarantined."""
        return self._one("window_ends")

    def published_per_day(self, since: datetime, until: datetime) -> list[dict]:
        """day, source, n: articles by the UTC day they were published."""
        return self._rows("published_per_day", since=since, until=until)

    def stories_per_day(self, since: datetime, until: datetime) -> list[dict]:
        return self._rows("stories_per_day", since=since, until=until)

    def quarantine_per_day(self, since: datetime, until: datetime) -> list[dict]:
        return self._rows("quarantine_per_day", since=since, until=until)

    def caption_reuse(self, since: datetime, until: datetime) -> dict:
        """groups: photos printed more than once; across_stories: by more than one story."""
        return self._one("caption_reuse_window", since=since, until=until)

    def table_estimates(self) -> dict[str, int]:
        return {r["t"]: r["n"] for r in self._rows("table_estimates")}

    # --- stories -------------------------------------------------------------------------

    def sources(self) -> list[str]:
        return [r["source"] for r in self._rows("sources")]

    def story_page(
        self,
        filters: dict,
        order: str,
        cursor: tuple[datetime, int] | None,
        newer: bool,
        limit: int,
    ) -> list[dict]:
        """Live stories matching ``filters``, in ``order`` (a key of STORY_ORDERS), newest
        first after ``cursor``; with ``newer``, the page before it, oldest first."""
        ts, sid = cursor if cursor else (None, None)
        query = story_page_sql(self.q.story_page, order, newer)
        params = {**filters, "cursor_ts": ts, "cursor_id": sid, "limit": limit}
        return self.conn.execute(query, params).fetchall()

    def members_per_source(self, story_ids: list[int]) -> list[dict]:
        return self._rows("members_per_source", story_ids=story_ids)

    def story_of_article_key(self, item_key: str) -> int | None:
        row = self._one("story_of_article_key", key=item_key)
        return row["story_id"] if row else None

    # --- one story -----------------------------------------------------------------------

    def story(self, story_id: int) -> dict | None:
        return self._one("story", id=story_id)

    def story_members(self, story_id: int) -> list[dict]:
        """Members and contributors, canonical first, then versions, duplicates, others."""
        return self._rows("story_members", story_id=story_id)

    def versions(self, item_keys: list[str]) -> list[dict]:
        return self._rows("versions", keys=item_keys)

    def edges_touching(self, article_ids: list[int], limit: int) -> list[dict]:
        return self._rows("edges_touching", ids=article_ids, limit=limit)

    def articles_brief(self, article_ids: list[int]) -> dict[int, dict]:
        return {r["id"]: r for r in self._rows("articles_brief", ids=article_ids)}

    def provenance(self, story_id: int) -> list[dict]:
        return self._rows("provenance", story_id=story_id)

    def caption_group_reach(self, group_ids: list[int]) -> dict[int, dict]:
        return {r["group_id"]: r for r in self._rows("caption_group_reach", group_ids=group_ids)}

    def story_history(self, story_id: int) -> list[dict]:
        return self._rows("story_history", story_id=story_id)

    def article_text(self, article_ids: list[int]) -> list[dict]:
        return self._rows("article_text", ids=article_ids)

    def article_captions(self, article_ids: list[int]) -> list[dict]:
        return self._rows("article_captions", ids=article_ids)

    # --- repeated captions ---------------------------------------------------------------

    def caption_groups(
        self, since: datetime, until: datetime, min_stories: int, limit: int, offset: int
    ) -> list[dict]:
        return self._rows(
            "caption_groups",
            since=since,
            until=until,
            min_stories=min_stories,
            limit=limit,
            offset=offset,
        )

    def caption_group_stories(self, group_ids: list[int]) -> list[dict]:
        return self._rows("caption_group_stories", group_ids=group_ids)

    def caption_group(self, group_id: int) -> dict | None:
        return self._one("caption_group", id=group_id)

    def caption_group_captions(self, group_id: int) -> list[dict]:
        return self._rows("caption_group_captions", group_id=group_id)

    # --- quarantine ----------------------------------------------------------------------

    def quarantine_page(self, source: str | None, before_id: int | None, limit: int) -> list[dict]:
        return self._rows("quarantine_page", source=source, before_id=before_id, limit=limit)

    def quarantine_resolved(self, limit: int) -> list[dict]:
        return self._rows("quarantine_resolved", limit=limit)
