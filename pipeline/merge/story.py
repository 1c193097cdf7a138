"""Re-clustering and merging the stories a dedup batch touches, in memory.

The cluster_merge stage reads the neighbourhood of a batch from the store once (a
``Neighbourhood``); then ``regroup`` clusters it without chaining, ``credits`` finds the
articles of other stories each story borrowed from, ``merged_story`` lays out one story
(canonical, member roles and reasons, provenance) as a ``model.Story``, and
``group_captions`` groups the batch's captions across stories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from pipeline.config import DedupConfig
from pipeline.dedup import cluster as clustering
from pipeline.dedup.minhash import set_containment, shingle_sets
from pipeline.merge import canonical as canon
from pipeline.merge import record
from pipeline.model import CaptionGroup, Credit, Member, Membership, Story


@dataclass
class Neighbourhood:
    """Everything clustering and merging need about the stories a batch touches."""

    nodes: list[int]
    previous: dict[int, int]  # article -> story before this batch
    canon_prev: dict[int, int]  # story -> canonical article before this batch
    edges: list[dict]  # verified story edges among the nodes
    borrowing: list[dict]  # contributor edges (and duplicates) touching the nodes
    cannot: list[tuple[int, int]]
    must: list[tuple[int, int]]
    info: dict[int, dict]  # article metadata of nodes and of articles they borrow from
    paragraphs: dict[int, list[record.SourceText]]
    captions: dict[int, list[record.SourceText]]
    shingles: dict[int, np.ndarray]


def texts_by_article(rows) -> dict[int, list[record.SourceText]]:
    """(article_id, ord, text, norm) rows -> each article's texts, in row order."""
    out: dict[int, list[record.SourceText]] = {}
    for r in rows:
        out.setdefault(r["article_id"], []).append(
            record.SourceText(r["article_id"], r["ord"], r["text"], r["norm"])
        )
    return out


def strength(e: dict) -> float:
    """How strongly a verified pair says "the same text": the best of its three measures."""
    return max(e["jaccard"], e["containment"], e["para_overlap"])


def _order(e: dict) -> float:
    """``strength`` with Jaccard breaking ties, for the order edges are applied in (a reprint
    with containment 1.0 of two articles belongs with the one it is identical to, not the
    lower article id)."""
    return strength(e) + e["jaccard"] / 1000


def regroup(ctx: Neighbourhood, config: DedupConfig) -> list[list[int]]:
    dup = [(e["a"], e["b"], _order(e)) for e in ctx.edges if e["verdict"] == "duplicate"]
    sh = ctx.shingles

    def coherent(ga: set[int], gb: set[int]) -> bool:
        return set_containment(_union(sh, ga), _union(sh, gb)) >= config.coherence_min

    def coverage(n: int, group: set[int]) -> float:
        own = sh.get(n)
        if own is None or own.size == 0 or not group:
            return 0.0
        return np.intersect1d(own, _union(sh, group), assume_unique=True).size / own.size

    def group(nodes: list[int]) -> list[list[int]]:
        inside = set(nodes)
        edges = [e for e in dup if e[0] in inside and e[1] in inside]
        groups = clustering.cluster(
            nodes, edges, cannot_link=ctx.cannot, must_link=ctx.must, coherent=coherent
        )
        return clustering.refine(groups, edges, coverage, cannot_link=ctx.cannot)

    pairs = {frozenset((a, b)) for a, b, _ in dup}

    def canonical(g: list[int]) -> int | None:
        chosen = canon.choose([_member(ctx.info[n]) for n in g if n in ctx.info], rules)
        return chosen.article_id if chosen else None

    rules = config.canonical_rules
    groups = clustering.prune(
        group(ctx.nodes),
        lambda x, y: frozenset((x, y)) in pairs,
        canonical,
        group,
        keep=ctx.must,
    )
    # refine moves articles by coverage alone; an operator's merge is not its to undo
    return clustering.keep_together(groups, ctx.must) if ctx.must else groups


