"""AP-style JSON: the AP Media API's ``content`` and ``feed`` responses.

A response wraps one item (``data.item``) or a feed page of them (``data.items[].item``);
a bare item object is read too. Read per item: ``altids.itemid`` is the item id (AP keeps it
across versions; ``altids.etag`` changes with each); ``version`` (0, 1, ...) is the version
and ``versioncreated`` orders versions; ``pubstatus`` usable / withheld / canceled;
``signals``, ``headline_extended``, ``slugline``, ``ednote`` and the dateline location are
kept as facts; ``associations`` (``{"1": {...}}``) give the captions of the pictures they
point at. Pictures, graphics, video and audio are media items: their caption is
``description_caption`` (else the headline).

AP text items carry their story only as a *rendition* to download (``renditions.nitf``);
when an item has no inline body (``body_nitf``, ``body_html`` or ``body_text``) it is
refused with that reason, and the NITF file, once fetched, ingests as an NITF item.
"""

from __future__ import annotations

from pipeline.model import USABLE, WireItem
from pipeline.sources import jsonsafe as js
from pipeline.sources import nitf
from pipeline.sources.base import (
    MAX_ITEMS_PER_PAYLOAD,
    Parsed,
    ParseError,
    Problem,
    parse_iso,
    pub_status,
)
from pipeline.sources.html_text import paragraphs_from_html
from pipeline.sources.ninjs import MEDIA, association_captions, plain_paragraphs
from pipeline.sources.xmlsafe import parse_xml

NAME = "ap-json"

_AP_HINTS = (b'"signals"', b'"headline_extended"', b'"description_caption"')


def sniff(head: bytes, filename: str) -> int:
    if not js.looks_like_json(head):
        return 0
    if b'"altids"' not in head:
        return 0
    if b'"data"' in head and (b'"item"' in head or b'"items"' in head):
        return 95
    if any(h in head for h in _AP_HINTS):
        return 85
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    doc = js.load(body)
    items = _items(doc)
    if items is None:
        raise ParseError("JSON document is not an AP content or feed response")
    if not items:
        raise ParseError("AP feed response without items")
    if len(items) > MAX_ITEMS_PER_PAYLOAD:
        raise ParseError(f"{len(items)} items in one response, over the limit")
    out = Parsed(format=NAME)
    for i, obj in enumerate(items, 1):
        item_id = js.s(js.d(obj, "altids"), "itemid")
        if not item_id:
            out.problems.append(Problem(f"#{i}", "AP item without altids.itemid"))
            continue
        try:
            out.items.append(_item(obj, item_id, source))
        except ParseError as e:
            out.problems.append(Problem(f"{source}:{item_id}", str(e)))
    if len(items) == 1 and not out.items and out.problems:
        raise ParseError(out.problems[0].reason)
    return out


def _items(doc) -> list | None:
    if not isinstance(doc, dict):
        return None
    data = doc.get("data")
    if isinstance(data, dict):
        if isinstance(data.get("item"), dict):
            return [data["item"]]
        if isinstance(data.get("items"), list):
            return [js.d(x, "item") or x for x in data["items"] if isinstance(x, dict)]
        return None
    if isinstance(doc.get("altids"), dict):
        return [doc]
    return None


def _item(obj: dict, item_id: str, source: str) -> WireItem:
    kind = js.s(obj, "type").lower()
    raw_status = js.s(obj, "pubstatus")
    status = pub_status(raw_status)
    if status is None:
        raise ParseError(f"unknown pubstatus {raw_status!r}")
    headline = js.s(obj, "headline", "title", "headline_extended")
    facts: list[tuple[str, str]] = [("type", kind or "text")]
    signals = js.strings(obj.get("signals"))
    if signals:
        facts.append(("signals", ",".join(signals)[:300]))
    for key in ("headline_extended", "slugline", "ednote", "description_creditline", "etag"):
        v = js.s(obj, key) or js.s(js.d(obj, "altids"), key)
        if v:
            facts.append((key, v[:500]))
    place = js.d(obj, "datelinelocation")
    city = js.s(place, "city")
    if city:
        facts.append(("located", ", ".join(x for x in (city, js.s(place, "countryname")) if x)))
    if kind in MEDIA:
        paragraphs: list[str] = []
        caption = js.s(obj, "description_caption") or headline
        captions = [" ".join(caption.split())] if caption else []
        if status == USABLE and not captions:
            raise ParseError(f"AP {kind} item without a caption")
    else:
        paragraphs = _inline_body(obj)
        captions = _assoc_captions(obj.get("associations"))
        if status == USABLE and not paragraphs:
            renditions = ", ".join(sorted(str(k) for k in js.d(obj, "renditions"))) or "none"
            raise ParseError(
                f"AP {kind or 'text'} item {item_id} carries no inline text; its body is only "
                f"in a rendition to download (renditions: {renditions})"
            )
    created = parse_iso(js.s(obj, "versioncreated"))
    first = parse_iso(js.s(obj, "firstcreated"))
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


def _inline_body(obj: dict) -> list[str]:
    nitf_body = js.s(obj, "body_nitf")
    if nitf_body:
        try:
            root = parse_xml(nitf_body.encode("utf-8"))
        except ParseError:
            root = None
        if root is not None:
            _, paragraphs, _, _ = nitf.read_nitf(root)
            if paragraphs:
                return paragraphs
    html = js.s(obj, "body_html", "body_xhtml")
    if html:
        paragraphs = paragraphs_from_html(html)
        if paragraphs:
            return paragraphs
    return plain_paragraphs(js.s(obj, "body_text"))


def _assoc_captions(assoc) -> list[str]:
    """AP associations ({"1": {...}}) point at pictures with their own caption fields."""
    objs = list(assoc.values()) if isinstance(assoc, dict) else assoc
    if not isinstance(objs, list):
        return []
    out: list[str] = []
    for a in objs[:MAX_ITEMS_PER_PAYLOAD]:
        if not isinstance(a, dict) or js.s(a, "type").lower() not in MEDIA:
            continue
        cap = js.s(a, "description_caption", "headline")
        if cap and cap not in out:
            out.append(" ".join(cap.split()))
    return out or association_captions(assoc, 1)
