"""Ingest's part of the store: payloads stored verbatim, received versions, articles and
their text, quarantine."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg.types.json import Jsonb

from pipeline.model import ArticleRecord, IngestWrites
from pipeline.store.session import Part

# The columns of ``article`` that ingest writes, as ArticleRecord names them; the rest keep
# their defaults. copy_article_stage lists them in this order, plus ``touch``.
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
RAW_ITEM_COLUMNS = (
    "id",
    "payload_id",
    "source",
    "item_key",
    "version",
    "version_created",
    "pub_status",
    "ed_stat",
    "content_sha256",
)


def _article_row(a: ArticleRecord) -> list:
    row = [getattr(a, c) for c in ARTICLE_COLUMNS]
    row[ARTICLE_COLUMNS.index("lineage")] = Jsonb(a.lineage or [])
    return row


class Ingest(Part):
    FILE = "ingest"

    # --- payloads ------------------------------------------------------------------------

    def store_payloads(self, source: str, arrivals: Sequence) -> dict[bytes, tuple[int, str]]:
        """Store payloads (objects with sha256, origin, size and body, as
        ``pipeline.sources.collect.Arrival``); identical bytes are stored once. Returns
        sha256 -> (payload id, status) for every one of them."""
        if not arrivals:
            return {}
        self._exec("create_payload_stage")
        self._copy(
            "copy_payload_stage",
            (
                (a.sha256, source, a.origin, a.size, a.body, getattr(a, "origin_bytes", None))
                for a in arrivals
            ),
        )
        self._exec("insert_staged_payloads")
        got = self._rows("payload_states", shas=[a.sha256 for a in arrivals])
        return {bytes(r["sha256"]): (r["id"], r["status"]) for r in got}

    def quarantine_unreadable(self, source: str, problems: Sequence[tuple]) -> None:
        """(arrival, reason) of files and folders that could not be read: each is stored as
        an empty payload of format ``path``, quarantined with its reason."""
        if not problems:
            return
        states = self.store_payloads(source, [a for a, _ in problems])
        ids = [states[a.sha256][0] for a, _ in problems]
        self._run(
            "mark_payloads",
            ids=ids,
            statuses=["quarantined"] * len(ids),
            formats=["path"] * len(ids),
            counts=[0] * len(ids),
        )
        self._run(
            "quarantine_many",
            payload_ids=ids,
            item_keys=[None] * len(ids),
            reasons=[reason for _, reason in problems],
        )

    def new_payload_ids(self, source: str | None = None) -> list[int]:
        """Payloads stored but not parsed yet (a crash between storing and parsing, or a
        requeue), of one source or of all."""
        return [r["id"] for r in self._rows("new_payload_ids", source=source)]

    def payloads_to_parse(self, ids: list[int]) -> list[dict]:
        """id, source, origin, size and body of those of ``ids`` still waiting to be parsed."""
        return self._rows("payloads_to_parse", ids=ids)

    def requeue(
        self, payload_id: int | None, resolution: str
    ) -> tuple[list[int], list[int], list[int]]:
        """Resolve the open quarantine entries (all, or one payload's) with ``resolution``;
        put the payloads of parse entries back in the parse queue and the articles of dedup
        stage entries back in the pending queue. Returns (those payloads, the payloads of
        unreadable paths, to be read again from disk, those articles)."""
        got = self._rows("requeue_payloads", payload_id=payload_id, resolution=resolution)
        return (
            [r["id"] for r in got if r["what"] == "payload"],
            [r["id"] for r in got if r["what"] == "path"],
            [r["id"] for r in got if r["what"] == "article"],
        )

    def path_payloads(self, ids: list[int]) -> list[dict]:
        """id, source, origin and origin_bytes (None for a UTF-8 name) of these payloads."""
        return self._rows("path_payloads", ids=ids)

    def open_quarantine(self, limit: int, offset: int = 0) -> list[dict]:
        return self._rows("open_quarantine", limit=limit, offset=offset)

    def count_open_quarantine(self) -> int:
        return self._one("count_open_quarantine")["n"]

    # --- articles ------------------------------------------------------------------------

    def articles_by_keys(self, keys: list[str]) -> dict[str, ArticleRecord]:
        return {
            r["item_key"]: ArticleRecord(**r) for r in self._rows("articles_by_keys", keys=keys)
        }

    def article_ids(self, keys: list[str]) -> dict[str, int]:
        return {r["item_key"]: r["id"] for r in self._rows("article_ids_for_keys", keys=keys)}

    def known_versions(self, keys: list[str]) -> dict[tuple[str, str], set[bytes]]:
        """(item key, version) -> the content hashes received under it."""
        out: dict[tuple[str, str], set[bytes]] = {}
        for r in self._rows("known_versions", keys=keys):
            out.setdefault((r["item_key"], r["version"]), set()).add(bytes(r["content_sha256"]))
        return out

    def new_ids(self, raw_items: int, articles: int) -> tuple[list[int], list[int]]:
        """Ids for that many raw items and new articles, allocated before the rows are
        written so they can reference each other (descending: callers pop())."""
        return (
            self.session.allocate_ids("raw_item", raw_items),
            self.session.allocate_ids("article", articles),
        )

    def write(self, w: IngestWrites) -> None:
        """Write one ingest chunk set-based: quarantine entries, raw items, articles, their
        text and the payloads' outcomes."""
        if w.quarantined:
            self._run(
                "quarantine_many",
                payload_ids=[q.payload_id for q in w.quarantined],
                item_keys=[q.item_key for q in w.quarantined],
                reasons=[q.reason for q in w.quarantined],
            )
        if w.raw_items:
            self._exec("create_raw_item_stage")
            self._copy(
                "copy_raw_item_stage",
                ([getattr(r, c) for c in RAW_ITEM_COLUMNS] for r in w.raw_items),
            )
            self._exec("insert_staged_raw_items")
            self.session.note_written("raw_item", len(w.raw_items))
        if w.new_articles or w.changed_articles:
            self._exec("create_article_stage")
            self._copy("copy_article_stage", ((*_article_row(a), None) for a in w.new_articles))
            self._copy(
                "copy_article_stage",
                ((*_article_row(a), touch) for a, touch in w.changed_articles),
            )
            if w.new_articles:
                self._exec("insert_staged_articles")
                self.session.note_written("article", len(w.new_articles))
            if w.changed_articles:
                self._exec("update_staged_articles")
        ids = sorted(w.texts)
        if w.replaced_text_of:
            self._run("delete_text_of", ids=list(w.replaced_text_of))
            self._run("delete_captions_of", ids=list(w.replaced_text_of))
        paragraphs = [(aid, *p) for aid in ids for p in w.texts[aid][0]]
        if paragraphs:
            self._copy("copy_paragraphs", paragraphs)
        captions = [(aid, *c) for aid in ids for c in w.texts[aid][1]]
        if captions:
            self._copy("copy_captions", captions)
        if w.payloads:
            self._run(
                "mark_payloads",
                ids=[p.payload_id for p in w.payloads],
                statuses=[p.status for p in w.payloads],
                formats=[p.format for p in w.payloads],
                counts=[p.item_count for p in w.payloads],
            )
