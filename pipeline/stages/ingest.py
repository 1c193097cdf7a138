"""The ingest stage: store what arrived verbatim, parse it, apply its items.

Files from folders, bodies from feed URLs, or payloads handed in directly: each is stored
once (content-addressed), parsed (in the worker pool when there is much of it) and its items
applied by the version rules (``pipeline.merge.versions``). Idempotent: files already taken
are not read again, payloads already stored are not parsed again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import SourceConfig
from pipeline.merge.versions import IngestPlan
from pipeline.sources import collect, prepare
from pipeline.sources.base import MAX_PAYLOAD_BYTES, Parsed
from pipeline.stages import packages, pool
from pipeline.stages.record import Progress, Summary, bump, no_progress, recorded
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")


INGEST_CHUNK = 1000  # files per ingest transaction


INGEST_CHUNK_BYTES = 8 << 20  # ... or this many payload bytes held at once


INGEST_COUNTS = ("files", "payloads_new", "items_new", "items_updated", "killed", "quarantined")


def list_files(folder: Path) -> list[Path]:
    """Every regular, non-hidden file under a folder, in a stable order."""
    return collect.list_files(folder)


def ingest_files(
    repo: Repository,
    source: str,
    files: Sequence[Path],
    progress: Progress = no_progress,
    key: str | None = None,
) -> Summary:
    """Store every new or changed file verbatim, parse new payloads, apply their items.
    Files already taken (same path, size and mtime) are not read again. Idempotent.

    ``key`` labels the run in the ``run`` table (a scheduler passes its data interval)."""
    with recorded(repo, f"ingest:{source}", key) as s:
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
    with recorded(repo, f"ingest:{source}", None) as s:
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
        bump(c, "leftovers", len(ids))
        for start in range(0, len(ids), INGEST_CHUNK):
            _parse_and_apply(repo, repo.payloads_to_parse(ids[start : start + INGEST_CHUNK]), c)


def ingest_urls(repo: Repository, source: SourceConfig | str, urls: Sequence[str] = ()) -> Summary:
    """Poll feed URLs (a source's configured ones, plus ``urls``) with conditional
    requests; store and parse what is new. Idempotent: an unchanged feed stores nothing."""
    src = source if isinstance(source, SourceConfig) else SourceConfig(name=source)
    with recorded(repo, f"ingest:{src.name}", None) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        _ingest_urls(repo, src, [*src.urls, *urls], s.counts)
        _parse_leftovers(repo, src.name, s.counts)
        return s


def ingest_source(
    repo: Repository,
    source: SourceConfig,
    paths: Sequence[Path] = (),
    urls: Sequence[str] = (),
    progress: Progress = no_progress,
    key: str | None = None,
) -> Summary:
    """Everything one source has: its configured folders and feed URLs, plus ``paths``
    (files or folders) and ``urls`` given on the command line. One ``ingest:NAME`` stage,
    labelled ``key`` in the run table when a scheduler passes its data interval."""
    with recorded(repo, f"ingest:{source.name}", key) as s:
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
        bump(c, "unchanged", unchanged)
        for f, why in errors:
            bump(c, "unreadable")
            log.error("cannot read %s: %s", f, why)
        group: list[tuple[collect.Arrival, tuple]] = []
        held = 0
        for f, size, mtime_ns in todo:
            try:
                arrival = collect.read_file(f)
            except OSError as e:
                bump(c, "unreadable")
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
        bump(c, "fetched")
        if f.status == "failed":
            bump(c, "fetch_failed")
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
            bump(c, "not_modified")
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
    with recorded(repo, "requeue", None) as s:
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
                bump(c, "quarantined")
            applied = 0
            for pi in pp.items:
                outcome = plan.apply(pp.payload_id, pi)
                if outcome == "conflict":
                    bump(c, "quarantined")
                else:
                    applied += 1
                    bump(c, _OUTCOME_COUNT.get(outcome, "items_" + outcome))
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
