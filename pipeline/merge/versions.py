"""The version and kill rules of ingest: which version of an item its article shows.

``IngestPlan`` decides, item by item in arrival order, what one ingest chunk writes:
new versions, kills that arrive first, older versions, conflicts. It works on an in-memory
copy of the affected ``article`` rows, so the chunk is then written set-based.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.model import WITHHELD as WITHHELD_STATUS
from pipeline.sources import prepare
from pipeline.text.normalize import split_headline_tags


def _order_key(version_created: datetime | None, version: str) -> tuple:
    # versionCreated orders versions; opaque integer versions only break ties
    vc = version_created.timestamp() if version_created else float("-inf")
    return (vc, int(version) if version.isdigit() else 0)


# Columns of ``article`` that ingest writes; the rest keep their defaults.
ARTICLE_COLUMNS = (
    "id",
    "item_key",
    "source",
    "raw_item_id",
    "format",
    "version",
    "version_created",
    "first_created",
    "published_at",
    "pub_status",
    "ed_stat",
    "killed",
    "headline",
    "headline_tag",
    "story_text",
    "word_count",
    "attributions",
    "read_more",
    "lineage",
    "content_sha256",
    "version_count",
    "pending",
    "origin_ed_stat",
    "origin_tag",
    "origin_version_created",
)


def _least(a, b):
    # PostgreSQL's LEAST ignores NULLs
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class IngestPlan:
    """The writes of one ingest chunk, decided item by item in arrival order.

    This is the row-at-a-time logic the pipeline always had (versions, kills that arrive
    first, older versions, conflicts), run against an in-memory copy of the affected
    ``article`` rows so that the chunk is then written with a few set-based statements
    instead of several round trips per item."""

    def __init__(self, articles: dict[str, dict], known: dict[tuple[str, str], set[bytes]]):
        self.articles = articles  # item_key -> full article row (existing or planned)
        self.existing = set(articles)  # keys whose row is already in the database
        self.known = known
        self.key_shas: dict[str, set[bytes]] = {}
        for (key, _v), shas in known.items():
            self.key_shas.setdefault(key, set()).update(shas)
        self.changed: set[str] = set()  # keys whose row changed
        self.touched: set[str] = set()  # ... and whose updated_at must move
        self.raw_rows: list[tuple] = []
        self.texts: dict[int, tuple[list, list]] = {}
        self.quarantines: list[tuple[int, str | None, str]] = []
        self.marks: list[tuple[int, str, str, int]] = []
        self.raw_ids: list[int] = []
        self.article_ids: list[int] = []

    def quarantine(self, payload_id: int, key: str | None, reason: str) -> None:
        self.quarantines.append((payload_id, key, " ".join(reason.split())[:500]))

    def _bump_versions(self, row: dict) -> None:
        row["version_count"] = row["version_count"] + 1
        self.changed.add(row["item_key"])

    def apply(self, payload_id: int, pi: prepare.PreparedItem) -> str:
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
        self.raw_rows.append(
            (
                raw_id,
                payload_id,
                item.source,
                key,
                item.version,
                item.version_created,
                item.pub_status,
                item.ed_stat,
                sha,
            )
        )
        self.known.setdefault((key, item.version), set()).add(sha)
        self.key_shas.setdefault(key, set()).add(sha)
        cur = self.articles.get(key)
        older = cur is not None and (
            _order_key(item.version_created, item.version)
            < _order_key(cur["version_created"], cur["version"])
        )
        # An older version changes nothing, except when a kill arrived before any text: the
        # older usable version then supplies the text (the item still has to be placed in
        # its story) while the kill stays in force.
        fills_kill = older and cur["killed"] and not cur.get("word_count") and not item.killed
        if older and not fills_kill:
            # it changes no text, but it may be the item's earliest version, which tells
            # how the item began (as ingest.sql's older_version_seen)
            vc = item.version_created
            origin = cur["origin_version_created"]
            if vc is not None and origin is not None and vc < origin:
                cur["origin_ed_stat"] = item.ed_stat
                cur["origin_tag"] = split_headline_tags(item.headline)[0]
            cur["origin_version_created"] = _least(cur["origin_version_created"], vc)
            self._bump_versions(cur)
            return "older"
        if item.pub_status == WITHHELD_STATUS and cur is not None and not pi.has_text:
            # withheld without text: the status changes, the last usable text stays (as
            # collect.sql's set_article_status)
            cur.update(
                pub_status=item.pub_status,
                ed_stat=item.ed_stat,
                killed=False,
                raw_item_id=raw_id,
                version=item.version,
                version_created=item.version_created,
                pending=True,
            )
            self._bump_versions(cur)
            self.touched.add(key)
            return "updated"
        if item.killed and cur is not None:
            cur.update(
                killed=True,
                pub_status=item.pub_status,
                ed_stat=item.ed_stat,
                raw_item_id=raw_id,
                version=item.version,
                version_created=item.version_created,
                pending=True,
            )
            self._bump_versions(cur)
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
            cur.update(
                text_fields,
                first_created=_least(cur["first_created"], item.first_created),
                published_at=_least(cur["published_at"], published),
                pending=True,
            )
            self._bump_versions(cur)
            aid = cur["id"]
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
                self.articles[key] = dict(
                    version_fields,
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
                aid = cur["id"]
                cur.update(
                    version_fields,
                    first_created=_least(cur["first_created"], item.first_created),
                    published_at=_least(cur["published_at"], published),
                )
                self._bump_versions(cur)
        self.touched.add(key)
        self.texts[aid] = (
            [(aid, *p) for p in pi.paragraphs],
            [(aid, *cp) for cp in pi.captions],
        )
        if fills_kill:
            return "updated"
        if item.killed:
            return "killed"
        return "new" if cur is None else "updated"

    def article_rows(self) -> tuple[list[tuple], list[tuple]]:
        """(new rows, changed existing rows) as tuples in ARTICLE_COLUMNS order; a changed
        row carries one more value: whether its updated_at moves."""
        new, changed = [], []
        for key, row in self.articles.items():
            values = tuple(row[c] for c in ARTICLE_COLUMNS)
            if key not in self.existing:
                new.append(values)
            elif key in self.changed or key in self.touched:
                changed.append((*values, key in self.touched))
        return new, changed