def credits(ctx: Neighbourhood, group_of: dict[int, int]) -> dict[int, list[list]]:
    """Articles of other stories each story borrowed from: [article, via member, reason].

    Evidence is a verified edge with at least one shared paragraph between a member and an
    article outside the story (a "contributor" verdict, or a "duplicate" the clustering
    refused). The later of the two borrowed from the earlier, so only the later one's
    story credits the other."""
    out: dict[int, dict[int, list]] = {}
    for e in ctx.borrowing:
        for x, y in ((e["a"], e["b"]), (e["b"], e["a"])):
            gx = group_of.get(x)
            if gx is None or group_of.get(y) == gx or y not in ctx.info:
                continue
            if _published(ctx.info[y]) > _published(ctx.info[x]):
                continue
            out.setdefault(gx, {}).setdefault(y, [y, x, "borrowed text: " + e["reason"]])
    # "(With input from Reuters)" credits the named agency's articles the member shares text
    # with, in this story or another; only other stories' articles are contributors
    touching: dict[int, list[dict]] = {}  # node -> its borrowing edges, in order
    for e in ctx.borrowing:
        touching.setdefault(e["a"], []).append(e)
        if e["b"] != e["a"]:
            touching.setdefault(e["b"], []).append(e)
    for x, gx in group_of.items():
        named = {a.lower() for a in (ctx.info[x].get("attributions") or [])}
        if not named:
            continue
        for e in touching.get(x, ()):
            y = e["b"] if e["a"] == x else e["a"] if e["b"] == x else None
            if y is None or group_of.get(y) == gx or y not in ctx.info:
                continue
            if ctx.info[y]["source"].lower() in named:
                agency = ctx.info[y]["source"]
                out.setdefault(gx, {}).setdefault(y, [y, x, f"named in (With input from {agency})"])
    return {g: sorted(v.values()) for g, v in out.items()}


_FAR = datetime.max.replace(tzinfo=UTC)


def _published(info: dict) -> datetime:
    return info["published_at"]


