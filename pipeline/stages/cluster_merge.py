"""The cluster_merge stage: re-cluster every story a batch touches and stage the new layout
(``model.Layout``) for publish."""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.dedup import cluster as clustering
from pipeline.merge import story
from pipeline.model import Batch, CaptionGroup, Layout
from pipeline.stages import poison
from pipeline.stages.record import Summary, recorded
from pipeline.store.store import Store


def run(store: Store, batch: Batch, config: DedupConfig) -> Summary:
    """Re-cluster every story the batch touches; stage the new layout for publish. A batch
    article whose clustering or merging raises is quarantined at this stage, and the layout
    is made without it."""
    with recorded(store, "cluster_merge", batch.key) as s, store.transaction():
        store.stories.clear_staged(batch.id)
        batch_ids = store.batches.article_ids(batch.id)
        if not batch_ids:
            s.counts.update(stories=0)
            return s
        (layout, counts), failed = poison.isolate(
            lambda ids: layout_of(store, batch, config, batch_ids, ids), batch_ids, "merge"
        )
        store.batches.quarantine_articles(batch.id, "merge", failed)
        store.stories.stage(batch.id, layout)
        s.counts.update(counts)
        if failed:
            s.counts.update(quarantined=len(failed))
        return s


def layout_of(
    store: Store, batch: Batch, config: DedupConfig, batch_ids: list[int], included: list[int]
) -> tuple[Layout, dict]:
    """The layout of the batch as if it held only the ``included`` of its ``batch_ids``
    (the others, and any article a dedup stage quarantined, are left out of every story),
    and the stage's counts."""
    withheld = frozenset(batch_ids) - frozenset(included)
    ctx = load_neighbourhood(store, sorted(included), config, withheld)
    groups = story.regroup(ctx, config)
    ids, absorbed = clustering.assign_ids(groups, ctx.previous, ctx.canon_prev)
    group_of = {n: gi for gi, g in enumerate(groups) for n in g}
    credits = story.credits(ctx, group_of)
    # each group's own duplicate edges, in ctx.edges order (ties in merged_story keep
    # the first edge): scanning every edge for every group would be quadratic in the batch
    edges_of: dict[int, list[dict]] = {}
    for e in ctx.edges:
        ga = group_of.get(e["a"])
        if e["verdict"] == "duplicate" and ga is not None and ga == group_of.get(e["b"]):
            edges_of.setdefault(ga, []).append(e)
    layout = Layout(
        stories=tuple(
            story.merged_story(
                g, credits.get(gi, []), ctx, config, edges_of.get(gi, []), story_id=ids[gi]
            )
            for gi, g in enumerate(groups)
        ),
        absorbed=tuple(absorbed.items()),
        caption_groups=tuple(caption_groups(store, batch, withheld)),
    )
    counts = dict(
        articles=len(included),
        nodes=len(ctx.nodes),
        stories=len(groups),
        multi_member=sum(len(g) > 1 for g in groups),
        absorbed=len(absorbed),
        contributors=sum(len(v) for v in credits.values()),
        caption_groups=len(layout.caption_groups),
    )
    return layout, counts


def load_neighbourhood(
    store: Store, batch_ids: list[int], config: DedupConfig, withheld: frozenset[int] = frozenset()
):
    """Everything clustering and merging need about the stories the batch touches: the
    batch's articles, their duplicates, every member of the stories those are in; but the
    ``withheld`` articles and those a dedup stage quarantined."""
    nbrs = set(store.edges.duplicate_neighbours(batch_ids))
    first = set(batch_ids) | nbrs
    story_ids = {sid for _, sid in store.stories.stories_of(sorted(first))}
    members = store.stories.members_of(sorted(story_ids))
    reached = first | members
    out = withheld | store.batches.held(sorted(reached))
    nodes = sorted(reached - out)
    previous = dict(store.stories.stories_of(nodes))
    canon_prev = store.stories.canonicals_of(sorted(set(previous.values())))
    edges = store.edges.among(nodes)
    borrowing = store.edges.borrowing(nodes)
    if out:
        borrowing = [e for e in borrowing if e["a"] not in out and e["b"] not in out]
    cannot, must = story.override_links(store.overrides.in_force(nodes))
    # verified conflicts (templated reports, unmarked first takes) never share a story
    cannot += [(e["a"], e["b"]) for e in edges if e["verdict"] == "conflict"]
    others = {x for e in borrowing for x in (e["a"], e["b"])} - set(nodes)
    info = store.stories.member_info(sorted(set(nodes) | others))
    paragraphs = story.texts_by_article(store.stories.paragraphs_of(sorted(set(nodes) | others)))
    captions = story.texts_by_article(store.stories.captions_of(nodes))
    return story.Neighbourhood(
        nodes=nodes,
        previous=previous,
        canon_prev=canon_prev,
        edges=edges,
        borrowing=borrowing,
        cannot=cannot,
        must=must,
        info=info,
        paragraphs=paragraphs,
        captions=captions,
        shingles=story.shingles_by_article({n: paragraphs.get(n, []) for n in nodes}, config),
    )


def caption_groups(
    store: Store, batch: Batch, withheld: frozenset[int] = frozenset()
) -> list[CaptionGroup]:
    """The batch's captions (but the ``withheld`` articles') grouped with the captions they
    duplicate, across stories."""
    ids = store.stories.batch_caption_ids(batch.id, withheld)
    if not ids:
        return []
    pairs = store.edges.caption_duplicates(ids)
    involved = sorted(set(ids) | {x for p in pairs for x in p})
    rows = store.stories.caption_groups_of(involved)
    groups = sorted({r["group_id"] for r in rows.values() if r["group_id"] is not None})
    if groups:
        rows.update(store.stories.captions_in_groups(groups))
    return story.group_captions(ids, pairs, rows)
