"""The merged record of a story: the text a desk can publish, each paragraph credited.

The record is the canonical article's body, then the paragraphs only other members carry,
then the captions. Rules, as an editor reads them:

* A paragraph is credited to the earliest live item that carries *this wording*, figures
  included: a paragraph whose figure a correction changed belongs to the correction; a
  paragraph identical to an earlier one stays with the earlier carrier (a member of the
  story, or an article of another story a member borrowed it from).
* Furniture (sign-offs, bare datelines, "Read more:", "(With input from ...)", correction
  notes, reporting credits) is never record text.
* A member's paragraph is added only when the record lacks its content: a paraphrase
  (synonym swaps, reordered clauses, "pct"/"percent", "mln"/"million", rounding) of a
  paragraph already there is not new text (``repeats``); text a member borrowed from an
  article of another story is a contribution, listed apart and never merged in.
* A killed item contributes no text; a figure a member's correction replaced never enters
  the record from another member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from pipeline.model import Provenance
from pipeline.text.memo import memo, remember
from pipeline.text.normalize import DATELINE_DASHES, similarity_tokens, split_dateline

SAME_WORDING = 90.0  # rapidfuzz ratio of normalised text: the same wording, lightly edited
REPEAT = 0.6  # 3-gram containment of content: two paragraphs state the same fact
# a member paragraph is new text only when more than half its content is new to the record
# (a reworded lead that adds one clause repeats the lead's fact)
KNOWN = 0.5
MIN_ADDED_WORDS = 8  # shorter member paragraphs are headlines and fragments, not new facts
CONTRIBUTION = "contribution"  # Provenance.kind of text a member borrowed from another story


@dataclass(frozen=True)
class SourceText:
    """One paragraph or caption of one article, in display and similarity form."""

    article_id: int
    ord: int
    text: str
    norm: str


# --- furniture -----------------------------------------------------------------------------

_FURNITURE = re.compile(
    r"^(?:reuters?|xinhua|cgtn|afp|ap)\.?$"  # sign-off
    r"|^(?:read\s+more|also\s+read|related(?:\s+stories)?|see\s+also)\b"
    r"|^\(\s*with\s+(?:additional\s+)?(?:input|reporting)\s+(?:from|by)\b"
    r"|^\(\s*(?:additional\s+)?(?:reporting|writing|editing|compiled)\s+by\b"
    r"|^\(\s*(?:[^()]{0,40}\s)?(?:corrects?|corrected|adds?|updates?|refiles?|recasts?|repeats?)"
    r"\b[^()]*\)\.?$",
    re.I,
)


def is_furniture(text: str) -> bool:
    """Wire furniture rather than story text: a sign-off, a dateline standing alone, a
    "Read more:" line, an attribution, a reporting credit or a correction note."""
    t = " ".join(text.split())
    if not t or _FURNITURE.match(t):
        return True
    # a dateline standing alone ends in its dash: any other paragraph need not be matched
    # against the dateline patterns
    if t[-1] not in DATELINE_DASHES:
        return False
    dateline, rest = split_dateline(t + " ")
    # a dated or credited dateline; "ALL WHEAT -" alone is a table heading, not furniture
    return bool(dateline) and not rest.strip() and any(c.isdigit() or c == "(" for c in t)


# --- content comparison --------------------------------------------------------------------

# one token per meaning for the words wire rewrites swap (after similarity_tokens has
# already spelled out pct, mln and the like)
_SYNONYMS = {
    w: head
    for head, words in {
        "fall": "fell falls falling fallen dropped drop drops declined decline declines "
        "decreased decrease slipped slid eased down lower",
        "rise": "rose rises rising risen increased increase increases climbed climb gained "
        "gain gains jumped up higher",
        "large": "largest biggest big bigger larger top",
        "say": "said says saying stated told according",
        "tonne": "tonnes ton tons t",
        "percent": "per cent pc",
        "company": "firm firms companies",
        "begin": "began begins started starts start",
        "expect": "expected expects expecting forecast forecasts",
    }.items()
    for w in words.split()
}
_STOP_WORDS = (
    "a an the of in on at to for from by with and or but as is was were be been are its it "
    "this that which who than per cent also has have had will would could"
)
_STOP = frozenset(_STOP_WORDS.split())


def _number(tok: str) -> str:
    """Three significant figures: 412,300 and 412,000 (rounding) are one figure."""
    try:
        v = float(tok)
    except ValueError:
        return tok
    r = float(f"{v:.3g}")
    return str(int(r)) if r.is_integer() else str(r)


def _content_word(tok: str) -> str:
    """A similarity token as a content word: its folded number or synonym, "" for a stop
    word."""
    if tok[0].isdigit():
        return _number(tok)
    return "" if tok in _STOP else _SYNONYMS.get(tok, tok)


class _ContentWords(dict):
    """token -> ``_content_word(token)``, each worked out once: the words of a batch's
    paragraphs come from a vocabulary far smaller than their count."""

    LIMIT = 1 << 18  # tokens remembered before starting over (numbers keep coming)

    def __missing__(self, tok: str) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        word = self[tok] = _content_word(tok)
        return word


_CONTENT_WORDS = _ContentWords()
remember(_CONTENT_WORDS.clear)


def content_tokens(text: str) -> list[str]:
    """The content words of a paragraph, dateline cut, synonyms and numbers folded."""
    words = _CONTENT_WORDS
    return [w for w in map(words.__getitem__, similarity_tokens(split_dateline(text)[1])) if w]


# A story's members reprint one another's paragraphs: the same text comes back while one
# story's record is built. A small cache holds that; a large one only keeps sets alive
# for every garbage collection to walk.
@memo(maxsize=512)
def content_grams(text: str) -> frozenset[tuple[str, ...]]:
    toks = content_tokens(text)
    if len(toks) < 3:
        return frozenset((t,) for t in toks)
    return frozenset(zip(toks, toks[1:], toks[2:], strict=False))


def containment(a: frozenset, b: frozenset) -> float:
    """Share of ``a``'s 3-grams that ``b`` has."""
    return len(a & b) / len(a) if a else 0.0


