"""The publish stage: apply the staged layout in one transaction."""

from __future__ import annotations

import logging

from pipeline.stages.batch import load as _batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")


def run(repo: Repository, batch_key: str) -> Summary:
    """Apply the staged layout in one transaction: stories, members, provenance, captions."""
    b = _batch(repo, batch_key)
    with recorded(repo, "publish", batch_key) as s:
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
