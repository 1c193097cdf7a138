"""Verification of LSH candidates: exact scores, a verdict, and a reason a human can read.

LSH only proposes pairs. Each proposal is decided here on two kinds of evidence.

How much text the two share (``score``):

* ``jaccard``: word-shingle Jaccard of the two story texts (captions, datelines, trailers,
  sign-offs, Read-more blocks and attributions already removed upstream);
* ``containment``: the share of the shorter text's shingles found in the longer one, which
  is what an abridged reprint or an expanded update keeps high while Jaccard drops;
* ``para_overlap``: the share of the shorter text's substantial paragraphs that have a
  near-identical paragraph anywhere in the other text (rapidfuzz), insensitive to order;
* ``fuzz``: rapidfuzz token-set ratio of the whole texts (robust to synonym swaps);
* ``template_containment``: containment once figures, dates and names are masked: how
  far the two share one template.

And what differs (``pipeline.dedup.slots``): the entity (tickers, the headline's subject),
the dates a report covers, the figures, and the occasion (how far apart they were
published). Text says "these look alike"; slots say whether they are about the same thing.

Verdicts:

``duplicate``    the same story
``contributor``  different stories, one borrows at least one paragraph of the other:
                 credited in provenance, never merged
``distinct``     different stories
``conflict``     different stories that look alike and must never share a story, even
                 through a third article similar to both:
                 * the same template about another entity ("issuer differs");
                 * another edition of a recurring report: published on another day, or
                   covering another period, with other figures; or a short report of
                   figures, naming no day of its own, sent days later under a dateline
                   of another day;
                 * two first takes of one agency that marks its versions (NewsML-G2
                   edStat/headline tags) without any version marker or lineage link
                   between them: agencies re-file a story as UPDATE/CORRECTED/REFILE,
                   so two unmarked takes are two stories (unless byte-for-byte repeats).

A correction may change any slot (that is what it is for), so a correction is judged on
its text alone. ``score`` (pure measurement) and ``judge`` (thresholds) are separate so
thresholds can be tuned on stored scores without recomputing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.config import DedupConfig
from pipeline.dedup import slots as slotting
from pipeline.dedup.minhash import shingle_sets
from pipeline.dedup.slots import Slots
from pipeline.model import Edge

# A paragraph shorter than this (in tokens) is not evidence of shared text on its own.
MIN_PARAGRAPH_TOKENS = 8
PARAGRAPH_MATCH_SCORE = 85.0
# One matched paragraph decides only when it is most of the shorter text and this long.
LONE_PARAGRAPH_TOKENS = 25
# Two unmarked first takes this similar are one story sent twice, not two stories.
REPEAT_JACCARD = 0.9
# Texts this alike once figures, dates and names are masked are one template; what fills
# the template then decides.
TEMPLATE_CONTAINMENT = 0.8
# The least shared wording for two items with the same entity and figures on one occasion
# (a rewrite, a reformatted table) to be one story.
FACTS_CONTAINMENT = 0.3
# One entity's items of one template on one day are the takes of a running report.
RUNNING_TEMPLATE = 0.7
# Leads this alike (token-set ratio) say the same news.
LEAD_SIMILARITY = 80.0
LEAD_TOKENS = 12
# A table: at least this many figures, and this many per token.
TABLE_FIGURES = 4
TABLE_DENSITY = 0.15
# A correction may change any slot, but its text must still be mostly the item it corrects.
CORRECTION_CONTAINMENT = 0.5
_EMPTY = np.empty(0, np.uint32)
# "(Corrects March 17 item to show ...)", "(In March 17 story, corrects ...)",
# "-- First Boston corrects that it, not Mellon, is selling", a paragraph opening "Correction:"
_CORRECTION_NOTE = re.compile(
    r"\(\s*(?:[^()]{0,60}\s)?corrects?\b[^()]*\)"
    r"|--\s*[^-]{0,80}?\bcorrects\b"
    r"|^\s*correct(?:s|ion|ed)\b",
    re.I,
)


@dataclass(frozen=True)
class Meta:
    """Wire metadata that changes how similar texts are judged."""

    source: str = ""
    item_id: str = ""
    ed_stat: str = ""  # NewsML-G2 editorial status of the first version; "" without one
    headline_tag: str = ""  # the first version's UPDATE 1 / CORRECTED / REFILE ...
    lineage: frozenset[str] = frozenset()  # guids this item derives from
    headline: str = ""  # the latest headline, version tags removed
    published: datetime | None = None  # when the item was first published
    corrected: bool = False  # a correction: CORRECTED tag or a correction note
    dated: tuple[int, int] | None = None  # (month, day) its dateline names, when it names one

    @property
    def first_take(self) -> bool:
        """A take that its agency marks as new: editorial status N (or a kill of one),
        no version tag in the headline. Only meaningful when the format has edStat."""
        return bool(self.ed_stat) and self.ed_stat in ("N", "D") and not self.headline_tag


def is_correction(tag: str, texts: tuple[str, ...] | list[str] = ()) -> bool:
    """A correction by its headline tag or by a correction note in its body
    ("(Corrects March 17 item ...)", "-- First Boston corrects that ...")."""
    if "CORRECT" in tag.upper():
        return True
    # every form of the note spells "correct": most texts are ruled out without the pattern
    return any("correct" in t.lower() and _CORRECTION_NOTE.search(t) for t in texts)


@dataclass(frozen=True)
class Features:
    """What verification needs of one article, computed once per article per batch."""

    article_id: int
    paragraphs: tuple[str, ...]  # similarity form of each body paragraph
    shingles: np.ndarray  # sorted unique uint32 shingle hashes of the whole story text
    tokens: int
    meta: Meta = Meta()
    # shingles of the text with figures, dates and names masked
    template: np.ndarray = field(default_factory=lambda: _EMPTY)
    slots: Slots = field(default_factory=Slots)
    lead: str = ""  # the opening words, where a wire story puts its news

    @property
    def table(self) -> bool:
        """Mostly figures: an earnings table, a market report; its figures are its story."""
        return len(self.slots.figures) >= TABLE_FIGURES and (
            len(self.slots.figures) >= TABLE_DENSITY * self.tokens
        )

    @cached_property
    def text(self) -> str:
        return " ".join(self.paragraphs)

    @cached_property
    def substantial(self) -> tuple[tuple[str, int], ...]:
        """(paragraph, its token count) of each paragraph long enough to be evidence."""
        counted = ((p, len(p.split())) for p in self.paragraphs)
        return tuple((p, n) for p, n in counted if n >= MIN_PARAGRAPH_TOKENS)


def features(
    article_id: int,
    paragraphs: list[str],
    config: DedupConfig,
    meta: Meta | None = None,
    texts: list[str] | None = None,
) -> Features:
    """``paragraphs``: body paragraphs in similarity form; ``texts``: the same paragraphs
    as printed (dateline cut), where names show by case. Without ``texts`` the slots are
    read from the similarity form (figures and dates only)."""
    return hashed([unhashed(article_id, paragraphs, meta, texts)], config)[0]


def unhashed(
    article_id: int,
    paragraphs: list[str],
    meta: Meta | None = None,
    texts: list[str] | None = None,
) -> Features:
    """``features`` but for the shingle sets, which ``hashed`` adds to many at once."""
    meta = meta or Meta()
    paras = tuple(p for p in paragraphs if p)
    shown = [t for t in (texts if texts is not None else paras) if t]
    return Features(
        article_id=article_id,
        paragraphs=paras,
        shingles=_EMPTY,
        tokens=len(" ".join(paras).split()),
        meta=meta,
        slots=slotting.slots(meta.headline, shown),
        lead=lead(paras),
    )


def hashed(items: list[Features], config: DedupConfig) -> list[Features]:
    """The features with the shingle sets of their text and template, hashed in one call:
    called per article, the kernels' fixed cost per call was half the hashing's."""
    texts = [t for f in items if f.paragraphs for t in (f.text, f.slots.template)]
    sets = iter(shingle_sets(texts, config.shingle_size))
    # an article without text keeps empty sets, as its shingles would be
    return [
        replace(f, shingles=next(sets), template=next(sets)) if f.paragraphs else f for f in items
    ]


def lead(paragraphs: tuple[str, ...]) -> str:
    """The first paragraphs, until LEAD_TOKENS tokens (a table's first line is too short)."""
    out: list[str] = []
    n = 0
    for p in paragraphs:
        out.append(p)
        n += len(p.split())
        if n >= LEAD_TOKENS:
            break
    return " ".join(out)


@dataclass(frozen=True)
class Scores:
    jaccard: float
    containment: float
    para_overlap: float  # share of the shorter side's substantial paragraphs matched
    matched: int  # how many substantial paragraphs matched
    fuzz: float
    figures_shared: int
    figures_compared: int  # figures on the side with fewer
    template_containment: float = 0.0  # containment with figures, dates and names masked
    lone_paragraph: bool = False  # the match is one long paragraph, most of the shorter text
    entity: str = slotting.UNKNOWN  # same / differ / unknown
    entity_detail: str = ""
    dates_differ: bool = False
    hours_apart: float | None = None  # between first publications; None when unknown
    lead_similarity: float = 0.0  # rapidfuzz token-set ratio of the two leads
    tokens: tuple[int, int] = (0, 0)  # length of each text
    tables: bool = False  # both are mostly figures
    undated: bool = False  # neither text names a day or period of its own

    @property
    def figures(self) -> slotting.FigureAgreement:
        return slotting.FigureAgreement(self.figures_shared, self.figures_compared)


def paragraph_overlap(a: Features, b: Features) -> tuple[float, int, bool]:
    """(share of the shorter side's substantial paragraphs matched, matched count, whether
    the match is one long paragraph that is most of the shorter text)."""
    short, long_ = (a, b) if len(a.paragraphs) <= len(b.paragraphs) else (b, a)
    sp, lp = short.substantial, long_.substantial
    if not sp or not lp:
        return 0.0, 0, False
    # below the cutoff a score reads 0: whether it reaches the cutoff is all that is asked
    scores = process.cdist(
        [p for p, _ in sp],
        [p for p, _ in lp],
        scorer=fuzz.ratio,
        score_cutoff=PARAGRAPH_MATCH_SCORE,
        workers=1,
    )
    hit = scores.max(axis=1) >= PARAGRAPH_MATCH_SCORE
    matched = int(hit.sum())
    lone = False
    if matched == 1 and short.tokens:
        words = sp[int(np.argmax(hit))][1]
        lone = words >= LONE_PARAGRAPH_TOKENS and words >= short.tokens / 2
    return matched / len(sp), matched, lone


def _shared(a: np.ndarray, b: np.ndarray) -> int:
    """How many values two sorted unique arrays share: each of the smaller one looked up
    in the larger one by bisection, cheaper than sorting the two together."""
    if a.size == 0 or b.size == 0:
        return 0
    if a.size > b.size:
        a, b = b, a
    at = np.searchsorted(b, a)
    np.minimum(at, b.size - 1, out=at)
    return int(np.count_nonzero(b[at] == a))


def score(a: Features, b: Features) -> Scores:
    inter = _shared(a.shingles, b.shingles)
    union = a.shingles.size + b.shingles.size - inter
    small = min(a.shingles.size, b.shingles.size)
    overlap, matched, lone = paragraph_overlap(a, b)
    t_inter = _shared(a.template, b.template)
    t_small = min(a.template.size, b.template.size)
    compared = slotting.compare(a.slots, b.slots)
    figs = compared.figures
    ent, why = slotting.entity(a.slots, b.slots)
    pa, pb = a.meta.published, b.meta.published
    return Scores(
        jaccard=inter / union if union else 0.0,
        containment=inter / small if small else 0.0,
        para_overlap=overlap,
        matched=matched,
        fuzz=fuzz.token_set_ratio(a.text, b.text) if a.text and b.text else 0.0,
        figures_shared=figs.shared,
        figures_compared=figs.compared,
        template_containment=t_inter / t_small if t_small else 0.0,
        lone_paragraph=lone,
        entity=ent,
        entity_detail=why,
        dates_differ=compared.dates_differ,
        hours_apart=abs((pa - pb).total_seconds()) / 3600 if pa and pb else None,
        lead_similarity=fuzz.token_set_ratio(a.lead, b.lead) if a.lead and b.lead else 0.0,
        tables=a.table and b.table,
        undated=not a.slots.dates and not b.slots.dates,
        tokens=(a.tokens, b.tokens),
    )


def _separate_takes(a: Meta, b: Meta) -> bool:
    """Two items of one version-marking agency that its own markers say are different
    stories: both began as unmarked first takes, or one is a version linked (derivedFrom,
    evolvedFrom) to a story other than the other's, and no lineage joins the two."""
    if not (a.source and a.source == b.source and a.ed_stat and b.ed_stat):
        return False
    if (a.item_id and a.item_id in b.lineage) or (b.item_id and b.item_id in a.lineage):
        return False
    if a.lineage & b.lineage:
        return False  # two versions of one story
    if a.first_take and b.first_take:
        return True
    return (a.first_take and bool(b.lineage)) or (b.first_take and bool(a.lineage))


def _shares_text(s: Scores, config: DedupConfig) -> bool:
    """Enough shared text to be one story, in proportion to length: one short paragraph
    never decides; one long paragraph does only when it is most of the shorter item."""
    return (
        s.jaccard >= config.jaccard_min
        or (s.containment >= config.containment_min and s.fuzz >= config.fuzz_min)
        or (
            s.para_overlap >= config.para_match_min
            and s.containment >= config.containment_min / 2
            and (s.matched >= 2 or s.lone_paragraph)
        )
    )


def _other_occasion(s: Scores, config: DedupConfig) -> bool | None:
    """Published far enough apart to be two editions of a recurring report (None: unknown)."""
    if s.hours_apart is None:
        return None
    return s.hours_apart >= config.edition_gap_hours


def judge(s: Scores, a: Meta, b: Meta, config: DedupConfig) -> tuple[str, str]:
    """(verdict, reason) for measured scores."""
    parts = [
        f"{config.shingle_size}-gram Jaccard {s.jaccard:.2f}",
        f"containment {s.containment:.2f}",
        f"paragraphs matched {s.para_overlap:.2f}",
        f"template {s.template_containment:.2f}",
    ]
    figs = s.figures
    if figs.compared:
        word = "match" if figs.agree() else "differ"
        parts.append(f"figures {word} ({figs.shared} of {figs.compared})")
    if s.entity != slotting.UNKNOWN:
        parts.append(f"entity {s.entity}: {s.entity_detail}")
    if s.hours_apart is not None:
        parts.append(f"{s.hours_apart:.0f}h apart")
    detail = ", ".join(parts)

    corrected = a.corrected or b.corrected
    templated = s.template_containment >= TEMPLATE_CONTAINMENT
    other_day = _other_occasion(s, config)
    same_entity = s.entity == slotting.SAME
    # the same slots: a re-send, a reformatted table, a rewrite keeping every figure
    same_slots = figs.agree() and not s.dates_differ
    # sent again: every slot again, soon after the first; later, only a full repeat with
    # its figures is the same item (an unchanged rate table is next week's edition)
    resend = same_slots and (
        s.hours_apart is None
        or s.hours_apart < config.resend_hours
        or (s.containment >= config.containment_min and figs.compared >= 3)
    )
    text = _shares_text(s, config)
    # The same entity on the same occasion with the same news: a rewrite or a reformatted
    # re-issue says what the other said, though in other words.
    worded = s.containment >= FACTS_CONTAINMENT
    facts = (
        same_entity
        and (not other_day or resend)
        and (
            # a table is its figures
            (
                worded
                and s.tables
                and figs.shared >= TABLE_FIGURES
                and figs.shared >= 0.75 * figs.compared
            )
            # a story is its lead
            or (worded and s.lead_similarity >= LEAD_SIMILARITY)
            # a running report re-issued the same day
            or (s.template_containment >= RUNNING_TEMPLATE and not other_day)
            or (corrected and s.containment >= CORRECTION_CONTAINMENT)
        )
    )
    fixed_by_correction = corrected and s.containment >= config.containment_min
    if not (text or facts):
        if s.matched >= config.contributor_min_paragraphs:
            return "contributor", f"borrows {s.matched} paragraph(s): {detail}"
        if s.entity == slotting.DIFFER:
            # about another entity: never one story, however a third item links the two
            return "conflict", f"other entity ({s.entity_detail}): {detail}"
        return "distinct", f"different stories: {detail}"
    if s.entity == slotting.DIFFER and not fixed_by_correction:
        return "conflict", f"other entity ({s.entity_detail}): {detail}"

    if s.entity == slotting.ONE_SIDED and figs.differ() and not fixed_by_correction:
        return "conflict", f"other entity and figures ({s.entity_detail}): {detail}"
    if not corrected and not resend:
        # another edition: the same template with other figures, or most figures replaced
        # (an update adds figures; the next edition puts others in their place). A longer
        # copy may differ in one figure, the one a correction fixed; a short item is mostly
        # its slots, which must agree.
        short = min(s.tokens) < slotting.SHORT_ITEM_TOKENS
        replaced = figs.compared >= 1 and figs.shared < 0.5 * figs.compared
        redated = a.dated is not None and b.dated is not None and a.dated != b.dated
        # A short item under another day's dateline is that day's report when its figures
        # differ, however its sentences were recast around them (a central bank's late help
        # to the money market, one sum on one day and another two days later).
        edited = figs.differ() and (
            (templated and (figs.missing >= 2 or short)) or (short and redated)
        )
        if other_day and (edited or replaced or s.dates_differ):
            return "conflict", f"another edition of a recurring report: {detail}"
        late = s.hours_apart is not None and s.hours_apart >= config.resend_hours
        if late and redated and short and figs.compared and s.undated:
            # A short report of figures that names no day or period of its own (a rate
            # left unchanged, a market operation) reports on the day its dateline names.
            # Sent later than a re-send comes, under another day's dateline, it is that
            # day's edition, its figures unchanged or not. An item that names its period,
            # or has more to tell than its figures, carries its occasion in its text.
            return "conflict", f"another day's edition of a short report: {detail}"
        if short and not same_entity and templated and (figs.differ() or s.dates_differ):
            # a short templated item needs its slots to agree: with no entity to tell, other
            # figures are another item of the same template
            return "conflict", f"templated report, figures differ: {detail}"
    if _separate_takes(a, b) and s.jaccard < REPEAT_JACCARD:
        return "conflict", (
            f"two stories by {a.source}'s own version markers (first takes or versions of "
            f"other stories, no lineage link): {detail}"
        )
    if not text:
        return "duplicate", f"same story by its facts: {detail}"
    return "duplicate", f"same story: {detail}"


def decide(a: Features, b: Features, config: DedupConfig) -> Edge:
    lo, hi = (a, b) if a.article_id < b.article_id else (b, a)
    s = score(lo, hi)
    verdict, reason = judge(s, lo.meta, hi.meta, config)
    return Edge(
        a=lo.article_id,
        b=hi.article_id,
        kind="story",
        verdict=verdict,
        jaccard=round(s.jaccard, 4),
        containment=round(s.containment, 4),
        fuzz=round(s.fuzz, 1),
        para_overlap=round(s.para_overlap, 4),
        reason=reason,
    )
