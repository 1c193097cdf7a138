"""Verification of LSH candidates: exact scores, a verdict, and a reason a human can read.

LSH only proposes pairs. Each proposal is decided here on exact measures:

* ``jaccard``: word-shingle Jaccard of the two story texts (captions, datelines, trailers,
  Read-more blocks and attributions already removed upstream);
* ``containment``: the share of the shorter text's shingles found in the longer one, which
  is what an abridged reprint or an expanded update keeps high while Jaccard drops;
* ``para_overlap``: the share of the shorter text's substantial paragraphs that have a
  near-identical paragraph anywhere in the other text (rapidfuzz), insensitive to order;
* a figures veto: two texts whose words agree but whose numbers do not are different
  editions of a templated report (weekly output, money supply, auctions), not one story.

Verdicts: ``duplicate`` (same story), ``contributor`` (a different story that borrows at
least one paragraph: credited, never merged), ``distinct``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from pipeline.config import DedupConfig
from pipeline.dedup.minhash import set_containment, set_jaccard, shingle_sets
from pipeline.model import Edge
from pipeline.text.normalize import figures

# A paragraph shorter than this (in tokens) is not evidence of shared text on its own.
MIN_PARAGRAPH_TOKENS = 8
PARAGRAPH_MATCH_SCORE = 85.0


@dataclass(frozen=True)
class Features:
    """What verification needs of one article, computed once per article per batch."""

    article_id: int
    paragraphs: tuple[str, ...]  # similarity form of each body paragraph
    shingles: np.ndarray  # sorted unique uint32 shingle hashes of the whole story text
    figures: tuple[str, ...]
    tokens: int

    @property
    def text(self) -> str:
        return " ".join(self.paragraphs)


def features(article_id: int, paragraphs: list[str], config: DedupConfig) -> Features:
    text = " ".join(p for p in paragraphs if p)
    sh = shingle_sets([text], config.shingle_size)[0] if text else np.empty(0, np.uint32)
    return Features(
        article_id=article_id,
        paragraphs=tuple(p for p in paragraphs if p),
        shingles=sh,
        figures=tuple(figures(text)),
        tokens=len(text.split()),
    )


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


def figures_conflict(a: Features, b: Features) -> tuple[bool, str]:
    """True when the texts disagree on most of their figures (templated reports).

    A correction changes one figure and an abridgement drops some; both keep most of the
    shorter side's figures. A templated report for another week changes nearly all."""
    fa, fb = Counter(a.figures), Counter(b.figures)
    small, big = (fa, fb) if sum(fa.values()) <= sum(fb.values()) else (fb, fa)
    n = sum(small.values())
    if n < 3:
        return False, "too few figures to compare"
    shared = sum((small & big).values())
    share = shared / n
    if share < 0.5:
        return True, f"figures differ ({shared} of {n} shared)"
    return False, f"figures match ({shared} of {n} shared)"


def decide(a: Features, b: Features, config: DedupConfig) -> Edge:
    lo, hi = (a, b) if a.article_id < b.article_id else (b, a)
    jac = set_jaccard(a.shingles, b.shingles)
    con = set_containment(a.shingles, b.shingles)
    overlap, matched = paragraph_overlap(a, b)
    fz = fuzz.token_set_ratio(a.text, b.text) if a.text and b.text else 0.0
    k = config.shingle_size
    parts = [
        f"{k}-gram Jaccard {jac:.2f}",
        f"containment {con:.2f}",
        f"paragraphs matched {overlap:.2f}",
    ]
    conflict, fig_reason = figures_conflict(a, b)
    parts.append(fig_reason)

    def edge(verdict: str, why: str) -> Edge:
        return Edge(
            a=lo.article_id,
            b=hi.article_id,
            kind="story",
            verdict=verdict,
            jaccard=round(jac, 4),
            containment=round(con, 4),
            fuzz=round(fz, 1),
            para_overlap=round(overlap, 4),
            reason=f"{why}: " + ", ".join(parts),
        )

    similar = (
        jac >= config.jaccard_min
        or (con >= config.containment_min and fz >= config.fuzz_min)
        or (overlap >= config.para_match_min and con >= config.containment_min / 2)
    )
    if similar and conflict:
        return edge("distinct", "templated report, figures differ")
    if similar:
        return edge("duplicate", "same story")
    if matched >= config.contributor_min_paragraphs:
        return edge("contributor", f"borrows {matched} paragraph(s)")
    return edge("distinct", "different stories")
