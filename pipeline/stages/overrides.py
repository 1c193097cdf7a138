"""Operator corrections: split a member out of a story, merge two stories, keep two stories
apart. Each action is recorded (who, when, why) as a ``story_event`` with the ``override``
rows it adds, applied at once by re-clustering the stories it touches with the pipeline's
own cluster_merge and publish stages, and honoured by every later run because clustering
reads the overrides in force (``pipeline.merge.story.override_links``).

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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.config import DedupConfig
from pipeline.stages import cluster_merge, publish
from pipeline.stages.batch import load
from pipeline.store.store import Store

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


def operator_name(who: str) -> str:
    """A person's name as an action records it."""
    return _clean(who, MAX_WHO) or "operator"


def _check_people(who: str, why: str) -> tuple[str, str]:
    who, why = _clean(who, MAX_WHO), (why or "").strip()[:MAX_WHY]
    if not who:
        raise OverrideError("an action needs the name of the person who takes it")
    if not why:
        raise OverrideError("say why: the reason is kept in the story's history")
    return who, why


def _lock(store: Store, ids: Iterable[int]) -> dict[int, dict]:
    return store.overrides.lock_stories(sorted(set(ids)))


def _live(locked: dict[int, dict], story_id: int) -> dict:
    s = locked.get(story_id)
    if s is None:
        raise OverrideError(f"there is no story s{story_id}")
    if s["merged_into"] is not None:
        raise OverrideError(f"story s{story_id} was merged into s{s['merged_into']}; act there")
    if not s["member_count"]:
        raise OverrideError(f"story s{story_id} has no members left")
    return s


def _members(store: Store, story_id: int) -> list[dict]:
    return store.overrides.members(story_id)


def _anchor(story: dict, members: list[dict]) -> int:
    """The article that stands for a story in a pair constraint: its canonical, or (when
    every member is killed and there is none) its first member."""
    if story["canonical_article_id"] is not None:
        return story["canonical_article_id"]
    return members[0]["article_id"]


def _recluster(store: Store, config: DedupConfig, event_id: int, ids: list[int]) -> None:
    """Re-cluster the stories of ``ids`` now, with the pipeline's own stages, in the
    caller's transaction."""
    config_id = store.batches.config_id(config.fingerprint, config.to_json())
    # a batch of its own, published in this transaction: no pipeline worker sees it open
    batch_id = store.batches.create(f"override-{event_id}", config_id)
    store.batches.add_articles(batch_id, sorted(set(ids)))
    batch = load(store, f"override-{event_id}")
    cluster_merge.run(store, batch, config)
    publish.run(store, batch)
    # A pipeline batch that was already past cluster_merge staged a layout without this
    # action; should it publish after us, the next batch puts things right again.
    if store.batches.count_other_open(batch_id):
        store.batches.mark_pending(sorted(set(ids)))


def _core(store: Store, members: list[int], anchor: int) -> list[int]:
    """The members still tied to ``anchor`` through duplicate pairs and in-force merges
    among ``members`` (which no longer include the article being split out)."""
    links = [(e["a"], e["b"]) for e in store.edges.among(members) if e["verdict"] == "duplicate"]
    links += [
        (o["article_a"], o["article_b"])
        for o in store.overrides.in_force(members)
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


def split(
    store: Store, config: DedupConfig, story_id: int, article_id: int, who: str, why: str
) -> Outcome:
    """Take member ``article_id`` out of story ``story_id``; it becomes a story of its own
    (with whatever copies only it was linked to)."""
    who, why = _check_people(who, why)
    with store.transaction():
        story = _live(_lock(store, [story_id]), story_id)
        members = _members(store, story_id)
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
        event_id = store.overrides.add_event("split", story_id, who, why, article_id=article_id)
        lifted = store.overrides.revoke_between(
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
                store.overrides.add(event_id, "merge", anchor, kept, who, why)
        for other in _core(store, others, anchor):
            store.overrides.add(event_id, "split", article_id, other, who, why)
        _recluster(store, config, event_id, [article_id, *others])
        new_story, new_size = store.overrides.story_of(article_id)
        kept_size = len(_members(store, story_id))
        moved = new_size - 1
        message = (
            f"moved to s{new_story}"
            + (f" with {moved} copy linked only to it" if moved == 1 else "")
            + (f" with {moved} copies linked only to it" if moved > 1 else "")
            + f"; s{story_id} keeps {kept_size} member{'s' if kept_size != 1 else ''}"
        )
        store.overrides.finish_event(event_id, message, other_story_id=new_story)
    return Outcome(event_id, "split", story_id, message)


def _open_pair(
    store: Store, kind: str, story_id: int, other_story_id: int, who: str, why: str
) -> tuple[dict, dict, list[dict], list[dict], int]:
    """Lock two stories (both must be live), read their members and record the event of an
    action on both: (story, other story, their members, event id)."""
    locked = _lock(store, [story_id, other_story_id])
    s, t = _live(locked, story_id), _live(locked, other_story_id)
    ms, mt = _members(store, story_id), _members(store, other_story_id)
    event_id = store.overrides.add_event(kind, story_id, who, why, other_story_id=other_story_id)
    return s, t, ms, mt, event_id


def merge(
    store: Store, config: DedupConfig, story_id: int, other_story_id: int, who: str, why: str
) -> Outcome:
    """Join two stories into one; the canonical is chosen again by the rules."""
    who, why = _check_people(who, why)
    if story_id == other_story_id:
        raise OverrideError("a story cannot be merged with itself")
    with store.transaction():
        s, _, ms, mt, event_id = _open_pair(store, "merge", story_id, other_story_id, who, why)
        ids_s, ids_t = [m["article_id"] for m in ms], [m["article_id"] for m in mt]
        store.overrides.revoke_between(
            event_id=event_id,
            kinds=["split", "never_merge"],
            left=ids_s,
            right=ids_t,
        )
        anchor = _anchor(s, ms)
        for other in ids_s + ids_t:
            if other != anchor:
                store.overrides.add(event_id, "merge", anchor, other, who, why)
        _recluster(store, config, event_id, ids_s + ids_t)
        survivor = store.overrides.live_story(story_id) or story_id
        size = len(_members(store, survivor))
        absorbed = other_story_id if survivor == story_id else story_id
        message = f"s{story_id} and s{other_story_id} are one story, s{survivor} ({size} members)"
        if absorbed != survivor:
            message += f"; s{absorbed} now points to it"
        store.overrides.finish_event(event_id, message, other_story_id=None)
    return Outcome(event_id, "merge", survivor, message)


def never_merge(
    store: Store, config: DedupConfig, story_id: int, other_story_id: int, who: str, why: str
) -> Outcome:
    """Record that two stories are different events: no later copy may join them."""
    who, why = _check_people(who, why)
    if story_id == other_story_id:
        raise OverrideError("a story is always the same as itself; pick another story")
    with store.transaction():
        s, t, ms, mt, event_id = _open_pair(
            store, "never_merge", story_id, other_story_id, who, why
        )
        store.overrides.add(event_id, "never_merge", _anchor(s, ms), _anchor(t, mt), who, why)
        message = f"s{story_id} and s{other_story_id} will never be merged"
        store.overrides.finish_event(event_id, message, other_story_id=None)
    return Outcome(event_id, "never_merge", story_id, message)
