"""What each page shows: plain data assembled from named queries, no HTTP and no markup.

Every query here is bounded (a time window, a keyset page, one story's members), so a page
costs the same with a thousand articles or a million.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pipeline.dashboard import charts
from pipeline.dashboard import diff as diffing
from pipeline.report import STAGE_ORDER
from pipeline.store.repository import Repository

WINDOWS = (1, 7, 14, 30)
PAGE_SIZE = 50
CAPTION_PAGE = 30
QUARANTINE_PAGE = 100
EDGE_LIMIT = 400
KNOWN_SOURCES = ("reuters", "xinhua", "cgtn")


class NotFound(LookupError):
    pass


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def source_classes(sources) -> dict[str, str]:
    """A stable colour class per source: the three wires have their own, others a palette."""
    out = {}
    extra = 0
    for s in sorted(set(sources)):
        if s in KNOWN_SOURCES:
            out[s] = f"s-{s}"
        else:
            out[s] = f"s-x{extra % 4}"
            extra += 1
    return out


def _day(ts: datetime | None) -> date:
    return (ts or datetime.now(UTC)).astimezone(UTC).date()


def _window(end: datetime | None, days: int) -> tuple[list[date], datetime, datetime]:
    last = _day(end)
    first = last - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return [first + timedelta(days=i) for i in range(days)], since, until


def _by_day(rows, days, key="n") -> list[int]:
    got = {_day(r["day"]): r[key] for r in rows}
    return [int(got.get(d, 0)) for d in days]


def stage_sort_key(stage: str) -> tuple:
    base, _, detail = stage.partition(":")
    try:
        i = STAGE_ORDER.index(base)
    except ValueError:
        i = len(STAGE_ORDER)
    return (i, detail, stage)


def counts_summary(counts: dict) -> str:
    """A run's counts in one short line, the interesting ones first."""
    if not counts:
        return ""
    skip = {"shard", "shards"}
    parts = [f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if k not in skip]
    return ", ".join(parts[:6]) + (" …" if len(parts) > 6 else "")


# ------------------------------------------------------------------------------------------
# overview
# ------------------------------------------------------------------------------------------


def overview(repo: Repository, days: int) -> dict:
    ends = repo.one("dash_window_ends")
    end = max(
        (t for t in (ends["last_received"], ends["last_story"], ends["last_quarantined"]) if t),
        default=None,
    )
    days_list, since, until = _window(end, days)

    received = repo.rows("dash_received_per_day", since=since, until=until)
    sources = sorted({r["source"] for r in received})
    classes = source_classes(sources)
    per_source = {s: _by_day([r for r in received if r["source"] == s], days_list) for s in sources}
    story_rows = repo.rows("dash_stories_per_day", since=since, until=until)
    stories = _by_day(story_rows, days_list, "stories")
    placed = _by_day(story_rows, days_list, "articles")
    dups = _by_day(story_rows, days_list, "duplicates")
    rates = [d / p if p else None for d, p in zip(dups, placed, strict=True)]
    quarantined = _by_day(repo.rows("dash_quarantine_per_day", since=since, until=until), days_list)
    captions = repo.one("dash_caption_reuse_window", since=since, until=until)
    runs = sorted(repo.rows("dash_last_runs"), key=lambda r: stage_sort_key(r["stage"]))
    for r in runs:
        r["strip"] = charts.run_strip(r["statuses"] or [], r["durations"] or [])
        r["summary"] = counts_summary(r["counts"])
    estimates = {r["t"]: r["n"] for r in repo.rows("dash_table_estimates")}
    return {
        "days": days,
        "windows": WINDOWS,
        "range": (days_list[0], days_list[-1]),
        "has_data": end is not None,
        "kpi": {
            "received": sum(sum(v) for v in per_source.values()),
            "received_by_source": {s: sum(v) for s, v in per_source.items()},
            "stories": sum(stories),
            "placed": sum(placed),
            "duplicates": sum(dups),
            "dup_rate": (sum(dups) / sum(placed)) if sum(placed) else None,
            "quarantined": sum(quarantined),
            "open_quarantine": repo.one("dash_open_quarantine_count")["n"],
            "caption_groups": captions["groups"],
            "caption_across": captions["across_stories"],
        },
        "classes": classes,
        "received_chart": charts.stacked_bars(days_list, per_source, classes),
        "stories_chart": charts.stacked_bars(
            days_list, {"stories created": stories}, {"stories created": "s-stories"}, unit=""
        ),
        "dup_chart": charts.rate_line(days_list, rates, placed),
        "runs": runs,
        "estimates": estimates,
    }


