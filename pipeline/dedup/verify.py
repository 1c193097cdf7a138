"""Verification of LSH candidates: exact scores, a verdict, and a reason a human can read.

LSH only proposes pairs. Each proposal is decided here on exact measures:

* ``jaccard``: word-shingle Jaccard of the two story texts (captions, datelines, trailers,
  Read-more blocks and attributions already removed upstream);
* ``containment``: the share of the shorter text's shingles found in the longer one, which
  is what an abridged reprint or an expanded update keeps high while Jaccard drops;
* ``para_overlap``: the share of the shorter text's substantial paragraphs that have a
  near-identical paragraph anywhere in the other text (rapidfuzz), insensitive to order;
* ``fuzz``: rapidfuzz token-set ratio of the whole texts (robust to synonym swaps).

Verdicts:

``duplicate``    the same story
``contributor``  different stories, one borrows at least one paragraph of the other:
                 credited in provenance, never merged
``distinct``     different stories
``conflict``     different stories that look alike and must never share a story, even
                 through a third article similar to both:
                 * templated reports (weekly output, money supply, auctions) whose words
                   agree but whose figures do not;
                 * two first takes of one agency that marks its versions (NewsML-G2
                   edStat/headline tags) without any version marker or lineage link
                   between them: agencies re-file a story as UPDATE/CORRECTED/REFILE,
                   so two unmarked takes are two stories (unless byte-for-byte repeats).

``score`` (pure measurement) and ``judge`` (thresholds) are separate so thresholds can be
tuned on stored scores without recomputing them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.config import DedupConfig
from pipeline.dedup.minhash import shingle_sets
from pipeline.model import Edge
from pipeline.text.normalize import figures

# A paragraph shorter than this (in tokens) is not evidence of shared text on its own.
MIN_PARAGRAPH_TOKENS = 8
PARAGRAPH_MATCH_SCORE = 85.0
# Two unmarked first takes this similar are one story sent twice, not two stories.
REPEAT_JACCARD = 0.9
# Texts this alike once numbers are masked are the same template; only then do differing
# figures mean "another edition of a recurring report" rather than "a different draft".
TEMPLATE_CONTAINMENT = 0.8
_NUMBER = re.compile(r"\b\d[\d.,]*\b")
_EMPTY = np.empty(0, np.uint32)


@dataclass(frozen=True)
class Meta:
    """Wire metadata that changes how similar texts are judged."""

    source: str = ""
    item_id: str = ""
    ed_stat: str = ""  # NewsML-G2 editorial status; "" when the format has none
    headline_tag: str = ""  # UPDATE 1 / CORRECTED / REFILE ...
    lineage: frozenset[str] = frozenset()  # guids this item derives from

    @property
    def first_take(self) -> bool:
        """A take that its agency marks as new: editorial status N (or a kill of one),
        no version tag in the headline. Only meaningful when the format has edStat."""
        return bool(self.ed_stat) and self.ed_stat in ("N", "D") and not self.headline_tag


@dataclass(frozen=True)
class Features:
    """What verification needs of one article, computed once per article per batch."""

    article_id: int
    paragraphs: tuple[str, ...]  # similarity form of each body paragraph
    shingles: np.ndarray  # sorted unique uint32 shingle hashes of the whole story text
    figures: tuple[str, ...]
    tokens: int
    meta: Meta = Meta()
    # shingles of the text with every number masked
    template: np.ndarray = field(default_factory=lambda: _EMPTY)

    @property
    def text(self) -> str:
        return " ".join(self.paragraphs)


def features(
    article_id: int, paragraphs: list[str], config: DedupConfig, meta: Meta | None = None
) -> Features:
    text = " ".join(p for p in paragraphs if p)
    nums = tuple(figures(text))
    if text:
        masked = _NUMBER.sub("#", text) if nums else text
        sh, tpl = shingle_sets([text, masked], config.shingle_size)
    else:
        sh = tpl = _EMPTY
    return Features(
        article_id=article_id,
        paragraphs=tuple(p for p in paragraphs if p),
        shingles=sh,
        figures=nums,
        tokens=len(text.split()),
        meta=meta or Meta(),
        template=tpl,
    )


@dataclass(frozen=True)
class Scores:
    jaccard: float
    containment: float
    para_overlap: float  # share of the shorter side's substantial paragraphs matched
    matched: int  # how many substantial paragraphs matched
    fuzz: float
    figures_shared: int
    figures_compared: int  # figures on the side with fewer; < 3 means "not comparable"
    template_containment: float = 0.0  # containment with every number masked


def paragraph_overlap(a: Features, b: Features) -> tuple[float, int]:
    """(share of the shorter side's substantial paragraphs matched, matched count)."""
    short, long_ = (a, b) if len(a.paragraphs) <= len(b.paragraphs) else (b, a)
    sp = [p for p in short.paragraphs if len(p.split()) >= MIN_PARAGRAPH_TOKENS]
    lp = [p for p in long_.paragraphs if len(p.split()) >= MIN_PARAGRAPH_TOKENS]
    if not sp or not lp:
        return 0.0, 0
    scores = process.cdist(sp, lp, scorer=fuzz.ratio, workers=1)
    matched = int((scores.max(axis=1) >= PARAGRAPH_MATCH_SCORE).sum())
    return matched / len(sp), matched


def _shared(a: np.ndarray, b: np.ndarray) -> int:
    if a.size == 0 or b.size == 0:
        return 0
    return int(np.intersect1d(a, b, assume_unique=True).size)


def score(a: Features, b: Features) -> Scores:
    inter = _shared(a.shingles, b.shingles)
    union = a.shingles.size + b.shingles.size - inter
    small = min(a.shingles.size, b.shingles.size)
    overlap, matched = paragraph_overlap(a, b)
    t_inter = _shared(a.template, b.template)
    t_small = min(a.template.size, b.template.size)
    fa, fb = Counter(a.figures), Counter(b.figures)
    fsmall, fbig = (fa, fb) if sum(fa.values()) <= sum(fb.values()) else (fb, fa)
    return Scores(
        jaccard=inter / union if union else 0.0,
        containment=inter / small if small else 0.0,
        para_overlap=overlap,
        matched=matched,
        fuzz=fuzz.token_set_ratio(a.text, b.text) if a.text and b.text else 0.0,
        figures_shared=sum((fsmall & fbig).values()),
        figures_compared=sum(fsmall.values()),
        template_containment=t_inter / t_small if t_small else 0.0,
    )


def _figures_differ(s: Scores) -> bool:
    """Most of the shorter side's figures missing from the longer. A correction changes one
    figure and an abridgement drops some; both keep most of them."""
    return s.figures_compared >= 3 and s.figures_shared / s.figures_compared < 0.5


def _templated(s: Scores) -> bool:
    """Same wording, other figures: another edition of a recurring report. When the words
    differ too (a first take against a later, fuller version) the figures prove nothing."""
    return _figures_differ(s) and s.template_containment >= TEMPLATE_CONTAINMENT


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


def judge(s: Scores, a: Meta, b: Meta, config: DedupConfig) -> tuple[str, str]:
    """(verdict, reason) for measured scores."""
    parts = [
        f"{config.shingle_size}-gram Jaccard {s.jaccard:.2f}",
        f"containment {s.containment:.2f}",
        f"paragraphs matched {s.para_overlap:.2f}",
    ]
    if s.figures_compared >= 3:
        word = "differ" if _figures_differ(s) else "match"
        parts.append(f"figures {word} ({s.figures_shared} of {s.figures_compared} shared)")
        if _figures_differ(s):
            parts.append(f"wording without numbers {s.template_containment:.2f}")
    detail = ", ".join(parts)
    similar = (
        s.jaccard >= config.jaccard_min
        or (s.containment >= config.containment_min and s.fuzz >= config.fuzz_min)
        or (s.para_overlap >= config.para_match_min and s.containment >= config.containment_min / 2)
    )
    if similar and _templated(s):
        return "conflict", f"templated report, figures differ: {detail}"
    if similar and _separate_takes(a, b) and s.jaccard < REPEAT_JACCARD:
        return "conflict", (
            f"two stories by {a.source}'s own version markers (first takes or versions of "
            f"other stories, no lineage link): {detail}"
        )
    if similar:
        return "duplicate", f"same story: {detail}"
    if s.matched >= config.contributor_min_paragraphs:
        return "contributor", f"borrows {s.matched} paragraph(s): {detail}"
    return "distinct", f"different stories: {detail}"


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
