"""IPTC NewsML-G2: a ``newsMessage`` holding ``newsItem``s (or a bare ``newsItem``).

Read per item: ``guid``, ``version`` (opaque: versions are ordered by ``versionCreated``),
``firstCreated``, ``pubStatus`` (usable / withheld / canceled = a kill), ``signal edStat``,
``link rel`` lineage (derivedFrom, evolvedFrom, processedFrom), the headline, the body
``<p>`` elements of XHTML or NITF inline content, and for picture items the caption
(``description role=descRole:caption`` or the headline). Real files fail the XSD on small
details; nothing here validates against it.
"""

from __future__ import annotations

from pipeline.model import CANCELED, USABLE, WITHHELD, WireItem
from pipeline.sources.base import MAX_ITEMS_PER_PAYLOAD, Parsed, ParseError, Problem, parse_iso
from pipeline.sources.xmlsafe import attr, kid, kids, local, parse_xml, path, text

NAME = "newsml-g2"

_NS = b"iptc.org/std/nar/2006-10-01"
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "li", "pre", "blockquote", "hl2", "block"}
_PUB_STATUS = {"usable": USABLE, "canceled": CANCELED, "cancelled": CANCELED, "withheld": WITHHELD}


def sniff(head: bytes, filename: str) -> int:
    h = head[:4096]
    if _NS in h and (b"newsMessage" in h or b"newsItem" in h or b"packageItem" in h):
        return 95
    if b"<newsMessage" in h or b"<newsItem" in h or b":newsMessage" in h:
        return 80
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    root = parse_xml(body)
    name = local(root)
    if name == "newsMessage":
        item_set = kid(root, "itemSet")
        items = [c for c in (item_set if item_set is not None else []) if local(c)]
    elif name in ("newsItem", "packageItem", "conceptItem", "planningItem", "knowledgeItem"):
        items = [root]
    else:
        raise ParseError(f"not a NewsML-G2 document: root element is <{name}>")
    if len(items) > MAX_ITEMS_PER_PAYLOAD:
        raise ParseError(f"{len(items)} items in one message, over the limit")
    out = Parsed(format=NAME)
    for el in items:
        kind = local(el)
        guid = attr(el, "guid").strip()
        if kind != "newsItem":
            # Packages, concepts, planning and knowledge items carry no article text;
            # they are stored with the payload and deliberately not turned into articles.
            continue
        if not guid:
            out.problems.append(Problem(None, "newsItem without a guid"))
            continue
        try:
            out.items.append(_news_item(el, guid, source))
        except ParseError as e:
            out.problems.append(Problem(f"{source}:{guid}", str(e)))
    if not out.items and not out.problems and not any(local(i) != "newsItem" for i in items):
        raise ParseError("NewsML-G2 message without any item")
    return out


def _news_item(el, guid: str, source: str) -> WireItem:
    meta = kid(el, "itemMeta")
    cmeta = kid(el, "contentMeta")
    item_class = attr(path(el, "itemMeta", "itemClass"), "qcode")
    status_q = attr(kid(meta, "pubStatus") if meta is not None else None, "qcode", "stat:usable")
    status = _PUB_STATUS.get(status_q.split(":")[-1].lower(), USABLE)
    ed_stat = ""
    lineage: list[tuple[str, str]] = []
    if meta is not None:
        for s in kids(meta, "signal"):
            q = attr(s, "qcode")
            if q.lower().startswith("edstat:"):
                ed_stat = q.split(":", 1)[1].upper()
        for ln in kids(meta, "link"):
            rel = attr(ln, "rel")
            target = attr(ln, "residref") or attr(ln, "href")
            if rel and target:
                lineage.append((rel.split(":")[-1], target))
    headline = ""
    captions: list[str] = []
    language = attr(el, "lang")
    is_picture = item_class.endswith(("picture", "graphic", "video"))
    if cmeta is not None:
        heads = kids(cmeta, "headline")
        main = [h for h in heads if attr(h, "role") in ("", "hdlRole:main", "main")]
        headline = text((main or heads)[0]) if heads else ""
        # descRole:caption describes the item itself: a photo caption only for a picture;
        # on a text item Reuters puts "SLUG/:headline" there, which is no caption at all
        for d in kids(cmeta, "description") if is_picture else ():
            if "caption" in attr(d, "role").lower():
                captions.append(text(d))
    paragraphs = _body_paragraphs(el)
    if is_picture:
        # A picture item's "text" is its caption; it never becomes article text.
        if not captions and headline:
            captions.append(headline)
        paragraphs = []
    if status != CANCELED and not paragraphs and not captions:
        raise ParseError("item has no body text")
    return WireItem(
        source=source,
        item_id=guid,
        format=NAME,
        headline=headline,
        paragraphs=tuple(paragraphs),
        version=attr(el, "version"),
        version_created=parse_iso(_text_of(meta, "versionCreated")),
        first_created=parse_iso(_text_of(meta, "firstCreated")),
        pub_status=status,
        ed_stat=ed_stat,
        captions=tuple(captions),
        lineage=tuple(lineage),
        language=language,
        extra=(("item_class", item_class),),
    )


def _text_of(parent, name: str) -> str:
    if parent is None:
        return ""
    return text(kid(parent, name))


def _body_paragraphs(item) -> list[str]:
    cset = kid(item, "contentSet")
    if cset is None:
        return []
    out: list[str] = []
    for content in cset:
        name = local(content)
        if name == "inlineXML":
            blocks = [d for d in content.iter() if local(d) in _BLOCKS]
            # keep only innermost blocks so a <blockquote><p> is not read twice
            inner = [b for b in blocks if not any(local(x) in _BLOCKS for x in b.iterdescendants())]
            out.extend(t for t in (text(b) for b in inner) if t)
            if not inner:
                t = text(content)
                if t:
                    out.append(t)
        elif name == "inlineData":
            raw = content.text or ""
            out.extend(p.strip() for p in raw.replace("\r\n", "\n").split("\n\n") if p.strip())
        if out:
            break  # the first rendition with text is the article; others repeat it
    return out
