"""IPTC ninjs (News in JSON) 1.x, 2.x and 3.x, and the ninjs-like JSON Superdesk and BBC
send.

The versions name the same things differently, and every spelling is read:

=================  =====================================  ==============================
what               1.x                                    2.x / 3.x
=================  =====================================  ==============================
id                 ``uri`` (``guid``, ``id``, then        same; ``altids`` / ``altIds``
                   ``altids.itemid``)                     is a list of {role, value}
version, times     ``version``, ``versioncreated``,       3.x camelCase:
                   ``firstcreated``                       ``versionCreated``...
status             ``pubstatus``                          ``pubstatus`` / ``pubStatus``
headline           ``headline``, ``headline_main``,       ``headlines`` [{role, value}],
                   ``headline_*``                         role main first
body               ``body_html`` / ``body_xhtml`` /       ``bodies`` [{role, contenttype
                   ``body_richtext``, else                / contentType, value}], HTML
                   ``body_text`` / ``body_main``          first, else text/plain
captions           ``associations`` {name: item}          ``associations`` [item, ...]
=================  =====================================  ==============================

A picture, graphic, video or audio object is a media item: its caption (a description with
role caption, else its text description, else the headline) is its content. Associated
media objects give their captions to the item they are associated with. ``pubstatus``
usable / withheld / canceled (and the common misspelling ``cancelled``); any other word is
refused. Events (``eventDetails``) and planning items (``plannedCoverage``) are not news.
A document may be one object, a list of objects, or a wrapper ``{"item": [...]}``.
"""

from __future__ import annotations

from pipeline.model import USABLE, WireItem
from pipeline.sources import jsonsafe as js
from pipeline.sources.base import (
    MAX_ITEMS_PER_PAYLOAD,
    Parsed,
    ParseError,
    Problem,
    parse_iso,
    pub_status,
)
from pipeline.sources.html_text import paragraphs_from_html

NAME = "ninjs"

MEDIA = ("picture", "graphic", "video", "audio", "image", "photo")
_KEYS = (
    b'"versioncreated"',
    b'"versionCreated"',
    b'"headline"',
    b'"headlines"',
    b'"bodies"',
    b'"body_',
    b'"pubstatus"',
    b'"pubStatus"',
    b'"associations"',
    b'"uri"',
    b'"guid"',
)
_HTML_ROLES = ("html", "xhtml", "richtext", "richhtml", "html5", "richhtml5")
_TEXT_ROLES = ("text", "main", "plain")
_CAPTION_SKIP_ROLES = ("writer", "creditline", "credit", "byline", "by")
MAX_ASSOC_DEPTH = 3


def sniff(head: bytes, filename: str) -> int:
    if not js.looks_like_json(head):
        return 0
    if b'"$schema"' in head and (b'"properties"' in head or b'"$defs"' in head):
        return 0  # a JSON Schema, not an item
    hits = sum(1 for k in _KEYS if k in head)
    if hits >= 2 and (b'"uri"' in head or b'"guid"' in head):
        return 80
    return 50 if hits else 10  # any JSON: ours to read or to refuse with a reason


def parse(body: bytes, source: str, filename: str) -> Parsed:
    doc = js.load(body)
    objects = unwrap(doc)
    if objects is None:
        raise ParseError("JSON document is not a ninjs object or a list of them")
    if not objects:
        raise ParseError("JSON document holds no items")
    if len(objects) > MAX_ITEMS_PER_PAYLOAD:
        raise ParseError(f"{len(objects)} items in one document, over the limit")
    out = Parsed(format=NAME)
    for i, obj in enumerate(objects, 1):
        if not isinstance(obj, dict):
            out.problems.append(Problem(f"#{i}", "list entry is not a JSON object"))
            continue
        item_id = item_identifier(obj)
        if not item_id:
            out.problems.append(Problem(f"#{i}", "ninjs object without uri, guid or id"))
            continue
        try:
            out.items.append(_item(obj, item_id, source))
        except ParseError as e:
            out.problems.append(Problem(f"{source}:{item_id}", str(e)))
    if len(objects) == 1 and not out.items and out.problems:
        raise ParseError(out.problems[0].reason)  # one object: its reason is the payload's
    return out


def unwrap(doc) -> list | None:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    for k in ("item", "items"):  # {"total": 1, "item": [...]} (BBC), {"items": [...]}
        v = doc.get(k)
        if isinstance(v, list) and not item_identifier(doc):
            return v
    return [doc]


def item_identifier(obj: dict) -> str:
    ident = js.s(obj, "uri", "guid", "id")
    if ident:
        return ident
    alt = obj.get("altids", obj.get("altIds"))
    if isinstance(alt, dict):
        return js.s(alt, "itemid", "itemId")
    if isinstance(alt, list):
        for a in alt:
            v = js.s(a, "value")
            if v:
                return v
    return ""


