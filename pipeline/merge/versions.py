"""The version and kill rules of ingest: which version of an item its article shows.

``IngestPlan`` decides, item by item in arrival order, what one ingest chunk writes: a new
version replaces the text; an older version changes nothing but may tell how the item
began; a kill keeps the last usable text but the item can no longer be canonical, and a
kill that arrives before any text is filled in by the older usable version when it comes;
a withheld version without text changes the status only; the same content under another
version label is one version; the same version label with different content is a
conflict, quarantined. It works on an in-memory copy of the affected articles, so the
chunk is then written set-based (``IngestPlan.writes``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal

from pipeline.model import (
    WITHHELD,
    ArticleRecord,
    IngestWrites,
    PayloadResult,
    Quarantined,
    RawItem,
)
from pipeline.sources.prepare import PreparedItem, PreparedPayload
from pipeline.text.normalize import split_headline_tags

Outcome = Literal["new", "updated", "killed", "older", "repeat", "conflict"]


def _order_key(version_created: datetime | None, version: str) -> tuple:
    # versionCreated orders versions; opaque integer versions only break ties
    vc = version_created.timestamp() if version_created else float("-inf")
    return (vc, int(version) if version.isdigit() else 0)


def _least(a, b):
    # as PostgreSQL's LEAST: NULLs are ignored
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class IngestPlan:
    """The writes of one ingest chunk, decided item by item in arrival order.

    ``articles``: the stored articles of the chunk's item keys; ``known``: (item key,
    version) -> content hashes received before; ``raw_ids`` and ``article_ids``: ids
    allocated for the chunk's raw items and new articles (taken with pop())."""

    def __init__(
        self,
        articles: dict[str, ArticleRecord],
        known: dict[tuple[str, str], set[bytes]],
        raw_ids: list[int],
        article_ids: list[int],
    ):
        self.articles = dict(articles)  # item_key -> article (stored or planned)
        self.existing = set(articles)  # keys whose article is already stored
        self.known = known
        self.key_shas: dict[str, set[bytes]] = {}
        for (key, _v), shas in known.items():
            self.key_shas.setdefault(key, set()).update(shas)
        self.raw_ids = raw_ids
        self.article_ids = article_ids
        self.changed: set[str] = set()  # keys whose article changed
        self.touched: set[str] = set()  # ... and whose updated_at must move
        self.raw_items: list[RawItem] = []
        self.texts: dict[int, tuple[tuple, tuple]] = {}
        self.quarantined: list[Quarantined] = []
        self.payloads: list[PayloadResult] = []

    def quarantine(self, payload_id: int, key: str | None, reason: str) -> None:
        self.quarantined.append(Quarantined(payload_id, key, " ".join(reason.split())[:500]))

    def apply_payload(self, pp: PreparedPayload) -> list[Outcome]:
        """Apply one parsed payload: its problems are quarantined, its items applied in
        order. The payload counts as parsed unless nothing in it could be used (a conflict
        counts as unusable); package links alone make it parsed."""
        for problem in pp.problems:
            self.quarantine(pp.payload_id, problem.item_key, problem.reason)
        outcomes = [self.apply(pp.payload_id, pi) for pi in pp.items]
        applied = sum(o != "conflict" for o in outcomes)
        refused = bool(pp.problems) or applied < len(pp.items)
        status = "parsed" if applied or pp.link_versions or not refused else "quarantined"
        self.payloads.append(PayloadResult(pp.payload_id, status, pp.format, len(pp.items)))
        return outcomes

    def _update(self, cur: ArticleRecord, **fields) -> ArticleRecord:
        """``cur`` with ``fields`` changed and one more version counted."""
        new = replace(cur, version_count=cur.version_count + 1, **fields)
        self.articles[cur.item_key] = new
        self.changed.add(cur.item_key)
        return new

    def apply(self, payload_id: int, pi: PreparedItem) -> Outcome:
        item = pi.item
        key = item.key
        sha = pi.sha
        same_version = self.known.get((key, item.version))
        if same_version is not None and sha in same_version:
            return "repeat"
        if item.version and same_version:
            self.quarantine(
                payload_id,
                key,
                f"conflicting content: {key} version {item.version} was already "
                "received with different text",
            )
            return "conflict"
        if sha in self.key_shas.get(key, ()):
            return "repeat"  # the same content under another version label: one version
        raw_id = self.raw_ids.pop()
        self.raw_items.append(
            RawItem(
                id=raw_id,
                payload_id=payload_id,
                source=item.source,
                item_key=key,
                version=item.version,
                version_created=item.version_created,
                pub_status=item.pub_status,
                ed_stat=item.ed_stat,
                content_sha256=sha,
            )
        )
        self.known.setdefault((key, item.version), set()).add(sha)
        self.key_shas.setdefault(key, set()).add(sha)
        cur = self.articles.get(key)
        older = cur is not None and (
            _order_key(item.version_created, item.version)
            < _order_key(cur.version_created, cur.version)
        )
        # An older version changes nothing, except when a kill arrived before any text: the
        # older usable version then supplies the text (the item still has to be placed in
        # its story) while the kill stays in force.
        fills_kill = older and cur.killed and not cur.word_count and not item.killed
        if older and not fills_kill:
            # it changes no text, but it may be the item's earliest version, which tells
            # how the item began
            vc = item.version_created
            origin = cur.origin_version_created
            began = {}
            if vc is not None and origin is not None and vc < origin:
                began = dict(
                    origin_ed_stat=item.ed_stat, origin_tag=split_headline_tags(item.headline)[0]
                )
            self._update(cur, **began, origin_version_created=_least(origin, vc))
            return "older"
        status = dict(
            pub_status=item.pub_status,
            ed_stat=item.ed_stat,
            raw_item_id=raw_id,
            version=item.version,
            version_created=item.version_created,
            pending=True,
        )
        if item.pub_status == WITHHELD and cur is not None and not pi.has_text:
            # withheld without text: the status changes, the last usable text stays
            self._update(cur, killed=False, **status)
            self.touched.add(key)
            return "updated"
        if item.killed and cur is not None:
            self._update(cur, killed=True, **status)
            self.touched.add(key)
            return "killed"
        art = pi.article
        published = item.first_created or item.version_created or datetime.now(UTC)
        text_fields = dict(
            headline=art.headline,
            headline_tag=art.headline_tag,
            story_text=art.story_text,
            word_count=len(art.story_text.split()),
            attributions=list(art.attributions),
            read_more=list(art.read_more),
        )
        if fills_kill:
            aid = self._update(
                cur,
                **text_fields,
                first_created=_least(cur.first_created, item.first_created),
                published_at=_least(cur.published_at, published),
                pending=True,
            ).id
        else:
            version_fields = dict(
                text_fields,
                raw_item_id=raw_id,
                format=item.format,
                version=item.version,
                version_created=item.version_created,
                pub_status=item.pub_status,
                ed_stat=item.ed_stat,
                killed=item.killed,
                lineage=[list(x) for x in art.lineage],
                content_sha256=sha,
                pending=True,
            )
            if cur is None:
                aid = self.article_ids.pop()
                self.articles[key] = ArticleRecord(
                    **version_fields,
                    id=aid,
                    item_key=key,
                    source=item.source,
                    first_created=item.first_created,
                    published_at=published,
                    version_count=1,
                    origin_ed_stat=item.ed_stat,
                    origin_tag=art.headline_tag,
                    origin_version_created=item.version_created,
                )
            else:
                aid = self._update(
                    cur,
                    **version_fields,
                    first_created=_least(cur.first_created, item.first_created),
                    published_at=_least(cur.published_at, published),
                ).id
        self.touched.add(key)
        self.texts[aid] = (pi.paragraphs, pi.captions)
        if fills_kill:
            return "updated"
        if item.killed:
            return "killed"
        return "new" if cur is None else "updated"

    def writes(self) -> IngestWrites:
        """What the chunk writes: new articles, changed ones (and whether their updated_at
        moves), their text, raw items, quarantine entries and the payloads' outcomes."""
        before = {self.articles[k].id for k in self.existing}
        return IngestWrites(
            raw_items=tuple(self.raw_items),
            new_articles=tuple(a for k, a in self.articles.items() if k not in self.existing),
            changed_articles=tuple(
                (a, k in self.touched)
                for k, a in self.articles.items()
                if k in self.existing and (k in self.changed or k in self.touched)
            ),
            texts=dict(self.texts),
            replaced_text_of=tuple(aid for aid in sorted(self.texts) if aid in before),
            quarantined=tuple(self.quarantined),
            payloads=tuple(self.payloads),
        )
