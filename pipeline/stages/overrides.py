"""Operator corrections: split a member out of a story, merge two stories, keep two stories
apart. Each action is recorded (who, when, why) as a ``story_event`` with the ``override``
rows it adds, applied at once by re-clustering the stories it touches with the pipeline's
own cluster/merge/publish stages, and honoured by every later run because clustering reads
the overrides in force (``pipeline.stages.cluster_merge``).

What each action stores, so that later runs cannot undo it:

``split X out of S``  a cannot-link between X and every member of S's *core*: the members
    still connected to S's canonical without X (through verified duplicate pairs and operator
    merges). Banning X only from the canonical would not do: X could come back through an
    edge to any other member (or drag that member out with it), and the canonical itself may
    change with the next version. Copies that were in S only through X leave with it.
    Merges that tied X to S are lifted; a member such a merge also held in S (a story merged
    in through X) is re-tied to S's canonical, so it stays.
``merge S and T``     must-links from S's canonical to every other member of both stories
    (clustering applies must-links before any edge, and keeps them after refining), so a
    verified conflict between two members (say, figures that differ) does not leave one
    behind: the operator has judged the stories as wholes. Splits and never-merges between
    the two stories are lifted.
``never merge S, T``  a cannot-link between the two canonicals: whatever later copies arrive,
    the group holding one can never join the group holding the other.

No psycopg here: every statement is a named query of sql/queries/dashboard.sql.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.config import DedupConfig
from pipeline.stages import cluster_merge, publish
from pipeline.stages.ingest import ingest_pending
from pipeline.store.repository import Repository

MAX_WHY = 2000
MAX_WHO = 200


class OverrideError(ValueError):
    """An action that cannot be applied, with a one-line reason for the operator."""


@dataclass(frozen=True)
class Outcome:
    event_id: int
    kind: str
    story_id: int  # the story to show afterwards
    message: str


def _clean(text: str, limit: int) -> str:
    return " ".join((text or "").split())[:limit]


def _check_people(who: str, why: str) -> tuple[str, str]:
    who, why = _clean(who, MAX_WHO), (why or "").strip()[:MAX_WHY]
    if not who:
        raise OverrideError("an action needs the name of the person who takes it")
    if not why:
        raise OverrideError("say why: the reason is kept in the story's history")
    return who, why


def live_story(repo: Repository, story_id: int) -> int | None:
    """The story that now holds ``story_id`` (itself, or the story it was merged into)."""
    row = repo.one("ovr_live_story", id=story_id)
    return row["id"] if row else None


def _lock(repo: Repository, ids: Iterable[int]) -> dict[int, dict]:
    rows = repo.rows("ovr_lock_stories", ids=sorted(set(ids)))
    return {r["id"]: r for r in rows}


def _live(locked: dict[int, dict], story_id: int) -> dict:
    s = locked.get(story_id)
    if s is None:
        raise OverrideError(f"there is no story s{story_id}")
    if s["merged_into"] is not None:
        raise OverrideError(f"story s{story_id} was merged into s{s['merged_into']}; act there")
    if not s["member_count"]:
        raise OverrideError(f"story s{story_id} has no members left")
    return s


def _members(repo: Repository, story_id: int) -> list[dict]:
    return repo.rows("ovr_story_members", story_id=story_id)


def _anchor(story: dict, members: list[dict]) -> int:
    """The article that stands for a story in a pair constraint: its canonical, or (when
    every member is killed and there is none) its first member."""
    if story["canonical_article_id"] is not None:
        return story["canonical_article_id"]
    return members[0]["article_id"]


def _event(repo, kind, story_id, who, why, other_story_id=None, article_id=None) -> int:
    return repo.one(
        "ovr_insert_event",
        kind=kind,
        story_id=story_id,
        other_story_id=other_story_id,
        article_id=article_id,
        who=who,
        why=why,
    )["id"]


def _override(repo, event_id, kind, a, b, who, why) -> None:
    repo.run_sql(
        "ovr_insert_override",
        kind=kind,
        article_a=a,
        article_b=b,
        who=who,
        why=why,
        event_id=event_id,
    )


def _recluster(repo: Repository, config: DedupConfig, event_id: int, ids: list[int]) -> None:
    """Re-cluster the stories of ``ids`` now, with the pipeline's own stages, in the
    caller's transaction."""
    config_id = repo.config_id(config.fingerprint, config.to_json())
    b = repo.one("ovr_create_batch", key=f"override-{event_id}", config_id=config_id)
    repo.run_sql("ovr_batch_articles", batch_id=b["id"], ids=sorted(set(ids)))
    cluster_merge.run(repo, b["key"], config)
    publish.run(repo, b["key"])
    # A pipeline batch that was already past cluster_merge staged a layout without this
    # action; should it publish after us, the next batch puts things right again.
    if repo.one("ovr_open_batches", own=b["id"])["n"]:
        repo.run_sql("ovr_mark_pending", ids=sorted(set(ids)))


