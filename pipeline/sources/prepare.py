"""Parse and analyse payloads: the CPU-heavy half of ingest (bytes in, plain records out).

Everything here is pure, so it can run in a worker process (``pipeline.stages.pool``) while
the main process writes the previous chunk to the database. On two cores ingest is bound
by this work (XML parsing, regex classification, tokenising), not by PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from pipeline.config import Limits
from pipeline.model import WireItem
from pipeline.sources.base import Problem
from pipeline.sources.collect import origin_name
from pipeline.sources.registry import parse_payload
from pipeline.text.article import analyse
from pipeline.text.captions import caption_tokens


@dataclass(frozen=True)
class ArticleText:
    """What ingest stores of an analysed article besides its paragraphs and captions."""

    headline: str
    headline_tag: str
    story_text: str
    attributions: tuple[str, ...]
    read_more: tuple[str, ...]
    lineage: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PreparedItem:
    # the item's metadata; its paragraphs travel once, analysed, in ``paragraphs`` (what
    # crosses the process boundary is pickled, so nothing is sent twice)
    item: WireItem
    sha: bytes  # content identity of this version (see content_sha)
    article: ArticleText
    paragraphs: tuple[tuple, ...]  # (ord, kind, text, norm)
    captions: tuple[tuple, ...]  # (ord, text, body, credit, tokens)
    has_text: bool = True  # the item carried paragraphs (a status-only version has none)


@dataclass(frozen=True)
class PreparedPayload:
    payload_id: int
    format: str
    items: tuple[PreparedItem, ...]
    problems: tuple[Problem, ...]
    links: tuple = ()  # package links (pipeline.stages.packages), rare
    link_versions: dict = field(default_factory=dict)


def content_sha(item: WireItem) -> bytes:
    """Identity of one version's content: the same item re-sent byte-differently but with
    the same text and status is the same version."""
    blob = json.dumps(
        [
            item.headline,
            list(item.paragraphs),
            list(item.captions),
            item.pub_status,
            item.version,
            item.version_created.isoformat() if item.version_created else None,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).digest()


def prepare_item(item: WireItem) -> PreparedItem:
    art = analyse(item)
    return PreparedItem(
        item=replace(item, paragraphs=(), captions=()),
        sha=content_sha(item),
        article=ArticleText(
            art.headline,
            art.headline_tag,
            art.story_text,
            art.attributions,
            art.read_more,
            art.lineage,
        ),
        paragraphs=tuple((p.ord, p.kind, p.text, p.norm) for p in art.paragraphs),
        captions=tuple(
            (cp.ord, cp.text, cp.body, cp.credit, " ".join(caption_tokens(cp.text)))
            for cp in art.captions
        ),
        has_text=bool(item.paragraphs),
    )


# the limits of this process's ingest; the CLI sets them from [limits] (configure_limits)
LIMITS = Limits()


def configure_limits(limits: Limits) -> None:
    global LIMITS
    LIMITS = limits


def over_limit(item: WireItem, limits: Limits) -> str | None:
    """Why ``item`` is too big to take, or None."""
    if len(item.headline or "") > limits.headline_chars:
        return (
            f"headline of {len(item.headline)} characters, over the limit of "
            f"{limits.headline_chars} ([limits] headline_chars)"
        )
    if len(item.paragraphs) > limits.paragraphs:
        return (
            f"{len(item.paragraphs)} paragraphs, over the limit of {limits.paragraphs} "
            "([limits] paragraphs)"
        )
    size = sum(len(p.encode("utf-8", "surrogatepass")) for p in item.paragraphs)
    if size > limits.text_bytes:
        return f"{size} bytes of text, over the limit of {limits.text_bytes} ([limits] text_bytes)"
    return None


def prepare_payload(
    payload_id: int,
    body: bytes,
    source: str,
    origin: str,
    size: int | None = None,
    limits: Limits | None = None,
) -> PreparedPayload:
    pr = parse_payload(body, source, origin_name(origin), size=size)
    limits = limits or LIMITS
    items, problems = [], list(pr.problems)
    for it in pr.items:
        why = over_limit(it, limits)
        if why is None:
            items.append(it)
        else:
            problems.append(Problem(it.key, why))
    pr.items = []  # the refused items' text is not held while the rest is analysed
    return PreparedPayload(
        payload_id=payload_id,
        format=pr.format,
        items=tuple(prepare_item(it) for it in items),
        problems=tuple(problems),
        links=tuple(pr.links),
        link_versions=dict(pr.link_versions),
    )


def prepare_many(payloads: Sequence[tuple]) -> list[PreparedPayload]:
    return [prepare_payload(*p) for p in payloads]
