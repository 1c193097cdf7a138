"""Stories' part of the store: what cluster_merge reads of the stories a batch touches,
the layout it stages, and publishing that layout (stories, members, provenance, caption
groups) set-based in the caller's transaction."""

from __future__ import annotations

import json
from datetime import datetime

from psycopg.types.json import Jsonb

from pipeline.model import CaptionGroup, Credit, Layout, Membership, Provenance, Story
from pipeline.store.session import Part


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)


class Stories(Part):
    FILE = "stories"

    # --- the neighbourhood of a batch ----------------------------------------------------

    def stories_of(self, article_ids: list[int]) -> list[tuple[int, int]]:
        """(article, story) of these articles' memberships (contributors aside)."""
        return [(r["article_id"], r["story_id"]) for r in self._rows("stories_of", ids=article_ids)]

    def members_of(self, story_ids: list[int]) -> set[int]:
        return {r["article_id"] for r in self._rows("members_of_stories", story_ids=story_ids)}

    def canonicals_of(self, story_ids: list[int]) -> dict[int, int | None]:
        rows = self._rows("canonicals_of", story_ids=story_ids)
        return {r["id"]: r["canonical_article_id"] for r in rows}

    def member_info(self, article_ids: list[int]) -> dict[int, dict]:
        """What canonical choice and crediting need of each article, by id."""
        return {r["id"]: r for r in self._rows("member_info", ids=article_ids)}

    def paragraphs_of(self, article_ids: list[int]) -> list[dict]:
        """Body paragraphs (article_id, ord, text, norm), in article and paragraph order."""
        return self._rows("paragraphs_of", ids=article_ids)

    def captions_of(self, article_ids: list[int]) -> list[dict]:
        return self._rows("captions_of", ids=article_ids)

    def batch_caption_ids(self, batch_id: int, withheld: frozenset[int] = frozenset()) -> list[int]:
        """The captions of the batch's articles, but those of ``withheld`` articles."""
        rows = self._rows("batch_caption_ids", batch_id=batch_id)
        return [r["id"] for r in rows if r["article_id"] not in withheld]

    def caption_groups_of(self, caption_ids: list[int]) -> dict[int, dict]:
        """caption id -> {id, group_id, body}."""
        return {r["id"]: r for r in self._rows("caption_groups_of", ids=caption_ids)}

    def captions_in_groups(self, group_ids: list[int]) -> dict[int, dict]:
        return {r["id"]: r for r in self._rows("captions_in_groups", group_ids=group_ids)}

    # --- the staged layout ---------------------------------------------------------------
    # Stored as one staged_story row per story, keyed by its id, a new story by -(its index
    # + 1), plus the absorbed stories and caption groups under key 0. Rows are read back in
    # key order, the order publish gives new stories their ids in.

    def clear_staged(self, batch_id: int) -> None:
        self._run("delete_staged", batch_id=batch_id)

    def stage(self, batch_id: int, layout: Layout) -> None:
        keys = [
            st.story_id if st.story_id is not None else -(i + 1)
            for i, st in enumerate(layout.stories)
        ]
        meta = {
            "absorbed": {str(old): keys[i] for old, i in layout.absorbed},
            "caption_groups": [
                [g.group_id, g.label, list(g.caption_ids)] for g in layout.caption_groups
            ],
        }
        rows = [*zip(keys, map(_story_json, layout.stories), strict=True), (0, meta)]
        self._copy("copy_staged", ((batch_id, k, Jsonb(p, dumps=dumps)) for k, p in rows))

    def staged(self, batch_id: int) -> Layout:
        rows = [(r["story_id"], r["payload"]) for r in self._rows("staged", batch_id=batch_id)]
        meta = next((p for k, p in rows if k == 0), {"absorbed": {}, "caption_groups": []})
        stories = [(k, p) for k, p in rows if k != 0]
        index = {k: i for i, (k, _) in enumerate(stories)}
        return Layout(
            stories=tuple(_story(k, p) for k, p in stories),
            absorbed=tuple((int(old), index[into]) for old, into in meta["absorbed"].items()),
            caption_groups=tuple(
                CaptionGroup(group_id, label, tuple(ids))
                for group_id, label, ids in meta["caption_groups"]
            ),
        )

    # --- publishing ----------------------------------------------------------------------

    def publish(self, batch_id: int, layout: Layout) -> tuple[int, int, int]:
        """Write the layout: stories (new ones get their ids here, in layout order),
        members and the articles each story credits, provenance, absorbed stories, caption
        groups. Returns (stories created, stories updated, member rows)."""
        stories = layout.stories
        self._exec("lock_story_ids")
        n_new = sum(st.story_id is None for st in stories)
        fresh = iter([r["id"] for r in self._rows("next_story_ids", n=n_new)] if n_new else [])
        ids = [st.story_id if st.story_id is not None else next(fresh) for st in stories]
        created, updated = self._write_stories(
            [
                (
                    sid,
                    st.story_id is None,
                    st.canonical,
                    st.headline,
                    len(st.members),
                    list(st.sources),
                    st.has_kill,
                    st.first_published,
                    batch_id,
                )
                for sid, st in zip(ids, stories, strict=True)
            ]
        )
        self._run(
            "delete_members_of_articles",
            ids=sorted({m.article_id for st in stories for m in st.members}),
        )
        self._run("delete_members_of_stories", story_ids=sorted(ids))
        self._run("delete_provenance", story_ids=sorted(ids))
        members, provenance = [], []
        for sid, st in zip(ids, stories, strict=True):
            members += [(sid, m.article_id, m.role, m.similarity, m.reason) for m in st.members]
            own = {m.article_id for m in st.members}
            # a credit is kept as a member row of its own role
            members += [
                (sid, c.article_id, "contributor", 0.0, f"{c.reason} (via article {c.via})")
                for c in st.contributors
                if c.article_id not in own
            ]
            provenance += [
                (sid, p.kind, p.ord, p.text, p.article_id, p.source_ord, p.in_canonical)
                for p in st.provenance
            ]
        self._write_members(members)
        if provenance:
            self._copy("copy_provenance", provenance)
        for old, i in layout.absorbed:
            self._run("absorb_story", id=old, into=ids[i])
        self._write_caption_groups(layout.caption_groups)
        return created, updated, len(members)

    def _write_stories(self, rows: list[tuple]) -> tuple[int, int]:
        """(id, is_new, canonical, headline, member_count, sources, has_kill,
        first_published, batch_id) rows: new ones inserted, existing ones updated when
        something changed. Returns (created, updated)."""
        if not rows:
            return 0, 0
        self._exec("create_story_stage")
        self._copy("copy_story_stage", rows)
        created = self._run("insert_staged_stories")
        self.session.note_written("story", created)
        updated = self._run("update_staged_stories")
        return created, updated

    def _write_members(self, rows: list[tuple]) -> None:
        """(story_id, article_id, role, similarity, reason) rows; a repeated pair keeps
        its last row."""
        if not rows:
            return
        self._exec("create_member_stage")
        self._copy("copy_member_stage", ((i, *r) for i, r in enumerate(rows)))
        self._exec("insert_staged_members")
        self.session.note_written("story_member", len(rows))

    def _write_caption_groups(self, groups: tuple[CaptionGroup, ...]) -> None:
        new = [g for g in groups if g.group_id is None]
        # ids after the largest, under publish's lock_story_ids
        fresh = iter(
            [r["id"] for r in self._rows("next_caption_group_ids", n=len(new))] if new else []
        )
        gids = [g.group_id if g.group_id is not None else next(fresh) for g in groups]
        if new:
            self._run(
                "insert_caption_groups",
                ids=[gid for gid, g in zip(gids, groups, strict=True) if g.group_id is None],
                labels=[g.label for g in new],
            )
        if groups:
            self._run(
                "set_caption_group",
                ids=[c for g in groups for c in g.caption_ids],
                group_ids=[gid for gid, g in zip(gids, groups, strict=True) for _ in g.caption_ids],
            )


def _story_json(st: Story) -> dict:
    # memberships, credits and provenance are NamedTuples: JSON arrays of their fields
    return {
        "canonical": st.canonical,
        "headline": st.headline,
        "members": st.members,
        "contributors": st.contributors,
        "sources": st.sources,
        "has_kill": st.has_kill,
        "first_published": st.first_published,
        "provenance": st.provenance,
    }


def _story(key: int, p: dict) -> Story:
    first = p["first_published"]
    return Story(
        story_id=key if key > 0 else None,
        canonical=p["canonical"],
        headline=p["headline"],
        members=tuple(map(Membership._make, p["members"])),
        contributors=tuple(map(Credit._make, p["contributors"])),
        provenance=tuple(map(Provenance._make, p["provenance"])),
        sources=tuple(p["sources"]),
        has_kill=p["has_kill"],
        first_published=datetime.fromisoformat(first) if first else None,
    )
