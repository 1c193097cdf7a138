"""Choosing the canonical article of a story, and the role of every other member.

The choice is a lexicographic sort by configurable rules (``DedupConfig.canonical_rules``),
first rule first. The rules, in the order an editor weighs them by default:

``not_killed``           a killed (or withheld) item is never canonical
``original_source``      prefer the agency that published the story first
``corrections_first``    prefer a correction (CORRECTED / CORRECTION tag, or edStat C
                         without another tag): its text fixes what the others got wrong,
                         even when it is a shortened re-send
``complete``             prefer members within 90% of the longest text (not an abridgement)
``latest_version``       prefer versions the agency marked (UPDATE/CORRECTED/REFILE, edStat
                         U/C), the latest first: they supersede the first take. Unmarked
                         copies (reposts, rewrites) gain nothing from being later.
``earliest_first_created``  then the earliest first publication
``most_words``           then the longest text

Ties fall back to the smallest article id so the choice is deterministic. Whatever the
rules, an item a member corrects (``corrects``: an earlier uncorrected item of the same
agency in the story) is never canonical while its correction is live: its text is what the
correction fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from pipeline.model import Member

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COMPLETE_SHARE = 0.9


def _ts(d: datetime | None) -> float:
    return (d or _EPOCH).timestamp()


def _origin_source(members: Sequence[Member]) -> str:
    live = [m for m in members if not m.killed] or list(members)
    first = min(live, key=lambda m: (_ts(m.first_created or m.version_created), m.article_id))
    return first.source


RuleFn = Callable[[Member, dict], float]


def _marked(m: Member) -> bool:
    return bool(m.headline_tag) or m.ed_stat in ("U", "C")


def _corrected(m: Member) -> bool:
    return "CORRECT" in m.headline_tag or (m.ed_stat == "C" and not m.headline_tag)


def is_correction(m: Member) -> bool:
    """The agency marked it a correction (CORRECTED / CORRECTION tag, edStat C)."""
    return _corrected(m)


def corrects(c: Member, m: Member) -> bool:
    """Correction ``c`` replaces ``m``: an earlier uncorrected item of the same agency in
    the same story."""
    return (
        c.article_id != m.article_id
        and c.source == m.source
        and _corrected(c)
        and not _corrected(m)
        and _ts(m.version_created or m.first_created) <= _ts(c.version_created or c.first_created)
    )


def superseded(members: Sequence[Member]) -> set[int]:
    """Ids of the members a live correction in ``members`` corrects."""
    fixes = [c for c in members if not c.killed and _corrected(c)]
    return {m.article_id for m in members if any(corrects(c, m) for c in fixes)}


RULES: dict[str, RuleFn] = {
    "not_killed": lambda m, ctx: 0.0 if m.killed else 1.0,
    "original_source": lambda m, ctx: 1.0 if m.source == ctx["origin"] else 0.0,
    "complete": lambda m, ctx: 1.0 if m.word_count >= COMPLETE_SHARE * ctx["max_words"] else 0.0,
    "corrections_first": lambda m, ctx: 1.0 if _corrected(m) else 0.0,
    "latest_version": lambda m, ctx: (
        _ts(m.version_created or m.first_created) if _marked(m) else float("-inf")
    ),
    "earliest_first_created": lambda m, ctx: -_ts(m.first_created or m.version_created),
    "most_words": lambda m, ctx: float(m.word_count),
}


def choose(members: Sequence[Member], rules: Sequence[str]) -> Member | None:
    """The canonical member, or None when every member is killed."""
    live = [m for m in members if not m.killed]
    if not live:
        return None
    old = superseded(live)
    live = [m for m in live if m.article_id not in old] or live
    ctx = {"origin": _origin_source(members), "max_words": max(m.word_count for m in live)}
    fns = [RULES[r] for r in rules]
    return max(live, key=lambda m: (*(f(m, ctx) for f in fns), -m.article_id))


def role(member: Member, canonical: Member | None) -> str:
    """'canonical', 'version' (same agency, a versioned take of the same story), 'duplicate'."""
    if canonical is None:
        return "duplicate"
    if member.article_id == canonical.article_id:
        return "canonical"
    if member.source == canonical.source and (member.headline_tag or canonical.headline_tag):
        return "version"
    if member.source == canonical.source and member.headline == canonical.headline:
        return "version"
    return "duplicate"
