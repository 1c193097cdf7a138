"""The cluster_merge stage: re-cluster every story a batch touches, stage the new layout."""

from __future__ import annotations

import logging

from pipeline.config import DedupConfig
from pipeline.dedup import cluster as clustering
from pipeline.merge import story as stories
from pipeline.stages.batch import load as _batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")


def run(repo: Repository, batch_key: str, config: DedupConfig) -> Summary:
    """Re-cluster every story the batch touches; stage the new layout for publish."""
    b = _batch(repo, batch_key)
    with recorded(repo, "cluster_merge", batch_key) as s, repo.transaction():
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
