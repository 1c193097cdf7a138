"""The records that flow between stages.

Everything here is immutable, with no behaviour beyond derived properties, so the pure
packages (sources, text, dedup, merge) can pass them around without caring where they came
from or where they go. Records are frozen dataclasses; the rows of a story that come by
the hundred thousand (memberships, credits, provenance) are NamedTuples, which are cheaper
to make and are stored as the JSON arrays they serialise to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

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
class RunOrigin:
    """The scheduler's run a stage belongs to (an Airflow DAG run, its task and map
    index); kept with the batch and the stage's run row so both can link back to it."""

    dag_id: str
    dag_run_id: str
    task_id: str | None = None
    map_index: int | None = None


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


class Provenance(NamedTuple):
    kind: str  # "paragraph" or "caption"
    ord: int
    text: str
    article_id: int  # the member this text is credited to
    source_ord: int  # its position in that member
    in_canonical: bool = True  # False: carried only by another member, appended


class Membership(NamedTuple):
    """Why one article is in a story: its role and the verified pair that placed it."""

    article_id: int
    role: str  # canonical, version, duplicate, ... (see pipeline.merge.canonical.role)
    similarity: float
    reason: str


class Credit(NamedTuple):
    """An article of another story that a member borrowed text from (a contributor)."""

    article_id: int  # the lender, in another story
    via: int  # the member that carries the borrowed text
    reason: str


@dataclass(frozen=True)
class Story:
    """One story as cluster_merge lays it out: members, credits and the merged record."""

    story_id: int | None  # None: a new story, given an id when it is published
    canonical: int | None  # article id; None when every member is killed
    headline: str
    members: tuple[Membership, ...]
    contributors: tuple[Credit, ...] = ()
    provenance: tuple[Provenance, ...] = ()
    sources: tuple[str, ...] = ()
    has_kill: bool = False
    first_published: datetime | None = None  # earliest first publication of a live member


@dataclass(frozen=True)
class CaptionGroup:
    """Captions of one photo, across stories."""

    group_id: int | None  # the group they already had; None: a new group
    label: str
    caption_ids: tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """What cluster_merge stages for publish: every story a batch touches, laid out anew."""

    stories: tuple[Story, ...]
    # (story that ends, index in ``stories`` of the story that took its members)
    absorbed: tuple[tuple[int, int], ...] = ()
    caption_groups: tuple[CaptionGroup, ...] = ()


@dataclass(frozen=True)
class Batch:
    """A bounded set of pending articles that goes through sign ... publish together."""

    id: int
    key: str
    state: str  # open, published, empty
    config_id: int  # the dedup configuration it was opened with
    articles: int


# --- what one ingest chunk writes (decided by pipeline.merge.versions) ---------------------


@dataclass(frozen=True)
class ArticleRecord:
    """An item as the store keeps it: the text of its latest usable version, and what its
    other versions told (a kill, a withheld status, how the item began)."""

    id: int
    item_key: str
    source: str
    raw_item_id: int
    format: str
    version: str
    version_created: datetime | None
    first_created: datetime | None
    published_at: datetime
    pub_status: str
    ed_stat: str
    killed: bool
    headline: str
    headline_tag: str
    story_text: str
    word_count: int
    attributions: list[str]
    read_more: list[str]
    lineage: list  # [relation, target guid] pairs
    content_sha256: bytes
    version_count: int
    pending: bool  # waiting for a dedup batch
    origin_ed_stat: str  # edStat and headline tag of the earliest version seen
    origin_tag: str
    origin_version_created: datetime | None


@dataclass(frozen=True)
class RawItem:
    """One received version of an item (a row of ``raw_item``)."""

    id: int
    payload_id: int
    source: str
    item_key: str
    version: str
    version_created: datetime | None
    pub_status: str
    ed_stat: str
    content_sha256: bytes


@dataclass(frozen=True)
class Quarantined:
    payload_id: int
    item_key: str | None  # None: the whole payload
    reason: str


@dataclass(frozen=True)
class PayloadResult:
    payload_id: int
    status: str  # parsed or quarantined
    format: str
    item_count: int


@dataclass(frozen=True)
class IngestWrites:
    """Everything one ingest chunk writes, in one transaction."""

    raw_items: tuple[RawItem, ...]
    new_articles: tuple[ArticleRecord, ...]
    changed_articles: tuple[tuple[ArticleRecord, bool], ...]  # (article, updated_at moves)
    # article id -> (paragraphs, captions) as pipeline.sources.prepare.PreparedItem has them
    texts: dict[int, tuple[tuple, tuple]]
    replaced_text_of: tuple[int, ...]  # articles whose earlier text the new text replaces
    quarantined: tuple[Quarantined, ...]
    payloads: tuple[PayloadResult, ...]