def _core(repo: Repository, members: list[int], anchor: int) -> list[int]:
    """The members still tied to ``anchor`` through duplicate pairs and in-force merges
    among ``members`` (which no longer include the article being split out)."""
    links = [
        (e["a"], e["b"])
        for e in repo.rows("edges_among", ids=members)
        if e["verdict"] == "duplicate"
    ]
    links += [
        (o["article_a"], o["article_b"])
        for o in repo.rows("overrides_touching", ids=members)
        if o["kind"] == "merge"
    ]
    return component(anchor, members, links)


def component(anchor: int, nodes: list[int], links: list[tuple[int, int]]) -> list[int]:
    """The nodes reachable from ``anchor`` over ``links`` that stay among ``nodes``."""
    inside = set(nodes)
    nbrs: dict[int, set[int]] = {n: set() for n in nodes}
    for a, b in links:
        if a in inside and b in inside:
            nbrs[a].add(b)
            nbrs[b].add(a)
    seen, todo = {anchor}, [anchor]
    while todo:
        for n in nbrs.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return sorted(seen)


def _story_of(repo: Repository, article_id: int) -> tuple[int | None, int]:
    row = repo.one("ovr_story_of", id=article_id)
    return (row["story_id"], row["member_count"]) if row else (None, 0)


def split(
    repo: Repository, config: DedupConfig, story_id: int, article_id: int, who: str, why: str
) -> Outcome:
    """Take member ``article_id`` out of story ``story_id``; it becomes a story of its own
    (with whatever copies only it was linked to)."""
    who, why = _check_people(who, why)
    with repo.transaction():
        story = _live(_lock(repo, [story_id]), story_id)
        members = _members(repo, story_id)
        ids = [m["article_id"] for m in members]
        if article_id not in ids:
            raise OverrideError(f"article {article_id} is not a member of story s{story_id}")
        if len(ids) < 2:
            raise OverrideError(f"story s{story_id} has a single member; nothing to split")
        canonical = story["canonical_article_id"]
        if article_id == canonical:
            raise OverrideError(
                "the canonical article cannot be split out; split the other members, or "
                "merge them into the right story"
            )
        others = [i for i in ids if i != article_id]
        event_id = _event(repo, "split", story_id, who, why, article_id=article_id)
        lifted = repo.rows(
            "ovr_revoke_between",
            event_id=event_id,
            kinds=["merge"],
            left=[article_id],
            right=others,
        )
        # members that only an operator merge through this article held in the story
        anchor = canonical if canonical is not None else others[0]
        for o in lifted:
            kept = o["article_b"] if o["article_a"] == article_id else o["article_a"]
            if kept != anchor:
                _override(repo, event_id, "merge", anchor, kept, who, why)
        for other in _core(repo, others, anchor):
            _override(repo, event_id, "split", article_id, other, who, why)
        _recluster(repo, config, event_id, [article_id, *others])
        new_story, new_size = _story_of(repo, article_id)
        kept_size = len(_members(repo, story_id))
        moved = new_size - 1
        message = (
            f"moved to s{new_story}"
            + (f" with {moved} copy linked only to it" if moved == 1 else "")
            + (f" with {moved} copies linked only to it" if moved > 1 else "")
            + f"; s{story_id} keeps {kept_size} member{'s' if kept_size != 1 else ''}"
        )
        repo.run_sql("ovr_finish_event", id=event_id, outcome=message, other_story_id=new_story)
    return Outcome(event_id, "split", story_id, message)


