"""The review queue: the article pairs verification was least sure of, for an operator to
judge, and the decision applied as an ordinary story action.

In the queue: the pairs verification kept apart (``conflict``: alike but another edition,
other figures, another entity; ``distinct``) although their text reaches within ``NEAR`` of
a threshold (Jaccard ``jaccard_min - NEAR`` or containment ``containment_min - NEAR``),
newest first, until someone decides. A conflict with less text in common is a template
lookalike kept apart by its slots (most conflicts are: 1,649 of the dev set's 1,722 name
another company in a shared template), not a doubt.

A decision is one of the existing overrides, so later runs honour it the same way:

``same``   the two stories are merged (nothing to do when they already are one);
``apart``  two stories: never merged; one story: the non-canonical article of the two
           is split out of it.

The pair is then recorded as decided (who, why, what happened) and leaves the queue, also
when a rebuild re-verifies it later.
"""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.stages import overrides
from pipeline.stages.overrides import Outcome, OverrideError
from pipeline.store.store import Store

NEAR = 0.15  # how far under a threshold a 'distinct' pair is still worth a look
DECISIONS = ("same", "apart")
MAX_QUEUE = 500


def floors(config: DedupConfig) -> dict[str, float]:
    """The text scores from which a pair kept apart is near enough a threshold to review."""
    return {
        "jaccard": round(config.jaccard_min - NEAR, 4),
        "containment": round(config.containment_min - NEAR, 4),
    }


def queue(store: Store, config: DedupConfig, limit: int = 50) -> list[dict]:
    """Undecided doubtful pairs, newest first (at most ``limit``, capped at MAX_QUEUE)."""
    return store.review.queue(limit=max(1, min(limit, MAX_QUEUE)), **floors(config))


def count(store: Store, config: DedupConfig) -> int:
    return store.review.count(**floors(config))


def pair(store: Store, a: int, b: int) -> dict:
    """The verified pair of two articles (in either order); OverrideError when there is none."""
    lo, hi = min(a, b), max(a, b)
    row = store.review.pair(lo, hi)
    if row is None or lo == hi:
        raise OverrideError(f"articles {a} and {b} were never verified as a pair")
    return row


def decide(
    store: Store, config: DedupConfig, a: int, b: int, decision: str, who: str, why: str
) -> Outcome:
    """Apply an operator's judgement of a pair (``same`` or ``apart``) and take the pair off
    the queue. Returns the outcome to show (the story to look at next)."""
    if decision not in DECISIONS:
        raise OverrideError(f"decide 'same' or 'apart', not {decision[:20]!r}")
    if not (why or "").strip():
        raise OverrideError("say why: the reason is kept with the decision and the stories")
    with store.transaction():
        p = pair(store, a, b)
        if p["decision"] is not None:
            raise OverrideError(
                f"this pair was already judged '{p['decision']}' by {p['who']}: {p['outcome']}"
            )
        sa, sb = p["a_story"], p["b_story"]
        if sa is None or sb is None:
            raise OverrideError(
                "an article of this pair is in no story yet; decide after the next dedup batch"
            )
        out = _apply(store, config, p, decision, who, why)
        event_id = out.event_id if out.event_id else None
        store.review.record(
            p["a"],
            p["b"],
            decision,
            event_id,
            overrides.operator_name(who),
            why.strip()[: overrides.MAX_WHY],
            out.message,
        )
    return out


def _apply(
    store: Store, config: DedupConfig, p: dict, decision: str, who: str, why: str
) -> Outcome:
    sa, sb = p["a_story"], p["b_story"]
    if decision == "same":
        if sa == sb:
            return Outcome(0, "review", sa, f"already one story, s{sa}; nothing changed")
        return overrides.merge(store, config, sa, sb, who, why)
    if sa != sb:
        return overrides.never_merge(store, config, sa, sb, who, why)
    # one story holds both: the one that is not its canonical leaves it
    canonical = next(
        (m["article_id"] for m in store.overrides.members(sa) if m["role"] == "canonical"),
        None,
    )
    leaving = p["a"] if p["b"] == canonical else p["b"]
    return overrides.split(store, config, sa, leaving, who, why)