# ------------------------------------------------------------------------------------------
# stories
# ------------------------------------------------------------------------------------------


SORTS = ("updated", "published")


@dataclass(frozen=True)
class StoryFilters:
    sort: str = "updated"  # 'updated': latest activity first; 'published': newest first
    q: str | None = None
    source: str | None = None
    min_members: int | None = None
    max_members: int | None = None
    has_kill: bool | None = None
    date_from: date | None = None
    date_to: date | None = None

    def params(self) -> dict:
        def ts(d: date | None, plus: int = 0):
            if d is None:
                return None
            return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=plus)

        return {
            "q": self.q,
            "source": self.source,
            "min_members": self.min_members,
            "max_members": self.max_members,
            "has_kill": self.has_kill,
            "date_from": ts(self.date_from),
            "date_to": ts(self.date_to, 1),  # inclusive of the last day
        }

    def query(self) -> dict[str, str]:
        """The filters as URL query parameters (for links that keep them)."""
        out = {}
        if self.sort != self.default_sort:
            out["sort"] = self.sort
        if self.q:
            out["q"] = self.q
        if self.source:
            out["source"] = self.source
        if self.min_members is not None:
            out["min"] = str(self.min_members)
        if self.max_members is not None:
            out["max"] = str(self.max_members)
        if self.has_kill is not None:
            out["kill"] = "yes" if self.has_kill else "no"
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        return out

    @property
    def default_sort(self) -> str:
        # with a date filter, publication order: it stays on an index for any date
        return "published" if (self.date_from or self.date_to) else "updated"

    @property
    def active(self) -> bool:
        return bool({k: v for k, v in self.query().items() if k != "sort"})


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(ts: datetime, story_id: int) -> str:
    """(updated_at, id) of a page edge as 'microseconds.id': exact, and opaque enough."""
    delta = ts - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{story_id}"


_CURSOR = re.compile(r"^(-?\d{1,19})\.(\d{1,19})$")


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if not raw:
        return None
    m = _CURSOR.match(raw)
    if not m:
        raise ValueError("bad page cursor")
    micros, sid = int(m.group(1)), int(m.group(2))
    ts = _EPOCH + timedelta(microseconds=micros)
    return ts, sid


_STORY_REF = re.compile(r"^\s*s?(\d{1,18})\s*$", re.I)


def resolve_story_ref(repo: Repository, ref: str) -> int | None:
    """'123', 's123' or an item key -> a story id (not necessarily live)."""
    ref = (ref or "").strip()
    if not ref:
        return None
    m = _STORY_REF.match(ref)
    if m:
        return int(m.group(1))
    if ":" in ref:
        row = repo.one("dash_story_of_article_key", key=ref)
        return row["story_id"] if row else None
    return None


def stories(
    repo: Repository, f: StoryFilters, after: str | None = None, before: str | None = None
) -> dict:
    params = f.params()
    all_sources = [r["source"] for r in repo.rows("dash_sources")]
    newer_cursor = decode_cursor(before)
    older_cursor = decode_cursor(after)
    by_pub = f.sort == "published"
    key = "first_published" if by_pub else "updated_at"
    q_older = "dash_stories_pub_older" if by_pub else "dash_stories_older"
    q_newer = "dash_stories_pub_newer" if by_pub else "dash_stories_newer"
    if f.source and f.source not in all_sources:
        # no article has this source: nothing to look for (and no index could say so fast)
        rows, has_newer, has_older = [], False, False
    elif newer_cursor is not None:
        ts, sid = newer_cursor
        rows = repo.rows(q_newer, **params, cursor_ts=ts, cursor_id=sid, limit=PAGE_SIZE + 1)
        has_newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        has_older = True
    else:
        ts, sid = older_cursor if older_cursor else (None, None)
        rows = repo.rows(q_older, **params, cursor_ts=ts, cursor_id=sid, limit=PAGE_SIZE + 1)
        has_older = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_newer = older_cursor is not None
    ids = [r["id"] for r in rows]
    per_source: dict[int, list[dict]] = defaultdict(list)
    for r in repo.rows("dash_members_per_source", story_ids=ids) if ids else []:
        per_source[r["story_id"]].append(r)
    for r in rows:
        r["per_source"] = per_source.get(r["id"], [])
    return {
        "rows": rows,
        "filters": f,
        "sources": all_sources,
        "classes": source_classes(all_sources),
        "older": encode_cursor(rows[-1][key], rows[-1]["id"]) if rows and has_older else None,
        "newer": encode_cursor(rows[0][key], rows[0]["id"]) if rows and has_newer else None,
        "page_size": PAGE_SIZE,
    }