def _item(obj: dict, item_id: str, source: str) -> WireItem:
    kind = js.s(obj, "type").lower()
    if kind in ("event", "planning") or "eventDetails" in obj or "plannedCoverage" in obj:
        what = "planning item" if kind == "planning" or "plannedCoverage" in obj else "event"
        raise ParseError(f"ninjs {what}, not a news item")
    raw_status = js.s(obj, "pubstatus", "pubStatus")
    status = pub_status(raw_status)
    if status is None:
        raise ParseError(f"unknown pubstatus {raw_status!r}")
    headline = headline_of(obj)
    facts = [("type", kind or "text")]
    for key, fact in (
        ("byline", "byline"),
        ("by", "byline"),
        ("located", "located"),
        ("slugline", "slugline"),
        ("copyrightholder", "copyright_holder"),
        ("copyrightHolder", "copyright_holder"),
        ("copyrightnotice", "copyright_notice"),
        ("copyrightNotice", "copyright_notice"),
        ("embargoed", "embargoed"),
    ):
        v = js.s(obj, key)
        if v and fact not in dict(facts):
            facts.append((fact, v[:500]))
    if kind in MEDIA:
        paragraphs: list[str] = []
        captions = media_captions(obj)
        if status == USABLE and not captions:
            raise ParseError(f"ninjs {kind} without a caption or description")
    else:
        paragraphs = [p for p in body_paragraphs(obj) if p != headline]
        captions = association_captions(obj.get("associations"), 0)
        if status == USABLE and not paragraphs:
            raise ParseError("ninjs item has no body text")
    created = parse_iso(js.s(obj, "versioncreated", "versionCreated"))
    first = parse_iso(js.s(obj, "firstcreated", "firstCreated", "contentcreated"))
    return WireItem(
        source=source,
        item_id=item_id,
        format=NAME,
        headline=headline,
        paragraphs=tuple(paragraphs),
        version=js.s(obj, "version"),
        version_created=created or first,
        first_created=first or created,
        pub_status=status,
        captions=tuple(captions),
        language=js.s(obj, "language"),
        extra=tuple(facts),
    )


def headline_of(obj: dict) -> str:
    h = js.s(obj, "headline", "headline_main")
    if h:
        return h
    heads = [x for x in js.lst(obj, "headlines") if isinstance(x, dict)]
    main = [x for x in heads if js.s(x, "role") in ("main", "")]
    for x in main + heads:
        v = js.s(x, "value")
        if v:
            return v
    for k in sorted(k for k in obj if isinstance(k, str) and k.startswith("headline_")):
        v = js.s(obj, k)
        if v:
            return v
    return js.s(obj, "title", "headline_extended")


def body_paragraphs(obj: dict) -> list[str]:
    """HTML bodies first (their paragraphs are marked), then plain text ones."""
    html_bodies: list[str] = []
    text_bodies: list[str] = []
    for b in js.lst(obj, "bodies"):
        v = js.s(b, "value")
        if not v:
            continue
        ctype = js.s(b, "contenttype", "contentType").lower()
        role = js.s(b, "role").lower()
        if "html" in ctype or role in _HTML_ROLES:
            html_bodies.append(v)
        elif ctype.startswith("text/plain") or role in _TEXT_ROLES or not ctype:
            text_bodies.append(v)
    for suffix in _HTML_ROLES:
        v = js.s(obj, f"body_{suffix}")
        if v:
            html_bodies.append(v)
    for suffix in _TEXT_ROLES:
        v = js.s(obj, f"body_{suffix}")
        if v:
            text_bodies.append(v)
    for v in html_bodies:
        paras = paragraphs_from_html(v)
        if paras:
            return paras
    for v in text_bodies:
        paras = plain_paragraphs(v)
        if paras:
            return paras
    return []


def plain_paragraphs(v: str) -> list[str]:
    v = v.replace("\r\n", "\n").replace("\r", "\n")
    parts = v.split("\n\n") if "\n\n" in v else v.split("\n")
    return [" ".join(p.split()) for p in parts if p.strip()]


def descriptions(obj: dict) -> list[tuple[str, str]]:
    """(role, text) of every description, in both spellings."""
    out = []
    for x in js.lst(obj, "descriptions"):
        v = js.s(x, "value")
        if v:
            ctype = js.s(x, "contenttype", "contentType").lower()
            text = " ".join(paragraphs_from_html(v)) if "html" in ctype else " ".join(v.split())
            out.append((js.s(x, "role").lower(), text))
    if isinstance(obj, dict):
        for k in sorted(k for k in obj if isinstance(k, str) and k.startswith("description_")):
            v = js.s(obj, k)
            if v:
                text = " ".join(paragraphs_from_html(v)) if "<" in v else " ".join(v.split())
                out.append((k.removeprefix("description_").lower(), text))
    return [(r, t) for r, t in out if t]


def media_captions(obj: dict) -> list[str]:
    descs = descriptions(obj)
    caps = [t for r, t in descs if "caption" in r]
    if not caps:
        caps = [t for r, t in descs if not r.startswith(_CAPTION_SKIP_ROLES)][:1]
    if not caps:
        h = headline_of(obj)
        caps = [h] if h else []
    return list(dict.fromkeys(caps))


def association_captions(assoc, depth: int) -> list[str]:
    """Captions of the media objects associated with an item (dict in 1.x, list later)."""
    if depth >= MAX_ASSOC_DEPTH:
        return []
    if isinstance(assoc, dict):
        objs = list(assoc.values())  # document order
    elif isinstance(assoc, list):
        objs = assoc
    else:
        return []
    out: list[str] = []
    for a in objs[:MAX_ITEMS_PER_PAYLOAD]:
        if not isinstance(a, dict):
            continue
        kind = js.s(a, "type").lower()
        if kind in MEDIA:
            out.extend(c for c in media_captions(a) if c not in out)
        out.extend(
            c for c in association_captions(a.get("associations"), depth + 1) if c not in out
        )
    return out
