"""WireItem -> Article: classify every paragraph and build the text used for similarity.

The original paragraphs are all kept (an editor wants to see the trailer and the caption);
each gets a kind, and only BODY paragraphs, with the dateline cut off the first one, make
the ``story_text`` that shingles are taken from.
"""

from __future__ import annotations

import re

from pipeline.model import (
    ATTRIBUTION,
    BODY,
    BYLINE,
    CAPTION,
    CORRECTION,
    READ_MORE,
    TRAILER,
    Article,
    Caption,
    Paragraph,
    WireItem,
)
from pipeline.text.captions import caption_body, split_credit
from pipeline.text.normalize import (
    clean,
    fold,
    similarity_tokens,
    split_dateline,
    split_headline_tags,
)

_ATTRIBUTION = re.compile(
    r"^\(?\s*(?:with\s+(?:additional\s+)?inputs?\s+from|sources?\s*(?:\(s\))?\s*:)\s*"
    r"(?P<who>[^()]+?)\s*\)?\.?$",
    re.I,
)
_TRAILER = re.compile(
    r"^\(?\s*(?:(?:additional\s+)?report(?:ing|ed)\s+by|writing\s+by|written\s+by|"
    r"compiled\s+by|editing\s+by|edited\s+by|graphics?\s+by|translated\s+by|"
    r"reporters?\s*:|editors?\s*:)\b.*\)?$",
    re.I,
)
_TRAILER_LINE = re.compile(
    r"^(?:keywords?\s*:|our\s+standards\s*:|--\s*newsroom|\(c\)\s+copyright|"
    r"copyright\s+\d{4}|click\s+for\s+restrictions)",
    re.I,
)
# An agency's sign-off on a line of its own ("Reuter", "REUTER"): furniture, like a trailer.
_SIGNOFF = re.compile(r"^(?:reuters?|xinhua|cgtn|afp|ap)\.?$", re.I)
# "(Corrects figure in paragraph 3)", and Reuters' long form of the same note,
# "(In Jan. 3 story, corrects last paragraph to ...)" / "(This version of the story ...)"
_CORRECTION = re.compile(
    r"^\(\s*(?:(?:in\s+[^,()]{1,40}?\s+(?:story|item|article|report),?|this\s+(?:version\s+of"
    r"\s+(?:the|this)\s+)?(?:story|item|article)|the\s+(?:story|item))\s+)?"
    r"(?:corrects?|correcting|adds?|updates?|refiles?|recasts?|repeats?|fixes|changes|"
    r"removes?|inserts?|rewrites?|corrected|clarifies|withdraws?|eds?:)\b[^)]*\)\.?$",
    re.I,
)
_BYLINE = re.compile(r"^By\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}(?:\s+and\s+[A-Z][\w .'-]+)?$")
_READ_MORE = re.compile(
    r"^(?:read\s+more|also\s+read|related(?:\s+stories)?|see\s+also|more\s+on)\s*:?$", re.I
)
_SPLIT_WHO = re.compile(r"\s*(?:,|;|\band\b|&)\s*", re.I)
_SENTENCE_END = re.compile(r"[.!?\"')\u201d]$")


def _headline_like(text: str) -> bool:
    """A 'Read more' entry: a short line without the closing punctuation of a sentence."""
    words = text.split()
    return 0 < len(words) <= 20 and not _SENTENCE_END.search(text)


def attribution_agencies(text: str) -> tuple[str, ...]:
    m = _ATTRIBUTION.match(fold(text))
    if not m:
        return ()
    parts = [p.strip(" .") for p in _SPLIT_WHO.split(m.group("who"))]
    return tuple(p for p in parts if p)


def classify(paragraphs: list[str]) -> list[Paragraph]:
    out: list[Paragraph] = []
    in_read_more = False
    seen_body = False
    for text in paragraphs:
        kind = BODY
        folded = fold(text)
        if in_read_more and _headline_like(folded):
            kind = READ_MORE
        elif _READ_MORE.match(folded):
            kind = READ_MORE
            in_read_more = True
        else:
            in_read_more = False
            if split_credit(folded):
                kind = CAPTION
            elif _ATTRIBUTION.match(folded) and len(folded) < 200:
                kind = ATTRIBUTION
            elif (
                (_TRAILER.match(folded) and len(folded) < 300)
                or _TRAILER_LINE.match(folded)
                or _SIGNOFF.match(folded)
            ):
                kind = TRAILER
            elif _CORRECTION.match(folded) and len(folded) < 400:
                kind = CORRECTION
            elif not seen_body and _BYLINE.match(folded):
                kind = BYLINE
        if kind == BODY:
            seen_body = True
        out.append(Paragraph(ord=len(out), kind=kind, text=text))
    return out


def analyse(item: WireItem) -> Article:
    """Classify paragraphs, pull out captions and attributions, build ``story_text``."""
    paras = [c for c in (clean(p) for p in item.paragraphs) if c]
    classified = with_norms(classify(paras))

    captions: list[Caption] = []
    seen_caps: set[str] = set()

    def add_caption(text: str) -> None:
        split = split_credit(text)
        body = caption_body(text)
        # A caption printed twice on one page (CGTN does it for every photo) is one caption.
        key = body.lower()
        if not body or key in seen_caps:
            return
        seen_caps.add(key)
        captions.append(
            Caption(ord=len(captions), text=text, body=body, credit=split[1] if split else "")
        )

    for c in item.captions:
        cc = clean(c)
        if cc:
            add_caption(cc)
    attributions: list[str] = []
    read_more: list[str] = []
    for p in classified:
        if p.kind == CAPTION:
            add_caption(p.text)
        elif p.kind == ATTRIBUTION:
            attributions.extend(attribution_agencies(p.text))
        elif p.kind == READ_MORE and not _READ_MORE.match(fold(p.text)):
            read_more.append(p.text)

    tag, headline = split_headline_tags(item.headline)
    return Article(
        key=item.key,
        source=item.source,
        item_id=item.item_id,
        headline=headline or clean(item.headline),
        headline_tag=tag,
        paragraphs=tuple(classified),
        captions=tuple(captions),
        story_text=" ".join(p.norm for p in classified if p.norm),
        version=item.version,
        version_created=item.version_created,
        first_created=item.first_created,
        pub_status=item.pub_status,
        ed_stat=item.ed_stat,
        attributions=tuple(dict.fromkeys(attributions)),
        read_more=tuple(read_more),
        lineage=item.lineage,
    )


def with_norms(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """Fill ``norm`` for BODY paragraphs; the first one loses its dateline first."""
    out = []
    first = True
    for p in paragraphs:
        if p.kind != BODY:
            out.append(p)
            continue
        text = p.text
        if first:
            _, text = split_dateline(text)
            first = False
        # built directly: dataclasses.replace costs more than tokenising a short paragraph
        out.append(Paragraph(p.ord, p.kind, p.text, " ".join(similarity_tokens(text))))
    return out
