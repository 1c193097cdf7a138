"""The ingest stage: store what arrived verbatim, parse it, apply its items.

Files from folders, bodies from feed URLs, or payloads handed in directly: each is stored
once (content-addressed), parsed (in the worker pool when there is much of it) and its items
applied by the version rules (``pipeline.merge.versions``). Idempotent: files already taken
are not read again, payloads already stored are not parsed again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import SourceConfig
from pipeline.merge.versions import IngestPlan
from pipeline.sources import collect, prepare
from pipeline.sources.base import MAX_PAYLOAD_BYTES, Parsed
from pipeline.sources.prepare import PreparedPayload, prepare_many
from pipeline.stages import packages, pool
from pipeline.stages.record import Progress, Summary, bump, no_progress, recorded
from pipeline.store.store import Store

log = logging.getLogger("newsdedup")

INGEST_CHUNK = 1000  # files per ingest transaction
INGEST_CHUNK_BYTES = 8 << 20  # ... or this many payload bytes held at once
INGEST_COUNTS = ("files", "payloads_new", "items_new", "items_updated", "killed", "quarantined")


def ingest_files(
    store: Store,
    source: str,
    files: Sequence[Path],
    progress: Progress = no_progress,
    key: str | None = None,
) -> Summary:
    """Store every new or changed file verbatim, parse new payloads, apply their items.
    Files already taken (same path, size and mtime) are not read again. Idempotent.

    ``key`` labels the run in the ``run`` table (a scheduler passes its data interval)."""
    with recorded(store, f"ingest:{source}", key) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        _ingest_paths(store, source, list(files), s.counts, progress)
        _parse_leftovers(store, source, s.counts)
        store.analyze_written()
        return s


def ingest_payloads(store: Store, source: str, payloads: Sequence[tuple[str, bytes]]) -> Summary:
    """Store and parse payloads that arrived some other way (a message queue, an API
    client, the fuzz test): (origin, bytes) pairs, stored verbatim like files. Idempotent."""
    with recorded(store, f"ingest:{source}", None) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        group: list[tuple[collect.Arrival, tuple | None]] = []
        held = 0
        ahead = _ParseAhead(store, s.counts)
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
                _store_and_parse(store, source, group, s.counts, ahead)
                group, held = [], 0
        _store_and_parse(store, source, group, s.counts, ahead)
        ahead.drain()
        _parse_leftovers(store, source, s.counts)
        return s


def _parse_leftovers(store: Store, source: str, c: dict) -> None:
    """Parse this source's payloads stored but never parsed: a run that died between
    storing and parsing left them, and their files are now marked taken, so they would
    otherwise wait for ``requeue``."""
    ids = store.ingest.new_payload_ids(source)
    if ids:
        bump(c, "leftovers", len(ids))
        parse_stored(store, ids, c)


def ingest_urls(store: Store, source: SourceConfig | str, urls: Sequence[str] = ()) -> Summary:
    """Poll feed URLs (a source's configured ones, plus ``urls``) with conditional
    requests; store and parse what is new. Idempotent: an unchanged feed stores nothing."""
    src = source if isinstance(source, SourceConfig) else SourceConfig(name=source)
    with recorded(store, f"ingest:{src.name}", None) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        _ingest_urls(store, src, [*src.urls, *urls], s.counts)
        _parse_leftovers(store, src.name, s.counts)
        return s


def ingest_source(
    store: Store,
    source: SourceConfig,
    paths: Sequence[Path] = (),
    urls: Sequence[str] = (),
    progress: Progress = no_progress,
    key: str | None = None,
    unreadable: Sequence[collect.PathProblem] = (),
) -> Summary:
    """Everything one source has: its configured folders and feed URLs, plus ``paths``
    (files or folders) and ``urls`` given on the command line. One ``ingest:NAME`` stage,
    labelled ``key`` in the run table when a scheduler passes its data interval.
    ``unreadable``: what a caller that listed the folders itself could not read."""
    with recorded(store, f"ingest:{source.name}", key) as s:
        s.counts.update(dict.fromkeys(INGEST_COUNTS, 0))
        files: list[Path] = []
        problems: list[collect.PathProblem] = list(unreadable)
        for raw in [*source.folders, *paths]:
            p = Path(raw).expanduser()
            if not p.exists():
                log.warning("%s: folder %s does not exist", source.name, collect.path_key(p))
            if p.is_dir():
                found, lost = collect.walk(p)
                files.extend(found)
                problems.extend(lost)
            elif p.is_file():
                files.append(p)
        _ingest_paths(store, source.name, files, s.counts, progress, problems)
        _ingest_urls(store, source, [*source.urls, *urls], s.counts)
        _parse_leftovers(store, source.name, s.counts)
        store.analyze_written()
        return s


def reread_path(store: Store, source: str, path: Path, c: dict) -> bool:
    """A file or folder quarantined as unreadable, read again (after a fix) as a run reads
    it: a folder's files that changed are ingested, a file is; what still cannot be read
    is quarantined again with its reason. False when nothing is there any more."""
    for k in INGEST_COUNTS:
        c.setdefault(k, 0)
    files: list[Path] = []
    problems: list[collect.PathProblem] = []
    if not os.path.lexists(path):
        return False
    if path.is_dir():
        files, problems = collect.walk(path)
    else:
        try:
            path.stat()
            files = [path]
        except OSError as e:  # a symlink loop, as the folder's listing met it
            problems = [collect.PathProblem(path, e.strerror or str(e))]
    _ingest_paths(store, source, files, c, no_progress, problems)
    return True


def _ingest_paths(
    store: Store,
    source: str,
    files: list[Path],
    c: dict,
    progress: Progress,
    problems: Sequence[collect.PathProblem] = (),
) -> None:
    ahead = _ParseAhead(store, c)
    _quarantine_paths(store, source, list(problems), c)
    for start in range(0, len(files), INGEST_CHUNK):
        chunk = files[start : start + INGEST_CHUNK]
        seen = store.collect.seen_files(source, [collect.path_key(f) for f in chunk])
        todo, unchanged, errors = collect.changed_files(seen, chunk)
        bump(c, "unchanged", unchanged)
        lost = [collect.PathProblem(f, "cannot read file: " + why) for f, why in errors]
        group: list[tuple[collect.Arrival, tuple]] = []
        held = 0
        for f, size, mtime_ns in todo:
            try:
                arrival = collect.read_file(f)
            except OSError as e:
                lost.append(collect.PathProblem(f, "cannot read file: " + (e.strerror or str(e))))
                continue
            group.append((arrival, (arrival.origin, size, mtime_ns, arrival.sha256)))
            held += len(arrival.body)
            if held >= INGEST_CHUNK_BYTES:
                _store_and_parse(store, source, group, c, ahead)
                group, held = [], 0
        _store_and_parse(store, source, group, c, ahead)
        _quarantine_paths(store, source, lost, c)
        progress(f"ingest {source}", min(start + INGEST_CHUNK, len(files)), len(files))
    ahead.drain()


def _quarantine_paths(
    store: Store, source: str, problems: list[collect.PathProblem], c: dict
) -> None:
    """Files and folders that could not be read are quarantined with their reason, so the
    report counts them and the run exits 1: nothing is dropped with a log line only."""
    if not problems:
        return
    for p in problems:
        log.error("%s: %s: %s", source, collect.path_key(p.path), p.reason)
    with store.transaction():
        store.ingest.quarantine_unreadable(source, [(p.arrival(), p.reason) for p in problems])
    bump(c, "unreadable", len(problems))
    bump(c, "quarantined", len(problems))


def _ingest_urls(store: Store, src: SourceConfig, urls: Sequence[str], c: dict) -> None:
    ahead = _ParseAhead(store, c)
    for url in dict.fromkeys(urls):  # each URL once, in order
        cur = store.collect.cursor(src.name, url) or {}
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
            with store.transaction():
                store.collect.cursor_failed(src.name, url, str(f.http_status or "error"), f.error)
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
            with store.transaction():
                store.collect.save_cursor(**cursor)
            continue
        _store_and_parse(store, src.name, [(f.arrival, None)], c, ahead, cursor)
    ahead.drain()


def _store_and_parse(
    store: Store,
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
    arrivals = [a for a, _ in group]
    with store.transaction():
        states = store.ingest.store_payloads(source, arrivals)
        store.collect.mark_seen(source, [seen for _, seen in group if seen is not None])
        if cursor is not None:
            store.collect.save_cursor(**cursor)
    c["files"] += len(arrivals)
    # the bytes are in hand: parse them instead of reading them back from the database
    todo: dict[int, dict] = {}
    for a, _ in group:
        st = states.get(a.sha256)
        if st is not None and st[1] == "new" and st[0] not in todo:
            todo[st[0]] = {
                "id": st[0],
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

    def __init__(self, store: Store, counts: dict):
        self.store, self.counts = store, counts
        self._pending: pool.Pending | None = None

    def submit(self, payloads: list[dict]) -> None:
        nxt = _parse(payloads) if payloads else None
        self.drain()
        self._pending = nxt

    def drain(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            _apply_prepared(self.store, pending.result(), self.counts)


def parse_stored(store: Store, payload_ids: Sequence[int], counts: dict) -> None:
    """Parse and apply payloads stored but not parsed yet, a chunk at a time."""
    ids = list(payload_ids)
    for start in range(0, len(ids), INGEST_CHUNK):
        _parse_and_apply(
            store, store.ingest.payloads_to_parse(ids[start : start + INGEST_CHUNK]), counts
        )


_OUTCOME_COUNT = {"new": "items_new", "updated": "items_updated", "killed": "killed"}


def _parse_and_apply(store: Store, payloads: list[dict], c: dict) -> None:
    """Parse and analyse payloads (in the worker pool when there are many), then decide
    every item in memory and write the chunk set-based in one transaction."""
    _apply_prepared(store, _parse(payloads).result(), c)


def _parse(payloads: list[dict]) -> pool.Pending:
    """Start parsing payloads (id, body, source, origin, size), in the pool when there are
    many bytes; ``.result()`` gives their PreparedPayloads in order."""
    limits = prepare.LIMITS  # passed along: a spawned worker would not inherit it
    tasks = [
        (p["id"], bytes(p["body"]), p["source"], p["origin"], p.get("size"), limits)
        for p in payloads
    ]
    return pool.submit(prepare_many, tasks, [len(t[1]) for t in tasks])


def _apply_prepared(store: Store, prepared: list[PreparedPayload], c: dict) -> None:
    keys = sorted({pi.item.key for pp in prepared for pi in pp.items})
    with store.transaction():
        # another run applying the same items at once would insert the same rows: the
        # second waits, then finds them written and decides against them
        store.locks.hold("ingest", transaction=True)
        store.bulk_settings()
        articles = store.ingest.articles_by_keys(keys)
        raw_ids, article_ids = store.ingest.new_ids(
            sum(len(pp.items) for pp in prepared), sum(1 for k in keys if k not in articles)
        )
        plan = IngestPlan(articles, store.ingest.known_versions(keys), raw_ids, article_ids)
        for pp in prepared:
            if pp.problems:
                bump(c, "quarantined", len(pp.problems))
            for outcome in plan.apply_payload(pp):
                if outcome == "conflict":
                    bump(c, "quarantined")
                else:
                    bump(c, _OUTCOME_COUNT.get(outcome, "items_" + outcome))
        store.ingest.write(plan.writes())
        linked: set[str] = set()
        for pp in prepared:  # package links are rare: their own statements, in order
            if pp.link_versions:
                parsed = Parsed(format=pp.format, links=list(pp.links))
                parsed.link_versions.update(pp.link_versions)
                linked |= packages.apply_links(store, pp.payload_id, parsed)
        # after the text was rewritten, as the captions of every touched article were
        packages.refresh_captions(store, set(keys), linked)