# ------------------------------------------------------------------------------------------
# story detail
# ------------------------------------------------------------------------------------------


def story(repo: Repository, story_id: int) -> dict:
    s = repo.one("dash_story", id=story_id)
    if s is None:
        raise NotFound(f"there is no story s{story_id}")
    members = repo.rows("dash_story_members", story_id=story_id)
    own = [m for m in members if m["role"] != "contributor"]
    contributors = [m for m in members if m["role"] == "contributor"]
    own_ids = [m["article_id"] for m in own]
    canonical = s["canonical_article_id"]
    # labels M1..Mn (canonical first) used to mark where each paragraph came from
    label = {m["article_id"]: f"M{i + 1}" for i, m in enumerate(own)}
    for i, m in enumerate(contributors):
        label[m["article_id"]] = f"C{i + 1}"
    versions: dict[str, list[dict]] = defaultdict(list)
    keys = [m["item_key"] for m in members]
    for v in repo.rows("dash_versions", keys=keys) if keys else []:
        versions[v["item_key"]].append(v)
    edges = repo.rows("dash_edges_touching", ids=own_ids, limit=EDGE_LIMIT) if own_ids else []
    own_set = set(own_ids)
    to_canonical: dict[int, dict] = {}
    best_internal: dict[int, dict] = {}
    external = []
    for e in edges:
        a_in, b_in = e["a"] in own_set, e["b"] in own_set
        if a_in and b_in:
            for x, y in ((e["a"], e["b"]), (e["b"], e["a"])):
                if y == canonical:
                    to_canonical[x] = e
                cur = best_internal.get(x)
                if e["verdict"] == "duplicate" and (cur is None or _strength(e) > _strength(cur)):
                    best_internal[x] = e
        else:
            inside, outside = (e["a"], e["b"]) if a_in else (e["b"], e["a"])
            external.append({**e, "inside": inside, "outside": outside})
    outside_ids = sorted({e["outside"] for e in external} | {m["article_id"] for m in contributors})
    brief = (
        {r["id"]: r for r in repo.rows("dash_articles_brief", ids=outside_ids)}
        if outside_ids
        else {}
    )
    for e in external:
        e["other"] = brief.get(e["outside"])
    external.sort(
        key=lambda e: (
            {"duplicate": 0, "contributor": 1}.get(e["verdict"], 2),
            -_strength(e),
        )
    )
    for m in own:
        m["label"] = label[m["article_id"]]
        m["versions"] = versions.get(m["item_key"], [])
        m["scores"] = to_canonical.get(m["article_id"]) or best_internal.get(m["article_id"])
        m["scores_vs_canonical"] = m["article_id"] in to_canonical
    for m in contributors:
        m["label"] = label[m["article_id"]]
        other = brief.get(m["article_id"])
        m["home_story"] = other["story_id"] if other else None
        m["versions"] = versions.get(m["item_key"], [])
    prov = repo.rows("dash_provenance", story_id=story_id)
    groups = sorted({p["group_id"] for p in prov if p["group_id"] is not None})
    reach = (
        {r["group_id"]: r for r in repo.rows("dash_caption_group_reach", group_ids=groups)}
        if groups
        else {}
    )
    by_id = {m["article_id"]: m for m in members}
    for p in prov:
        p["member"] = by_id.get(p["article_id"])
        p["label"] = label.get(p["article_id"], "?")
        p["reach"] = reach.get(p["group_id"])
    classes = source_classes([m["source"] for m in members] + list(s["sources"]))
    return {
        "story": s,
        "members": own,
        "contributors": contributors,
        "canonical": by_id.get(canonical),
        "paragraphs": [p for p in prov if p["kind"] == "paragraph"],
        "captions": [p for p in prov if p["kind"] == "caption"],
        "external": external,
        "edges_truncated": len(edges) >= EDGE_LIMIT,
        "history": repo.rows("dash_story_history", story_id=story_id),
        "classes": classes,
    }


def _strength(e: dict) -> float:
    return max(e["jaccard"], e["containment"], e["para_overlap"])


