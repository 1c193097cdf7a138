"""What each page shows: plain data assembled from the store's reads, no HTTP and no
markup. Every read is bounded (see ``pipeline.store.dashboard``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pipeline.dashboard import charts
from pipeline.dashboard import diff as diffing
from pipeline.merge.story import strength
from pipeline.report import STAGE_ORDER
from pipeline.store.dashboard import STORY_ORDERS
from pipeline.store.store import Store

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


def overview(store: Store, days: int) -> dict:
    ends = store.dashboard.window_ends()
    # the charts count by publication day, so the window ends at the newest publication
    # (a quarantine-only database: at its newest entry)
    end = ends["last_published"] or ends["last_quarantined"]
    days_list, since, until = _window(end, days)

    received = store.dashboard.published_per_day(since, until)
    sources = sorted({r["source"] for r in received})
    classes = source_classes(sources)
    per_source = {s: _by_day([r for r in received if r["source"] == s], days_list) for s in sources}
    story_rows = store.dashboard.stories_per_day(since, until)
    stories = _by_day(story_rows, days_list, "stories")
    placed = _by_day(story_rows, days_list, "articles")
    dups = _by_day(story_rows, days_list, "duplicates")
    rates = [d / p if p else None for d, p in zip(dups, placed, strict=True)]
    quarantined = _by_day(store.dashboard.quarantine_per_day(since, until), days_list)
    captions = store.dashboard.caption_reuse(since, until)
    runs = sorted(store.dashboard.last_runs(), key=lambda r: stage_sort_key(r["stage"]))
    for r in runs:
        r["strip"] = charts.run_strip(r["statuses"] or [], r["durations"] or [])
        r["summary"] = counts_summary(r["counts"])
    estimates = store.dashboard.table_estimates()
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
            "open_quarantine": store.ingest.count_open_quarantine(),
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


SORTS = tuple(STORY_ORDERS)  # updated: latest activity first; published: newest first


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


def resolve_story_ref(store: Store, ref: str) -> int | None:
    """'123', 's123' or an item key -> a story id (not necessarily live)."""
    ref = (ref or "").strip()
    if not ref:
        return None
    m = _STORY_REF.match(ref)
    if m:
        return int(m.group(1))
    if ":" in ref:
        return store.dashboard.story_of_article_key(ref)
    return None


def stories(
    store: Store, f: StoryFilters, after: str | None = None, before: str | None = None
) -> dict:
    params = f.params()
    all_sources = store.dashboard.sources()
    newer_cursor = decode_cursor(before)
    older_cursor = decode_cursor(after)
    key = STORY_ORDERS[f.sort]
    if f.source and f.source not in all_sources:
        # no article has this source: nothing to look for (and no index could say so fast)
        rows, has_newer, has_older = [], False, False
    elif newer_cursor is not None:
        rows = store.dashboard.story_page(
            params, f.sort, newer_cursor, newer=True, limit=PAGE_SIZE + 1
        )
        has_newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        has_older = True
    else:
        rows = store.dashboard.story_page(
            params, f.sort, older_cursor, newer=False, limit=PAGE_SIZE + 1
        )
        has_older = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_newer = older_cursor is not None
    ids = [r["id"] for r in rows]
    per_source: dict[int, list[dict]] = defaultdict(list)
    for r in store.dashboard.members_per_source(ids) if ids else []:
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


def story(store: Store, story_id: int) -> dict:
    s = store.dashboard.story(story_id)
    if s is None:
        raise NotFound(f"there is no story s{story_id}")
    members = store.dashboard.story_members(story_id)
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
    for v in store.dashboard.versions(keys) if keys else []:
        versions[v["item_key"]].append(v)
    edges = store.dashboard.edges_touching(own_ids, EDGE_LIMIT) if own_ids else []
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
                if e["verdict"] == "duplicate" and (cur is None or strength(e) > strength(cur)):
                    best_internal[x] = e
        else:
            inside, outside = (e["a"], e["b"]) if a_in else (e["b"], e["a"])
            external.append({**e, "inside": inside, "outside": outside})
    outside_ids = sorted({e["outside"] for e in external} | {m["article_id"] for m in contributors})
    brief = store.dashboard.articles_brief(outside_ids) if outside_ids else {}
    for e in external:
        e["other"] = brief.get(e["outside"])
    external.sort(
        key=lambda e: (
            {"duplicate": 0, "contributor": 1}.get(e["verdict"], 2),
            -strength(e),
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
    prov = store.dashboard.provenance(story_id)
    groups = sorted({p["group_id"] for p in prov if p["group_id"] is not None})
    reach = store.dashboard.caption_group_reach(groups) if groups else {}
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
        "contributions": [p for p in prov if p["kind"] == "contribution"],
        "killed_members": [m for m in own if m["killed"]],
        "external": external,
        "edges_truncated": len(edges) >= EDGE_LIMIT,
        "history": store.dashboard.story_history(story_id),
        "classes": classes,
    }


def article_diff(store: Store, story_id: int, article_id: int) -> dict:
    s = store.dashboard.story(story_id)
    if s is None:
        raise NotFound(f"there is no story s{story_id}")
    members = {m["article_id"]: m for m in store.dashboard.story_members(story_id)}
    if article_id not in members:
        raise NotFound(f"article {article_id} is not in story s{story_id}")
    canonical = s["canonical_article_id"]
    if canonical is None:
        raise NotFound(f"story s{story_id} has no canonical article to compare with")
    texts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for p in store.dashboard.article_text([canonical, article_id]):
        texts[p["article_id"]].append((p["kind"], p["text"]))
    caps: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for c in store.dashboard.article_captions([canonical, article_id]):
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


def caption_groups(store: Store, days: int, min_stories: int, page: int) -> dict:
    ends = store.dashboard.window_ends()
    pub_days, since, until = _window(ends["last_published"], days)
    rows = store.dashboard.caption_groups(
        since, until, min_stories, limit=CAPTION_PAGE + 1, offset=page * CAPTION_PAGE
    )
    more = len(rows) > CAPTION_PAGE
    rows = rows[:CAPTION_PAGE]
    ids = [r["group_id"] for r in rows]
    stories_of: dict[int, list[dict]] = defaultdict(list)
    for r in store.dashboard.caption_group_stories(ids) if ids else []:
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


def caption_group(store: Store, group_id: int) -> dict:
    g = store.dashboard.caption_group(group_id)
    if g is None:
        raise NotFound(f"there is no caption group g{group_id}")
    caps = store.dashboard.caption_group_captions(group_id)
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


def quarantine(store: Store, source: str | None, before: int | None) -> dict:
    rows = store.dashboard.quarantine_page(source, before, QUARANTINE_PAGE + 1)
    more = len(rows) > QUARANTINE_PAGE
    rows = rows[:QUARANTINE_PAGE]
    return {
        "rows": rows,
        "open": store.ingest.count_open_quarantine(),
        "source": source,
        "sources": store.dashboard.sources(),
        "next": rows[-1]["id"] if rows and more else None,
        "before": before,
        "resolved": store.dashboard.quarantine_resolved(20),
    }
