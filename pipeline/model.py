"""The records that flow between stages.

Everything here is a frozen dataclass with no behaviour beyond derived properties, so the
pure packages (sources, text, dedup, merge) can pass them around without caring where they
came from or where they go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# pubStatus values after mapping every format's vocabulary onto one.
USABLE = "usable"
WITHHELD = "withheld"
CANCELED = "canceled"

# Paragraph kinds. Only BODY paragraphs feed similarity; the rest are kept for display and
# provenance because an editor still wants to see them.
BODY = "body"
BYLINE = "byline"
TRAILER = "trailer"  # (Reporting by ...; Editing by ...)
READ_MORE = "read_more"  # "Read more:" and the headlines that follow it
ATTRIBUTION = "attribution"  # (With input from Reuters, Xinhua)
CORRECTION = "correction"  # (Corrects figure in paragraph 3)
CAPTION = "caption"  # a photo caption printed in the running text

PARAGRAPH_KINDS = (BODY, BYLINE, TRAILER, READ_MORE, ATTRIBUTION, CORRECTION, CAPTION)


@dataclass(frozen=True)
class WireItem:
    """One version of one news item exactly as a parser understood it.

    Text fields are plain text (markup removed, entities decoded) but otherwise untouched:
    datelines, trailers and captions are still in ``paragraphs``. ``captions`` holds the
    captions a format carries structurally (picture items, ninjs associations); captions
    printed inside the running text are found later by ``pipeline.text.captions``.
    """

    source: str
    item_id: str
    format: str
    headline: str
    paragraphs: tuple[str, ...]
    version: str = ""
    version_created: datetime | None = None
    first_created: datetime | None = None
    pub_status: str = USABLE
    ed_stat: str = ""  # NewsML-G2 signal edStat: N new, U update, C correction, D delete
    captions: tuple[str, ...] = ()
    lineage: tuple[tuple[str, str], ...] = ()  # (relation, target guid)
    language: str = ""
    extra: tuple[tuple[str, str], ...] = ()  # format-specific facts worth keeping

    @property
    def key(self) -> str:
        return f"{self.source}:{self.item_id}"

    @property
    def killed(self) -> bool:
        return self.pub_status == CANCELED


@dataclass(frozen=True)
class Paragraph:
    ord: int
    kind: str
    text: str  # as printed (normalised Unicode and whitespace only)
    norm: str = ""  # similarity tokens of a BODY paragraph (dateline cut), "" otherwise


@dataclass(frozen=True)
class Caption:
    ord: int
    text: str  # as printed, credit included
    body: str  # the caption without its credit, prefixes or trailing "Photo taken" sentence
    credit: str = ""


@dataclass(frozen=True)
class Article:
    """A WireItem after text analysis: what the store keeps per item (its latest version)."""

    key: str
    source: str
    item_id: str
    headline: str
    headline_tag: str  # UPDATE 2 / CORRECTED / REFILE / REPEAT, "" for a first take
    paragraphs: tuple[Paragraph, ...]
    captions: tuple[Caption, ...]
    story_text: str  # normalised body text used for similarity; "" when there is none
    version: str = ""
    version_created: datetime | None = None
    first_created: datetime | None = None
    pub_status: str = USABLE
    ed_stat: str = ""
    attributions: tuple[str, ...] = ()  # agencies named by "(With input from ...)"
    read_more: tuple[str, ...] = ()
    lineage: tuple[tuple[str, str], ...] = ()

    @property
    def killed(self) -> bool:
        return self.pub_status == CANCELED

    @property
    def body_paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(p for p in self.paragraphs if p.kind == BODY)


@dataclass(frozen=True)
class Edge:
    """A verified decision about one candidate pair (a < b by article id)."""

    a: int
    b: int
    kind: str  # "story" or "caption"
    verdict: str  # "duplicate", "contributor" (partial borrowing), "distinct"
    jaccard: float
    containment: float
    fuzz: float
    reason: str
    para_overlap: float = 0.0


@dataclass(frozen=True)
class Member:
    """What the merge stage needs to know about one article of a story."""

    article_id: int
    key: str
    source: str
    headline: str
    headline_tag: str
    killed: bool
    first_created: datetime | None
    version_created: datetime | None
    word_count: int
    ed_stat: str = ""


@dataclass(frozen=True)
class Provenance:
    kind: str  # "paragraph" or "caption"
    ord: int
    text: str
    article_id: int  # the member this text is credited to
    source_ord: int  # its position in that member
    in_canonical: bool = True  # False: carried only by another member, appended


@dataclass(frozen=True)
class Story:
    story_id: int
    canonical: int | None  # article id; None when every member is killed
    members: tuple[tuple[int, str, float, str], ...]  # (article id, role, similarity, reason)
    provenance: tuple[Provenance, ...] = ()
    contributors: tuple[tuple[int, int, str], ...] = ()  # (article id, via member, reason)
    headline: str = ""
    extra: dict = field(default_factory=dict, compare=False)
