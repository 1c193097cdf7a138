"""One idempotent function per stage: (batch key, repository, config) -> Summary.

Stages and what each persists, so a failed stage re-runs alone:

``ingest``        payload (verbatim) -> raw_item -> article, paragraph, caption, quarantine;
                  the folder and feed cursors (seen_file, source_cursor) and package links
``open_batch``    batch, batch_article (the articles that changed since the last batch)
``sign``          signature, band (per shard of the batch)
``candidates``    candidate (one SQL join of the batch's bands against history)
``verify``        edge (per shard: scores, verdict, reason)
``cluster_merge`` staged_story (the new story layout of every affected story)
``publish``       story, story_member, provenance, caption groups: one transaction

Each stage deletes and rewrites its own output for its batch (or shard), so running it
twice leaves the same rows. Every stage is recorded in the ``run`` table with its counts
and duration, whether it succeeded or not.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import DedupConfig, SourceConfig
from pipeline.dedup import cluster as clustering
from pipeline.dedup.bands import band_hashes
from pipeline.dedup.minhash import Permutations, signatures
from pipeline.dedup.verify import Features, Meta, decide, features
from pipeline.errors import JobError
from pipeline.merge import story as stories
from pipeline.model import WITHHELD as WITHHELD_STATUS
from pipeline.sources import collect, prepare
from pipeline.sources.base import MAX_PAYLOAD_BYTES, Parsed
from pipeline.stages import packages, pool
from pipeline.store.repository import Repository
from pipeline.text.captions import token_jaccard
from pipeline.text.normalize import split_headline_tags

log = logging.getLogger("newsdedup")

Progress = Callable[[str, int, int], None]

INGEST_CHUNK = 1000  # files per ingest transaction
INGEST_CHUNK_BYTES = 8 << 20  # ... or this many payload bytes held at once
INGEST_COUNTS = ("files", "payloads_new", "items_new", "items_updated", "killed", "quarantined")
BATCH_LIMIT = 20000  # articles per dedup batch: memory is bounded by this, not by history
VERIFY_CHUNK = 2000
VERIFY_PARALLEL_MIN = 4000  # candidate pairs; fewer are decided in this process


@dataclass
class Summary:
    stage: str
    batch_key: str | None = None
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0


def _noop(stage: str, done: int, total: int) -> None:
    return None


@contextlib.contextmanager
def _stage(repo: Repository, stage: str, batch_key: str | None) -> Iterator[Summary]:
    summary = Summary(stage=stage, batch_key=batch_key)
    run_id = repo.start_run(stage, batch_key)
    t0 = time.perf_counter()
    try:
        yield summary
    except BaseException as e:
        summary.seconds = time.perf_counter() - t0
        with contextlib.suppress(Exception):
            repo.conn.rollback()
        repo.finish_run(
            run_id,
            "failed",
            summary.counts,
            summary.seconds,
            f"{type(e).__name__}: {e}".splitlines()[0][:500],
        )
        raise
    summary.seconds = time.perf_counter() - t0
    repo.finish_run(run_id, "ok", summary.counts, summary.seconds)
    log.info("%s %s: %s in %.2fs", stage, batch_key or "", summary.counts, summary.seconds)


def _bump(counts: dict, key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


# ------------------------------------------------------------------------------------------
# ingest
# ------------------------------------------------------------------------------------------


def list_files(folder: Path) -> list[Path]:
    """Every regular, non-hidden file under a folder, in a stable order."""
    return collect.list_files(folder)


def _order_key(version_created: datetime | None, version: str) -> tuple:
    # versionCreated orders versions; opaque integer versions only break ties
    vc = version_created.timestamp() if version_created else float("-inf")
    return (vc, int(version) if version.isdigit() else 0)


def ingest_files(
    repo: Repository,
    source: str,
    files: Sequence[Path],
    progress: Progress = _noop,
    key: str | None = None,
) -> Summary:
    """Store every new or changed file verbatim, parse new payloads, apply their items.
    Files already taken (same path, size and mtime) are not read again. Idempotent.

    ``key`` labels the run in the ``run`` table (a scheduler passes its data interval)."""
    with _stage(repo, f"ingest:{source}", key) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        _ingest_paths(repo, source, list(files), s.counts, progress)
        _parse_leftovers(repo, source, s.counts)
        repo.analyze_written()
        return s


def ingest_payloads(
    repo: Repository, source: str, payloads: Sequence[tuple[str, bytes]]
) -> Summary:
    """Store and parse payloads that arrived some other way (a message queue, an API
    client, the fuzz test): (origin, bytes) pairs, stored verbatim like files. Idempotent."""
    with _stage(repo, f"ingest:{source}", None) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        group: list[tuple[collect.Arrival, tuple | None]] = []
        held = 0
        ahead = _ParseAhead(repo, s.counts)
        for origin, body in payloads:
            if len(body) > MAX_PAYLOAD_BYTES:  # keep the evidence, not the bulk
                a = collect.Arrival(
                    origin, body[: collect.HEAD_KEEP], len(body), hashlib.sha256(body).digest()
                )
            else:
                a = collect.Arrival.of(origin, body)
            group.append((a, None))
            held += len(a.body)
            if held >= INGEST_CHUNK_BYTES or len(group) >= INGEST_CHUNK:
                _store_and_parse(repo, source, group, s.counts, ahead)
                group, held = [], 0
        _store_and_parse(repo, source, group, s.counts, ahead)
        ahead.drain()
        _parse_leftovers(repo, source, s.counts)
        return s


def _parse_leftovers(repo: Repository, source: str, c: dict) -> None:
    """Parse this source's payloads stored but never parsed: a run that died between
    storing and parsing left them, and their files are now marked taken, so they would
    otherwise wait for ``requeue``."""
    ids = [r["id"] for r in repo.rows("new_payload_ids", source=source)]
    if ids:
        _bump(c, "leftovers", len(ids))
        for start in range(0, len(ids), INGEST_CHUNK):
            _parse_and_apply(repo, repo.payloads_to_parse(ids[start : start + INGEST_CHUNK]), c)


def ingest_urls(repo: Repository, source: SourceConfig | str, urls: Sequence[str] = ()) -> Summary:
    """Poll feed URLs (a source's configured ones, plus ``urls``) with conditional
    requests; store and parse what is new. Idempotent: an unchanged feed stores nothing."""
    src = source if isinstance(source, SourceConfig) else SourceConfig(name=source)
    with _stage(repo, f"ingest:{src.name}", None) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        _ingest_urls(repo, src, [*src.urls, *urls], s.counts)
        _parse_leftovers(repo, src.name, s.counts)
        return s


def ingest_source(
    repo: Repository,
    source: SourceConfig,
    paths: Sequence[Path] = (),
    urls: Sequence[str] = (),
    progress: Progress = _noop,
    key: str | None = None,
) -> Summary:
    """Everything one source has: its configured folders and feed URLs, plus ``paths``
    (files or folders) and ``urls`` given on the command line. One ``ingest:NAME`` stage,
    labelled ``key`` in the run table when a scheduler passes its data interval."""
    with _stage(repo, f"ingest:{source.name}", key) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        files: list[Path] = []
        for raw in [*source.folders, *paths]:
            p = Path(raw).expanduser()
            if not p.exists():
                log.warning("%s: folder %s does not exist", source.name, p)
            files.extend(list_files(p) if p.is_dir() else [p] if p.is_file() else [])
        _ingest_paths(repo, source.name, files, s.counts, progress)
        _ingest_urls(repo, source, [*source.urls, *urls], s.counts)
        _parse_leftovers(repo, source.name, s.counts)
        repo.analyze_written()
        return s


def _ingest_paths(
    repo: Repository, source: str, files: list[Path], c: dict, progress: Progress
) -> None:
    ahead = _ParseAhead(repo, c)
    for start in range(0, len(files), INGEST_CHUNK):
        chunk = files[start : start + INGEST_CHUNK]
        seen = repo.seen_files(source, [str(f) for f in chunk])
        todo, unchanged, errors = collect.changed_files(seen, chunk)
        _bump(c, "unchanged", unchanged)
        for f, why in errors:
            _bump(c, "unreadable")
            log.error("cannot read %s: %s", f, why)
        group: list[tuple[collect.Arrival, tuple]] = []
        held = 0
        for f, size, mtime_ns in todo:
            try:
                arrival = collect.read_file(f)
            except OSError as e:
                _bump(c, "unreadable")
                log.error("cannot read %s: %s", f, e.strerror or e)
                continue
            group.append((arrival, (str(f), size, mtime_ns, arrival.sha256)))
            held += len(arrival.body)
            if held >= INGEST_CHUNK_BYTES:
                _store_and_parse(repo, source, group, c, ahead)
                group, held = [], 0
        _store_and_parse(repo, source, group, c, ahead)
        progress(f"ingest {source}", min(start + INGEST_CHUNK, len(files)), len(files))
    ahead.drain()


def _ingest_urls(repo: Repository, src: SourceConfig, urls: Sequence[str], c: dict) -> None:
    ahead = _ParseAhead(repo, c)
    for url in dict.fromkeys(urls):  # each URL once, in order
        cur = repo.cursor(src.name, url) or {}
        try:
            f = collect.fetch(
                url,
                etag=cur.get("etag"),
                last_modified=cur.get("last_modified"),
                last_sha256=cur.get("last_sha256"),
                timeout=src.timeout_s,
                retries=src.retries,
                backoff=src.backoff_s,
            )
        except ValueError as e:  # a URL the collector will not fetch (no host, odd scheme)
            f = collect.Fetch(url, "failed", error=str(e))
        _bump(c, "fetched")
        if f.status == "failed":
            _bump(c, "fetch_failed")
            c.setdefault("fetch_errors", []).append(f"{url}: {f.error}"[:300])
            log.warning("cannot fetch %s after %d attempt(s): %s", url, f.attempts, f.error)
            with repo.transaction():
                repo.cursor_failed(src.name, url, str(f.http_status or "error"), f.error)
            continue
        cursor = dict(
            source=src.name,
            url=url,
            etag=f.etag,
            last_modified=f.last_modified,
            last_sha256=f.arrival.sha256 if f.arrival else cur.get("last_sha256"),
            last_status=str(f.http_status or ""),
        )
        if f.arrival is None:  # 304, or the same bytes as last time
            _bump(c, "not_modified")
            with repo.transaction():
                repo.save_cursor(**cursor)
            continue
        _store_and_parse(repo, src.name, [(f.arrival, None)], c, ahead, cursor)
    ahead.drain()


def _store_and_parse(
    repo: Repository,
    source: str,
    group: list[tuple[collect.Arrival, tuple | None]],
    c: dict,
    ahead: _ParseAhead,
    cursor: dict | None = None,
) -> None:
    """Store the payloads (and what marks them taken: seen files, the feed cursor) in one
    transaction, so nothing is marked taken that is not stored; then hand the new ones to
    ``ahead``, which writes them once the next group is stored (or drained)."""
    if not group:
        return
    rows = [(a.sha256, source, a.origin, a.size, a.body) for a, _ in group]
    with repo.transaction():
        states = repo.store_payloads(rows)
        repo.mark_seen(source, [seen for _, seen in group if seen is not None])
        if cursor is not None:
            repo.save_cursor(**cursor)
    c["files"] += len(rows)
    # the bytes are in hand: parse them instead of reading them back from the database
    todo: dict[int, dict] = {}
    for a, _ in group:
        st = states.get(a.sha256)
        if st is not None and st["status"] == "new" and st["id"] not in todo:
            todo[st["id"]] = {
                "id": st["id"],
                "body": a.body,
                "source": source,
                "origin": a.origin,
                "size": a.size,
            }
    c["payloads_new"] += len(todo)
    ahead.submit([todo[i] for i in sorted(todo)])


class _ParseAhead:
    """Applies parsed groups in arrival order, one behind: while the worker pool parses
    group N, this process decides and writes group N-1. Without it, on two cores the
    workers sit idle during every write and this process during every parse.

    A group whose parse is still pending when the job fails stays stored and unparsed;
    the next run's leftover pass parses it, so nothing is lost."""

    def __init__(self, repo: Repository, counts: dict):
        self.repo, self.counts = repo, counts
        self._pending: pool.Pending | None = None

    def submit(self, payloads: list[dict]) -> None:
        nxt = pool.submit(_parse_tasks(payloads)) if payloads else None
        self.drain()
        self._pending = nxt

    def drain(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            _apply_prepared(self.repo, pending.result(), self.counts)


def ingest_pending(
    repo: Repository, source: str | None = None, payload_ids: Sequence[int] | None = None
) -> Summary:
    """Parse payloads stored but never parsed (crash, or re-queued after a parser fix);
    ``payload_ids`` limits it to those payloads (the dashboard re-queues one at a time)."""
    with _stage(repo, "requeue", None) as s:
        if payload_ids is not None:
            ids = sorted(set(payload_ids))
        else:
            ids = [r["id"] for r in repo.rows("new_payload_ids", source=source)]
        s.counts.update(payloads=len(ids), items_new=0, items_updated=0, killed=0, quarantined=0)
        for start in range(0, len(ids), INGEST_CHUNK):
            _parse_and_apply(
                repo, repo.payloads_to_parse(ids[start : start + INGEST_CHUNK]), s.counts
            )
        return s


def requeue(repo: Repository, payload_id: int | None = None) -> tuple[int, Summary]:
    """Resolve the open quarantine entries (all, or one payload's) as 'requeued' and parse
    their payloads again, e.g. after a parser fix. What still fails is quarantined anew."""
    with repo.transaction():
        requeued = repo.rows("requeue_payloads", payload_id=payload_id)
    return len(requeued), ingest_pending(repo)


_OUTCOME_COUNT = {"new": "items_new", "updated": "items_updated", "killed": "killed"}


def _parse_and_apply(repo: Repository, payloads: list[dict], c: dict) -> None:
    """Parse and analyse payloads (in the worker pool when there are many), then decide
    every item in memory and write the chunk set-based in one transaction."""
    _apply_prepared(repo, pool.submit(_parse_tasks(payloads)).result(), c)


def _parse_tasks(payloads: list[dict]) -> list[tuple]:
    return [(p["id"], bytes(p["body"]), p["source"], p["origin"], p.get("size")) for p in payloads]


def _apply_prepared(repo: Repository, prepared: list[prepare.PreparedPayload], c: dict) -> None:
    keys = sorted({pi.item.key for pp in prepared for pi in pp.items})
    with repo.transaction():
        repo.bulk_settings()
        plan = IngestPlan(repo.articles_by_keys(keys), repo.known_versions(keys))
        n_items = sum(len(pp.items) for pp in prepared)
        plan.raw_ids = repo.allocate_ids("raw_item", n_items)
        plan.article_ids = repo.allocate_ids(
            "article", sum(1 for k in keys if k not in plan.articles)
        )
        with_links = []
        for pp in prepared:
            for problem in pp.problems:
                plan.quarantine(pp.payload_id, problem.item_key, problem.reason)
                _bump(c, "quarantined")
            applied = 0
            for pi in pp.items:
                outcome = plan.apply(pp.payload_id, pi)
                if outcome == "conflict":
                    _bump(c, "quarantined")
                else:
                    applied += 1
                    _bump(c, _OUTCOME_COUNT.get(outcome, "items_" + outcome))
            if pp.link_versions:
                with_links.append(pp)
            # quarantined: nothing in it could be used (a conflict counts as unusable)
            refused = bool(pp.problems) or applied < len(pp.items)
            status = "parsed" if applied or pp.link_versions or not refused else "quarantined"
            plan.marks.append((pp.payload_id, status, pp.format, len(pp.items)))
        repo.write_ingest(plan)
        linked: set[str] = set()
        for pp in with_links:  # package links are rare: their own statements, in order
            parsed = Parsed(format=pp.format, links=list(pp.links))
            parsed.link_versions.update(pp.link_versions)
            linked |= packages.apply_links(repo, pp.payload_id, parsed)
        # after the text was rewritten, as the captions of every touched article were
        packages.refresh_captions(repo, set(keys), linked)


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


# ------------------------------------------------------------------------------------------
# dedup stages
# ------------------------------------------------------------------------------------------


def _batch(repo: Repository, batch_key: str) -> dict:
    b = repo.one("batch_by_key", key=batch_key)
    if b is None:
        raise JobError(f"no batch with key {batch_key!r}")
    return b


def open_batch(
    repo: Repository, config: DedupConfig, key: str | None = None, limit: int = BATCH_LIMIT
) -> Summary:
    """Claim pending articles into a batch. An unfinished batch is resumed first, so a
    crashed run is completed before new work is taken."""
    with _stage(repo, "open_batch", key) as s:
        with repo.transaction():
            config_id = repo.config_id(config.fingerprint, config.to_json())
            existing = repo.one("open_batch_existing")
            if existing is not None:
                s.batch_key = existing["key"]
                s.counts.update(resumed=True, articles=_batch(repo, existing["key"])["articles"])
                return s
            if key is not None and repo.one("batch_by_key", key=key) is not None:
                s.batch_key = key  # this key was already processed: nothing to do
                s.counts.update(articles=0, already_done=True)
                return s
            new_key = key or (
                datetime.now(UTC).strftime("b%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
            )
            b = repo.one("create_batch", key=new_key, config_id=config_id)
            n = repo.run_sql("claim_pending", batch_id=b["id"], limit=limit)
            if n == 0:
                repo.run_sql("set_batch_state", id=b["id"], state="empty")
            s.batch_key = new_key
            s.counts.update(articles=n)
        return s


def sign_articles(
    repo: Repository, config_id: int, config: DedupConfig, rows: list[dict], paras: list[dict]
) -> int:
    """Signatures and LSH bands of articles (``rows``: id, story_text, published_at) and of
    their body paragraphs (``paras``: article_id, norm, published_at); returns how many
    paragraphs were long enough to index. Used by ``sign`` and by re-signing."""
    perms = Permutations(config.num_perm, config.seed)
    k = config.shingle_size
    if rows:
        ids = [r["id"] for r in rows]
        texts = [r["story_text"] for r in rows]
        published = [r["published_at"] for r in rows]
        counts = [len(t.split()) for t in texts]
        sig = signatures(texts, k, k, perms)
        repo.write_signatures(
            config_id,
            "story",
            ids,
            sig,
            counts,
            band_hashes(sig, config.bands, config.rows),
            published,
        )
        if config.lead_words:
            leads = [" ".join(t.split()[: config.lead_words]) for t in texts]
            lsig = signatures(leads, k, k, perms)
            repo.write_signatures(
                config_id,
                "lead",
                ids,
                lsig,
                [min(c, config.lead_words) for c in counts],
                band_hashes(lsig, config.lead_bands, config.lead_rows),
                published,
            )
    paras = [r for r in paras if len(r["norm"].split()) >= config.para_min_tokens]
    if paras:
        psig = signatures([r["norm"] for r in paras], k, k, perms)
        repo.write_bands(
            config_id,
            "para",
            [r["article_id"] for r in paras],
            band_hashes(psig, config.para_bands, config.para_rows),
            [r["published_at"] for r in paras],
        )
    return len(paras)


def sign_captions(repo: Repository, config_id: int, config: DedupConfig, caps: list[dict]) -> None:
    """Signatures and LSH bands of captions (``caps``: id, norm, published_at): word 1- and
    2-grams, because captions are short and one edited word should cost little."""
    if not caps:
        return
    norms = [r["norm"] for r in caps]
    sig = signatures(norms, 1, 2, Permutations(config.num_perm, config.seed))
    repo.write_signatures(
        config_id,
        "caption",
        [r["id"] for r in caps],
        sig,
        [len(t.split()) for t in norms],
        band_hashes(sig, config.caption_bands, config.caption_rows),
        [r["published_at"] for r in caps],
    )


def sign(
    repo: Repository, batch_key: str, config: DedupConfig, shard: int = 0, shards: int = 1
) -> Summary:
    """MinHash signatures and LSH band hashes for the batch's articles and captions."""
    b = _batch(repo, batch_key)
    with _stage(repo, "sign", batch_key) as s, repo.transaction():
        repo.bulk_settings()
        rows = repo.rows("batch_texts", batch_id=b["id"], shard=shard, shards=shards)
        paras = repo.rows("batch_paragraph_norms", batch_id=b["id"], shard=shard, shards=shards)
        n_paras = sign_articles(repo, b["config_id"], config, rows, paras)
        caps = repo.rows("batch_captions", batch_id=b["id"], shard=shard, shards=shards)
        sign_captions(repo, b["config_id"], config, caps)
        repo.analyze_written()
        s.counts.update(
            articles=len(rows),
            paragraphs=n_paras,
            captions=len(caps),
            shard=shard,
            shards=shards,
        )
        return s


def candidates(repo: Repository, batch_key: str, config: DedupConfig) -> Summary:
    """Candidate pairs: the batch's band hashes joined with history in the time window."""
    b = _batch(repo, batch_key)
    with _stage(repo, "candidates", batch_key) as s, repo.transaction():
        repo.bulk_settings()
        for out_kind in ("story", "caption"):
            repo.run_sql("delete_candidates", batch_id=b["id"], out_kind=out_kind)
        repo.fill_band_hits(b["id"], b["config_id"], config.window_days)
        for kind in ("story", "lead"):
            repo.run_sql(
                "insert_article_candidates",
                batch_id=b["id"],
                config_id=b["config_id"],
                kind=kind,
                window_days=config.window_days,
            )
        repo.run_sql(
            "insert_paragraph_candidates",
            batch_id=b["id"],
            config_id=b["config_id"],
            window_days=config.window_days,
            max_df=config.para_max_df,
        )
        repo.run_sql(
            "insert_caption_candidates",
            batch_id=b["id"],
            config_id=b["config_id"],
            window_days=config.window_days,
        )
        repo.analyze_written()
        got = {r["kind"]: r["n"] for r in repo.rows("count_candidates", batch_id=b["id"])}
        s.counts.update(story_pairs=got.get("story", 0), caption_pairs=got.get("caption", 0))
        return s


def load_features(repo: Repository, ids: Iterable[int], config: DedupConfig) -> dict[int, Features]:
    rows = repo.rows("body_paragraphs", ids=sorted(set(ids)))
    return {
        r["article_id"]: features(r["article_id"], list(r["norms"]), config, _meta(r)) for r in rows
    }


def decide_chunk(rows: list[dict], pairs: list[tuple[int, int]], config: DedupConfig) -> list:
    """Edges of one chunk of candidate pairs from the body_paragraphs rows of its articles
    (module-level: it runs in worker processes)."""
    feats = {
        r["article_id"]: features(r["article_id"], list(r["norms"]), config, _meta(r)) for r in rows
    }
    return [decide(feats[a], feats[b], config) for a, b in pairs if a in feats and b in feats]


def _meta(r: dict) -> Meta:
    return Meta(
        source=r["source"],
        item_id=r["item_key"].split(":", 1)[1],
        ed_stat=r["origin_ed_stat"],
        headline_tag=r["origin_tag"],
        lineage=frozenset(t for _, t in (r["lineage"] or [])),
    )


def verify(
    repo: Repository,
    batch_key: str,
    config: DedupConfig,
    shard: int = 0,
    shards: int = 1,
    progress: Progress = _noop,
) -> Summary:
    """Decide every candidate pair of this shard; store scores, verdict and reason."""
    b = _batch(repo, batch_key)
    with _stage(repo, "verify", batch_key) as s:
        c = s.counts
        c.update(
            pairs=0,
            duplicate=0,
            contributor=0,
            distinct=0,
            caption_pairs=0,
            caption_duplicate=0,
            shard=shard,
            shards=shards,
        )
        pairs = [
            (r["a"], r["b"])
            for r in repo.rows(
                "shard_candidates", batch_id=b["id"], kind="story", shard=shard, shards=shards
            )
        ]
        # features and decisions are pure and CPU-bound: big batches spread the chunks
        # over the worker processes while this one reads the next chunk's paragraphs and
        # writes the previous chunk's edges
        chunks = [pairs[i : i + VERIFY_CHUNK] for i in range(0, len(pairs), VERIFY_CHUNK)]

        def tasks():
            for chunk in chunks:
                ids = sorted({x for p in chunk for x in p})
                yield (repo.rows("body_paragraphs", ids=ids), chunk, config)

        done = 0
        parallel = len(pairs) >= VERIFY_PARALLEL_MIN
        for chunk, decided in zip(
            chunks,
            pool.run_tasks(decide_chunk, tasks(), parallel),
            strict=True,
        ):
            for e in decided:
                _bump(c, e.verdict)
            with repo.transaction():
                repo.write_edges([(e, b["id"]) for e in decided])
            c["pairs"] += len(chunk)
            done += len(chunk)
            progress("verify", done, len(pairs))
        cpairs = [
            (r["a"], r["b"])
            for r in repo.rows(
                "shard_candidates", batch_id=b["id"], kind="caption", shard=shard, shards=shards
            )
        ]
        if cpairs:
            norms = {
                r["id"]: r["norm"].split()
                for r in repo.rows("caption_norms", ids=sorted({x for p in cpairs for x in p}))
            }
            edges = []
            for a, bb in cpairs:
                e = _caption_edge(a, bb, norms.get(a, []), norms.get(bb, []), config)
                edges.append((e, b["id"]))
                if e.verdict == "duplicate":
                    c["caption_duplicate"] += 1
            with repo.transaction():
                repo.write_edges(edges)
            c["caption_pairs"] = len(cpairs)
        return s


def _caption_edge(a: int, b: int, ta: list[str], tb: list[str], config: DedupConfig):
    from pipeline.model import Edge

    j = token_jaccard(ta, tb)
    sa, sb = set(ta), set(tb)
    con = len(sa & sb) / min(len(sa), len(sb)) if sa and sb else 0.0
    same = j >= config.caption_jaccard_min
    reason = (
        f"{'same photo' if same else 'different captions'}: token Jaccard {j:.2f}, "
        f"containment {con:.2f}"
    )
    return Edge(
        a=min(a, b),
        b=max(a, b),
        kind="caption",
        verdict="duplicate" if same else "distinct",
        jaccard=round(j, 4),
        containment=round(con, 4),
        fuzz=0.0,
        reason=reason,
    )


def cluster_merge(repo: Repository, batch_key: str, config: DedupConfig) -> Summary:
    """Re-cluster every story the batch touches; stage the new layout for publish."""
    b = _batch(repo, batch_key)
    with _stage(repo, "cluster_merge", batch_key) as s, repo.transaction():
        repo.run_sql("delete_staged", batch_id=b["id"])
        batch_ids = [r["id"] for r in repo.rows("batch_article_ids", batch_id=b["id"])]
        if not batch_ids:
            s.counts.update(stories=0)
            return s
        ctx = stories.load_neighbourhood(repo, batch_ids, config)
        groups = stories.regroup(ctx, config)
        ids, absorbed = clustering.assign_ids(groups, ctx.previous, ctx.canon_prev)
        group_of = {n: gi for gi, g in enumerate(groups) for n in g}
        credits = stories.credits(ctx, group_of)
        # each group's own duplicate edges, in ctx.edges order (ties in merged_story keep
        # the first edge): scanning every edge for every group was quadratic in the batch
        edges_of: dict[int, list[dict]] = {}
        for e in ctx.edges:
            ga = group_of.get(e["a"])
            if e["verdict"] == "duplicate" and ga is not None and ga == group_of.get(e["b"]):
                edges_of.setdefault(ga, []).append(e)
        n_multi = 0
        staged = []
        for gi, g in enumerate(groups):
            payload = stories.merged_story(
                g, credits.get(gi, []), ctx, config, edges_of.get(gi, [])
            )
            n_multi += len(g) > 1
            staged.append((ids[gi] if ids[gi] is not None else -(gi + 1), payload))
        meta = {
            "absorbed": {
                str(sid): (ids[gi] if ids[gi] is not None else -(gi + 1))
                for sid, gi in absorbed.items()
            },
            "caption_groups": stories.caption_groups(repo, b["id"]),
        }
        staged.append((0, meta))
        repo.stage_stories(b["id"], staged)
        s.counts.update(
            articles=len(batch_ids),
            nodes=len(ctx.nodes),
            stories=len(groups),
            multi_member=n_multi,
            absorbed=len(absorbed),
            contributors=sum(len(v) for v in credits.values()),
            caption_groups=len(meta["caption_groups"]),
        )
        return s


def publish(repo: Repository, batch_key: str) -> Summary:
    """Apply the staged layout in one transaction: stories, members, provenance, captions."""
    b = _batch(repo, batch_key)
    with _stage(repo, "publish", batch_key) as s:
        if b["state"] == "published":
            s.counts.update(already_published=True)
            return s
        with repo.transaction():
            staged = repo.staged(b["id"])
            meta = next(
                (p for sid, p in staged if sid == 0), {"absorbed": {}, "caption_groups": []}
            )
            stories = [(sid, p) for sid, p in staged if sid != 0]
            # new stories get ids up front (in staged order, as one INSERT each did), so
            # every table is then written with one statement
            fresh = iter(reversed(repo.allocate_ids("story", sum(sid < 0 for sid, _ in stories))))
            real: dict[int, int] = {sid: (next(fresh) if sid < 0 else sid) for sid, _ in stories}
            story_rows = [
                (
                    real[sid],
                    sid < 0,
                    p["canonical"],
                    p["headline"],
                    len(p["members"]),
                    p["sources"],
                    p["has_kill"],
                    p["first_published"],
                    b["id"],
                )
                for sid, p in stories
            ]
            created, updated = repo.write_stories(story_rows)
            all_members = sorted({m[0] for _, p in stories for m in p["members"]})
            story_ids = sorted(real.values())
            repo.run_sql("delete_members_of_articles", ids=all_members)
            repo.run_sql("delete_members_of_stories", story_ids=story_ids)
            repo.run_sql("delete_provenance", story_ids=story_ids)
            member_rows, prov_rows = [], []
            for sid, p in stories:
                rid = real[sid]
                for aid, role, sim, reason in p["members"]:
                    member_rows.append((rid, aid, role, sim, reason))
                own = {m[0] for m in p["members"]}
                for other, via, reason in p["contributors"]:
                    if other not in own:
                        member_rows.append(
                            (rid, other, "contributor", 0.0, f"{reason} (via article {via})")
                        )
                for kind, ordn, text, aid, src_ord, in_can in p["provenance"]:
                    prov_rows.append((rid, kind, ordn, text, aid, src_ord, in_can))
            repo.write_members(member_rows)
            if prov_rows:
                repo.copy_rows("copy_provenance", prov_rows)
            for old, into in meta["absorbed"].items():
                repo.run_sql("absorb_story", id=int(old), into=real.get(into, into))
            groups = meta["caption_groups"]
            new_labels = [label for existing, label, _ in groups if existing is None]
            fresh = iter(reversed(repo.allocate_ids("caption_group", len(new_labels))))
            gids = [existing if existing is not None else next(fresh) for existing, _, _ in groups]
            if new_labels:
                repo.run_sql(
                    "insert_caption_groups",
                    ids=[g for g, (e, _, _) in zip(gids, groups, strict=True) if e is None],
                    labels=new_labels,
                )
            if groups:
                repo.run_sql(
                    "set_caption_group",
                    ids=[c for _, _, cap_ids in groups for c in cap_ids],
                    group_ids=[
                        g for g, (_, _, cap_ids) in zip(gids, groups, strict=True) for _ in cap_ids
                    ],
                )
            repo.run_sql("set_batch_state", id=b["id"], state="published")
        repo.analyze_written()
        s.counts.update(
            stories_created=created,
            stories_updated=updated,
            members=len(member_rows),
            absorbed=len(meta["absorbed"]),
        )
        return s


# ------------------------------------------------------------------------------------------
# whole runs
# ------------------------------------------------------------------------------------------


def dedup(repo: Repository, config: DedupConfig, progress: Progress = _noop) -> list[Summary]:
    """Every pending article through sign -> publish, one bounded batch at a time."""
    out: list[Summary] = []
    while True:
        opened = open_batch(repo, config)
        out.append(opened)
        if not opened.counts.get("articles"):
            return out
        key = opened.batch_key
        out.append(sign(repo, key, config))
        out.append(candidates(repo, key, config))
        out.append(verify(repo, key, config, progress=progress))
        out.append(cluster_merge(repo, key, config))
        out.append(publish(repo, key))


def run_inbox(
    repo: Repository,
    inbox: Path,
    config: DedupConfig,
    sources: Sequence[str] = ("reuters", "xinhua", "cgtn"),
    progress: Progress = _noop,
) -> list[Summary]:
    """Ingest ``inbox/<source>/`` for each source, then dedup."""
    return run_sources(
        repo, [SourceConfig(name=s, folders=(str(inbox / s),)) for s in sources], config, progress
    )


def run_sources(
    repo: Repository,
    sources: Sequence[SourceConfig],
    config: DedupConfig,
    progress: Progress = _noop,
) -> list[Summary]:
    """Ingest every source (its folders and feed URLs), then dedup. A source with nothing
    to look at (no existing folder, no URL) is skipped."""
    out = []
    for src in sources:
        if src.urls or any(Path(f).expanduser().exists() for f in src.folders):
            out.append(ingest_source(repo, src, progress=progress))
    out.extend(dedup(repo, config, progress))
    return out