def override_links(overrides) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(cannot-link, must-link) article pairs of the operator overrides in force."""
    cannot, must = [], []
    for o in overrides:
        if o["article_b"] is None:
            continue
        pair = (o["article_a"], o["article_b"])
        if o["kind"] == "merge":
            must.append(pair)
        else:  # split and never_merge both forbid the pair in one story
            cannot.append(pair)
    return cannot, must


def shingles_by_article(by_member, config: DedupConfig) -> dict[int, np.ndarray]:
    ids = sorted(by_member)
    texts = [" ".join(p.norm for p in by_member[i] if p.norm) for i in ids]
    sets = shingle_sets(texts, config.shingle_size) if ids else []
    return dict(zip(ids, sets, strict=True))


def _union(shingles: dict[int, np.ndarray], group: set[int]) -> np.ndarray:
    parts = [shingles[i] for i in group if i in shingles]
    if not parts:
        return np.empty(0, np.uint32)
    return np.unique(np.concatenate(parts))


def merged_story(
    g: list[int],
    contributors: list[list],
    ctx: Neighbourhood,
    config: DedupConfig,
    edges: list[dict] | None = None,
    story_id: int | None = None,
) -> Story:
    """Story ``g`` (article ids) as published: its canonical, every member's role and why
    it belongs, the articles of other stories it borrowed from (``contributors``:
    [article, via member, reason]) and the merged record. ``edges``: the group's duplicate
    edges (default: all of ctx.edges, filtered here); ``story_id``: the id it keeps, None
    for a new story."""
    info = ctx.info
    members = [_member(info[n]) for n in g if n in info]
    chosen = canon.choose(members, config.canonical_rules)
    cid = chosen.article_id if chosen else None
    gset = set(g)
    best: dict[int, tuple[tuple[bool, float], float, str]] = {}
    links: dict[int, int] = {}
    for e in ctx.edges if edges is None else edges:
        if e["verdict"] != "duplicate" or e["a"] not in gset or e["b"] not in gset:
            continue
        s = strength(e)
        for x, y in ((e["a"], e["b"]), (e["b"], e["a"])):
            links[x] = links.get(x, 0) + 1
            # an edge to the canonical explains membership best; otherwise the strongest
            rank = (y == cid, s)
            cur = best.get(x)
            if cur is None or rank > cur[0]:
                best[x] = (rank, s, e["reason"])
    order = [
        m.article_id
        for m in sorted(
            members, key=lambda m: (canon._ts(m.first_created or m.version_created), m.article_id)
        )
    ]
    merged = {x for a, b in ctx.must if a in gset and b in gset for x in (a, b)}
    rows = []
    for m in members:
        role = canon.role(m, chosen)
        if m.article_id == cid:
            rows.append(Membership(m.article_id, role, 1.0, "canonical: " + _why_canonical(config)))
            continue
        rank, sim, reason = best.get(m.article_id, (None, 0.0, ""))
        if rank is None:
            # no verified edge: only an operator's merge, or being alone, keeps it here
            reason = (
                "kept together by operator merge"
                if m.article_id in merged
                else "the only member"
                if len(members) == 1
                else "no verified edge to another member"
            )
        elif cid is not None:
            # how the member is tied to the story: directly to the canonical, or to most
            # of the other members (cluster.prune keeps no other kind)
            reason = (
                (
                    "version of the canonical: "
                    if role == "version"
                    else "duplicate of the canonical: "
                )
                + reason
                if rank[0]
                else f"no direct edge to the canonical; duplicate of "
                f"{links.get(m.article_id, 0)} of {len(members) - 1} members: {reason}"
            )
        if m.killed:
            reason = "killed, do not use (its text is not in the record); " + reason
        rows.append(Membership(m.article_id, role, round(sim, 4), reason))
    group_paras = {m.article_id: ctx.paragraphs.get(m.article_id, []) for m in members}
    lenders = {c[0]: ctx.paragraphs.get(c[0], []) for c in contributors}
    timeline = sorted(
        [*order, *lenders], key=lambda a: (_published(info[a]) if a in info else _FAR, a)
    )
    killed = {m.article_id for m in members if m.killed}
    paras = record.paragraphs(
        cid,
        order,
        group_paras,
        lenders,
        timeline,
        killed=killed,
        superseded=_superseded_figures(members, group_paras),
    )
    caps = record.captions(
        cid,
        order,
        {m.article_id: ctx.captions.get(m.article_id, []) for m in members},
        killed=killed,
    )
    live = [m for m in members if not m.killed]
    return Story(
        story_id=story_id,
        canonical=cid,
        headline=chosen.headline if chosen else (members[0].headline if members else ""),
        members=tuple(rows),
        contributors=tuple(Credit(*c) for c in contributors),
        provenance=(*paras, *caps),
        sources=tuple(sorted({m.source for m in members})),
        has_kill=any(m.killed for m in members),
        first_published=min(
            (
                info[m.article_id]["first_created"]
                for m in live
                if info[m.article_id]["first_created"]
            ),
            default=None,
        ),
    )


def _superseded_figures(members: list[Member], texts: dict[int, list]) -> set[str]:
    """Figures that a live correction among ``members`` replaced in the items it corrects."""
    out: set[str] = set()
    for c in members:
        if c.killed or not canon.is_correction(c):
            continue
        fixed = [p.text for p in texts.get(c.article_id, [])]
        for m in members:
            if canon.corrects(c, m):
                out |= record.superseded_figures(
                    [p.text for p in texts.get(m.article_id, [])], fixed
                )
    return out


def _why_canonical(config: DedupConfig) -> str:
    return "chosen by rules " + " > ".join(config.canonical_rules)


def _member(r: dict) -> Member:
    return Member(
        article_id=r["id"],
        key=r["item_key"],
        source=r["source"],
        headline=r["headline"],
        headline_tag=r["headline_tag"],
        killed=r["killed"] or r["pub_status"] == "withheld",
        first_created=r["first_created"],
        version_created=r["version_created"],
        word_count=r["word_count"],
        ed_stat=r["ed_stat"],
    )


def group_captions(
    batch_caption_ids: list[int], pairs: list[tuple[int, int]], rows: dict[int, dict]
) -> list[CaptionGroup]:
    """Group the batch's captions with the captions they duplicate, across stories.

    ``pairs``: duplicate caption pairs touching the batch's captions; ``rows``: id ->
    {group_id, body} of every caption involved and of every caption already in one of their
    groups. Returns one CaptionGroup per affected group (its existing id, or None)."""
    if not batch_caption_ids:
        return []
    uf = clustering.UnionFind(rows)
    for a, b in pairs:
        if a in rows and b in rows:
            uf.union(a, b)
    by_group: dict[int, int] = {}
    for cid_, r in rows.items():
        if r["group_id"] is not None:
            if r["group_id"] in by_group:
                uf.union(cid_, by_group[r["group_id"]])
            else:
                by_group[r["group_id"]] = cid_
    out = []
    for comp in uf.groups():
        existing = sorted({rows[c]["group_id"] for c in comp if rows[c]["group_id"] is not None})
        label = rows[comp[0]]["body"]
        out.append(CaptionGroup(existing[0] if existing else None, label, tuple(comp)))
    return out