def article_diff(repo: Repository, story_id: int, article_id: int) -> dict:
    s = repo.one("dash_story", id=story_id)
    if s is None:
        raise NotFound(f"there is no story s{story_id}")
    members = {m["article_id"]: m for m in repo.rows("dash_story_members", story_id=story_id)}
    if article_id not in members:
        raise NotFound(f"article {article_id} is not in story s{story_id}")
    canonical = s["canonical_article_id"]
    if canonical is None:
        raise NotFound(f"story s{story_id} has no canonical article to compare with")
    texts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for p in repo.rows("dash_article_text", ids=[canonical, article_id]):
        texts[p["article_id"]].append((p["kind"], p["text"]))
    caps: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for c in repo.rows("dash_article_captions", ids=[canonical, article_id]):
        caps[c["article_id"]].append(("caption", c["text"]))
    own = [m for m in members.values() if m["role"] != "contributor"]
    for i, m in enumerate(own):  # the same labels as on the story page
        m["label"] = f"M{i + 1}"
    left, right = members[canonical], members[article_id]
    left.setdefault("label", "")
    right.setdefault("label", "")
    rows = diffing.side_by_side(texts[canonical], texts[article_id])
    # captions printed in the text are already in the rows; compare the caption table only
    # for formats that carry captions apart from the text
    inline = any(k == "caption" for k, _ in texts[canonical] + texts[article_id])
    cap_rows = [] if inline else diffing.side_by_side(caps[canonical], caps[article_id])
    head = diffing.side_by_side([("headline", left["headline"])], [("headline", right["headline"])])
    others = [m for m in own if m["article_id"] != canonical]
    return {
        "story": s,
        "left": left,
        "right": right,
        "headline_rows": head,
        "rows": rows,
        "caption_rows": cap_rows,
        "summary": diffing.summary(rows),
        "others": others,
        "classes": source_classes([m["source"] for m in members.values()]),
    }


# ------------------------------------------------------------------------------------------
# repeated captions
# ------------------------------------------------------------------------------------------


def caption_groups(repo: Repository, days: int, min_stories: int, page: int) -> dict:
    ends = repo.one("dash_window_ends")
    pub_days, since, until = _window(ends["last_published"], days)
    rows = repo.rows(
        "dash_caption_groups",
        since=since,
        until=until,
        min_stories=min_stories,
        limit=CAPTION_PAGE + 1,
        offset=page * CAPTION_PAGE,
    )
    more = len(rows) > CAPTION_PAGE
    rows = rows[:CAPTION_PAGE]
    ids = [r["group_id"] for r in rows]
    stories_of: dict[int, list[dict]] = defaultdict(list)
    for r in repo.rows("dash_caption_group_stories", group_ids=ids) if ids else []:
        stories_of[r["group_id"]].append(r)
    sources = {s for r in rows for s in r["sources"]}
    for r in rows:
        r["stories_list"] = stories_of.get(r["group_id"], [])
    return {
        "rows": rows,
        "days": days,
        "windows": WINDOWS,
        "range": (pub_days[0], pub_days[-1]),
        "min_stories": min_stories,
        "page": page,
        "more": more,
        "classes": source_classes(sources),
    }


def caption_group(repo: Repository, group_id: int) -> dict:
    g = repo.one("dash_caption_group", id=group_id)
    if g is None:
        raise NotFound(f"there is no caption group g{group_id}")
    caps = repo.rows("dash_caption_group_captions", group_id=group_id)
    story_ids = sorted({c["story_id"] for c in caps if c["story_id"] is not None})
    return {
        "group": g,
        "captions": caps,
        "story_count": len(story_ids),
        "classes": source_classes([c["source"] for c in caps]),
    }


# ------------------------------------------------------------------------------------------
# quarantine
# ------------------------------------------------------------------------------------------


def quarantine(repo: Repository, source: str | None, before: int | None) -> dict:
    rows = repo.rows(
        "dash_quarantine_page", source=source, before_id=before, limit=QUARANTINE_PAGE + 1
    )
    more = len(rows) > QUARANTINE_PAGE
    rows = rows[:QUARANTINE_PAGE]
    return {
        "rows": rows,
        "open": repo.one("dash_open_quarantine_count")["n"],
        "source": source,
        "sources": [r["source"] for r in repo.rows("dash_sources")],
        "next": rows[-1]["id"] if rows and more else None,
        "before": before,
        "resolved": repo.rows("dash_quarantine_resolved", limit=20),
    }