def merge(
    repo: Repository, config: DedupConfig, story_id: int, other_story_id: int, who: str, why: str
) -> Outcome:
    """Join two stories into one; the canonical is chosen again by the rules."""
    who, why = _check_people(who, why)
    if story_id == other_story_id:
        raise OverrideError("a story cannot be merged with itself")
    with repo.transaction():
        locked = _lock(repo, [story_id, other_story_id])
        s = _live(locked, story_id)
        _live(locked, other_story_id)  # refuses a story that is gone
        ms, mt = _members(repo, story_id), _members(repo, other_story_id)
        event_id = _event(repo, "merge", story_id, who, why, other_story_id=other_story_id)
        ids_s, ids_t = [m["article_id"] for m in ms], [m["article_id"] for m in mt]
        repo.rows(
            "ovr_revoke_between",
            event_id=event_id,
            kinds=["split", "never_merge"],
            left=ids_s,
            right=ids_t,
        )
        anchor = _anchor(s, ms)
        for other in ids_s + ids_t:
            if other != anchor:
                _override(repo, event_id, "merge", anchor, other, who, why)
        _recluster(repo, config, event_id, ids_s + ids_t)
        survivor = live_story(repo, story_id) or story_id
        size = len(_members(repo, survivor))
        absorbed = other_story_id if survivor == story_id else story_id
        message = f"s{story_id} and s{other_story_id} are one story, s{survivor} ({size} members)"
        if absorbed != survivor:
            message += f"; s{absorbed} now points to it"
        repo.run_sql("ovr_finish_event", id=event_id, outcome=message, other_story_id=None)
    return Outcome(event_id, "merge", survivor, message)


def never_merge(
    repo: Repository, config: DedupConfig, story_id: int, other_story_id: int, who: str, why: str
) -> Outcome:
    """Record that two stories are different events: no later copy may join them."""
    who, why = _check_people(who, why)
    if story_id == other_story_id:
        raise OverrideError("a story is always the same as itself; pick another story")
    with repo.transaction():
        locked = _lock(repo, [story_id, other_story_id])
        s, t = _live(locked, story_id), _live(locked, other_story_id)
        ms, mt = _members(repo, story_id), _members(repo, other_story_id)
        event_id = _event(repo, "never_merge", story_id, who, why, other_story_id=other_story_id)
        _override(repo, event_id, "never_merge", _anchor(s, ms), _anchor(t, mt), who, why)
        message = f"s{story_id} and s{other_story_id} will never be merged"
        repo.run_sql("ovr_finish_event", id=event_id, outcome=message, other_story_id=None)
    return Outcome(event_id, "never_merge", story_id, message)


def requeue(repo: Repository, payload_id: int, who: str) -> dict:
    """Re-queue one quarantined payload and parse it again now; its items wait for the
    next dedup batch like any new arrival."""
    who = _clean(who, MAX_WHO) or "operator"
    with repo.transaction():
        done = repo.rows(
            "dash_requeue_payload", payload_id=payload_id, resolution=f"requeued by {who}"
        )
    if not done:
        raise OverrideError(f"payload {payload_id} has no open quarantine entry")
    s = ingest_pending(repo, payload_ids=[payload_id])
    return dict(s.counts)