# a record's paragraphs are compared with every later member paragraph: their figures are
# asked for again and again (a frozenset keeps its hash, so a hit is a lookup)
@memo(maxsize=512)
def _figures_of(grams: frozenset) -> frozenset[str]:
    return frozenset(t for g in grams for t in g if t[0].isdigit())


def repeats(a: frozenset, b: frozenset) -> bool:
    """Two paragraphs state the same fact: either's content is mostly in the other, and
    neither states figures the other lacks while lacking some of the other's (two rows of
    a results table, "35.9 mln vs 36.5 mln" and "35.9 mln vs 37.2 mln", are two facts)."""
    # the larger of the two containments: the shared 3-grams over the smaller set
    if not a or not b or len(a & b) / min(len(a), len(b)) < REPEAT:
        return False
    fa, fb = _figures_of(a), _figures_of(b)
    return fa <= fb or fb <= fa


# asked of one paragraph for every paragraph it is compared with (same_wording)
@memo(maxsize=512)
def figures(text: str) -> tuple[str, ...]:
    """The numbers a paragraph states, as printed without thousands separators."""
    return tuple(t for t in similarity_tokens(split_dateline(text)[1]) if t[0].isdigit())


def norm_text(text: str) -> str:
    """The similarity form of a paragraph (``SourceText.norm``): tokens, dateline cut."""
    return " ".join(similarity_tokens(split_dateline(text)[1]))


def same_wording(a: SourceText, b: SourceText) -> bool:
    if a.norm == b.norm:
        return True
    return fuzz.ratio(a.norm, b.norm) >= SAME_WORDING and figures(a.text) == figures(b.text)


def printed_in(p: SourceText, kept: Sequence[SourceText], norms: Sequence[str]) -> bool:
    """Whether a paragraph of ``kept`` (``norms``: their ``norm``) has the wording of ``p``
    (``same_wording``). Only a paragraph within the ratio can, and one rapidfuzz call over
    them all says whether there is any: most paragraphs have none."""
    if not kept:
        return False
    near = process.extractOne(
        p.norm, norms, scorer=fuzz.ratio, processor=None, score_cutoff=SAME_WORDING
    )
    return near is not None and any(same_wording(p, q) for q in kept)


def superseded_figures(original: Sequence[str], correction: Sequence[str]) -> set[str]:
    """Figures of ``original`` that ``correction`` replaced: in a paragraph the correction
    reprints with other figures, the figures the correction no longer prints."""
    out: set[str] = set()
    fixed = [(c, figures(c)) for c in correction]
    for p in original:
        old = figures(p)
        if not old:
            continue
        for c, new in fixed:
            if old != new and fuzz.ratio(p, c) >= SAME_WORDING - 10:
                out |= set(old) - set(new)
    # a figure the correction still prints elsewhere is not one it replaced
    return out - {f for _, new in fixed for f in new}


# --- the record ----------------------------------------------------------------------------


