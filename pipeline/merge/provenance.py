"""Paragraph and caption provenance of a story's merged record.

The merged record is the canonical article's body, each paragraph credited to the earliest
member that carries it (the original, when a later copy reprinted it), followed by
paragraphs that only other members carry (an update's added paragraph, another agency's
extra detail), each credited to the member it comes from, or to the article of another
story it was borrowed from. Captions are the union over members, credited the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from pipeline.model import Provenance

SAME_PARAGRAPH = 90.0  # rapidfuzz ratio: the same paragraph, lightly edited
COVERED = 75.0  # a rewrite of a paragraph already in the record does not add new text


@dataclass(frozen=True)
class SourceText:
    """One paragraph or caption of one article, in display and similarity form."""

    article_id: int
    ord: int
    text: str
    norm: str


def _best(query: str, pool: Sequence[SourceText]) -> tuple[int, float]:
    if not pool or not query:
        return -1, 0.0
    hit = process.extractOne(query, [p.norm for p in pool], scorer=fuzz.ratio)
    if hit is None:
        return -1, 0.0
    return hit[2], float(hit[1])


def paragraphs(
    canonical: int | None,
    order: Sequence[int],
    by_member: dict[int, list[SourceText]],
    borrowed_from: dict[int, list[SourceText]] | None = None,
    borrowed_order: Sequence[int] = (),
) -> list[Provenance]:
    """``order``: member ids earliest first; ``borrowed_from``: paragraphs of contributor
    articles (of other stories) that members may have borrowed; ``borrowed_order`` merges
    those articles into the time order (ids earliest first, members and contributors)."""
    borrowed_from = borrowed_from or {}
    # one time line of every article a paragraph can be credited to
    timeline = list(borrowed_order) or list(order)
    timeline += [a for a in (*order, *borrowed_from) if a not in timeline]
    texts = {**borrowed_from, **by_member}
    out: list[Provenance] = []
    included: list[SourceText] = []

    def credit(p: SourceText) -> tuple[int, int]:
        """(article, its paragraph ord): the earliest article, of the story or one it
        borrowed from, that carries this paragraph."""
        for aid in timeline:
            if aid == p.article_id:
                return p.article_id, p.ord
            idx, score = _best(p.norm, texts.get(aid, []))
            if score >= SAME_PARAGRAPH:
                return aid, texts[aid][idx].ord
        return p.article_id, p.ord

    def add(p: SourceText, in_canonical: bool) -> None:
        who, src_ord = credit(p)
        out.append(
            Provenance(
                kind="paragraph",
                ord=len(out),
                text=p.text,
                article_id=who,
                source_ord=src_ord,
                in_canonical=in_canonical,
            )
        )
        included.append(p)

    if canonical is not None:
        for p in by_member.get(canonical, []):
            add(p, True)
    for mid in order:
        if mid == canonical:
            continue
        for p in by_member.get(mid, []):
            if len(p.norm.split()) < 8:
                continue
            _, score = _best(p.norm, included)
            if score < COVERED:
                add(p, False)
    return out


def captions(
    canonical: int | None,
    order: Sequence[int],
    by_member: dict[int, list[SourceText]],
) -> list[Provenance]:
    """Distinct captions of the story, canonical's first, each credited to the earliest
    member printing it (exact normalised text; near-identical edits are separate entries
    because the export lists every distinct text with its photo group)."""
    seen: dict[str, int] = {}
    first_carrier: dict[str, tuple[int, int]] = {}
    for mid in order:
        for c in by_member.get(mid, []):
            first_carrier.setdefault(c.norm, (mid, c.ord))
    sequence = ([canonical] if canonical is not None else []) + [m for m in order if m != canonical]
    out: list[Provenance] = []
    for mid in sequence:
        for c in by_member.get(mid, []):
            if c.norm in seen:
                continue
            seen[c.norm] = len(out)
            who, src_ord = first_carrier[c.norm]
            out.append(
                Provenance(
                    kind="caption",
                    ord=len(out),
                    text=c.text,
                    article_id=who,
                    source_ord=src_ord,
                    in_canonical=mid == canonical,
                )
            )
    return out