def paragraphs(
    canonical: int | None,
    order: Sequence[int],
    by_member: dict[int, list[SourceText]],
    lenders: dict[int, list[SourceText]] | None = None,
    timeline: Sequence[int] = (),
    killed: Iterable[int] = (),
    superseded: Iterable[str] = (),
) -> list[Provenance]:
    """The record's paragraphs, then the contributions (kind ``contribution``).

    ``order``: member ids earliest first; ``lenders``: paragraphs of articles of other
    stories members borrowed from; ``timeline``: every member and lender id, earliest
    first (default ``order``); ``killed``: members whose text is not to be used;
    ``superseded``: figures a member's correction replaced."""
    dead = set(killed)
    lenders = {a: t for a, t in (lenders or {}).items() if a not in dead}
    live = {a: t for a, t in by_member.items() if a not in dead}
    line = [a for a in (list(timeline) or list(order)) if a not in dead]
    line += [a for a in (*order, *lenders) if a not in line and a not in dead]
    texts = {**lenders, **live}
    stale = set(superseded)
    out: list[Provenance] = []
    grams: list[frozenset] = []
    known: frozenset = frozenset()  # every 3-gram of the record so far
    # canonical paragraphs whose 3-grams no member paragraph has needed yet: most stories
    # have one member, and their record never compares content
    unread: list[str] = []
    lender_grams: dict[int, list[tuple[SourceText, frozenset]]] | None = None
    lent: list[Provenance] = []
    printed: set[str] = set()  # the record's paragraph texts

    def credit(p: SourceText) -> tuple[int, int]:
        """(article, its paragraph ord): the earliest carrier of this wording."""
        for aid in line:
            if aid == p.article_id:
                return p.article_id, p.ord
            for q in texts.get(aid, ()):
                if same_wording(p, q):
                    return aid, q.ord
        return p.article_id, p.ord

    def add(p: SourceText, g: frozenset | None, in_canonical: bool) -> None:
        nonlocal known
        who, src_ord = credit(p)
        out.append(Provenance("paragraph", len(out), p.text, who, src_ord, in_canonical))
        printed.add(p.text)
        if g is None:
            unread.append(p.text)
        else:
            grams.append(g)
            known |= g

    def catch_up() -> None:
        nonlocal known
        for t in unread:
            g = content_grams(t)
            grams.append(g)
            known |= g
        unread.clear()

    if canonical is not None and canonical not in dead:
        kept: list[SourceText] = []
        kept_norms: list[str] = []
        for p in live.get(canonical, []):
            # a paragraph the canonical itself prints twice is printed once (not a short
            # line such as a table heading, which a long table repeats on purpose)
            twice = len(p.norm.split()) >= MIN_ADDED_WORDS and printed_in(p, kept, kept_norms)
            if not is_furniture(p.text) and not twice:
                kept.append(p)
                kept_norms.append(p.norm)
                add(p, None, True)
    for mid in order:
        if mid == canonical:
            continue
        for p in live.get(mid, []):
            if len(p.norm.split()) < MIN_ADDED_WORDS or is_furniture(p.text):
                continue
            if stale and stale & set(figures(p.text)):
                continue
            g = content_grams(p.text)
            # a paragraph the record prints word for word repeats it (if it has content to
            # repeat): no need to read the record's paragraphs to know; most members of a
            # story are reprints
            if g and p.text in printed:
                continue
            catch_up()
            if any(repeats(g, h) for h in grams) or containment(g, known) >= KNOWN:
                continue
            if lender_grams is None:
                lender_grams = {
                    a: [(q, content_grams(q.text)) for q in t] for a, t in lenders.items()
                }
            source = next(
                ((a, q) for a, qs in lender_grams.items() for q, h in qs if repeats(g, h)), None
            )
            if source is not None:
                a, q = source
                if all(x.article_id != a or x.source_ord != q.ord for x in lent):
                    lent.append(Provenance(CONTRIBUTION, len(lent), q.text, a, q.ord, False))
                continue
            add(p, g, False)
    return out + lent


def captions(
    canonical: int | None,
    order: Sequence[int],
    by_member: dict[int, list[SourceText]],
    killed: Iterable[int] = (),
) -> list[Provenance]:
    """Distinct captions of the story, canonical's first, each credited to the earliest
    live member printing it (exact normalised text; near-identical edits are separate
    entries because the export lists every distinct text with its photo group)."""
    dead = set(killed)
    live_order = [m for m in order if m not in dead]
    seen: set[str] = set()
    first_carrier: dict[str, tuple[int, int]] = {}
    for mid in live_order:
        for c in by_member.get(mid, []):
            first_carrier.setdefault(c.norm, (mid, c.ord))
    head = [canonical] if canonical is not None and canonical not in dead else []
    out: list[Provenance] = []
    for mid in head + [m for m in live_order if m != canonical]:
        for c in by_member.get(mid, []):
            if c.norm in seen:
                continue
            seen.add(c.norm)
            who, src_ord = first_carrier[c.norm]
            out.append(Provenance("caption", len(out), c.text, who, src_ord, mid == canonical))
    return out


def kind(p: Provenance) -> str:
    """The record kind of a provenance row: canonical, added, caption or contribution."""
    if p.kind == "paragraph":
        return "canonical" if p.in_canonical else "added"
    return p.kind
