"""RSS 2.0 and Atom feeds (Xinhua's English feed and the like).

Each ``<item>`` / ``<entry>`` is one item keyed by its guid (RSS ``guid``, else ``link``;
Atom ``id``, else ``link``), normalised to the story id: tracking parameters (``utm_*``,
``from``, ``spm``, ``fbclid`` ...) and fragments are removed, scheme and host are lower
case, so the same story re-posted with ``?utm_source=...`` is the same item; parameters
that may select the story (``?id=3``) stay. The HTML description (``content:encoded`` when the
feed has it) becomes paragraphs, ``media:description`` gives captions; the item's
``pubDate`` (Atom ``updated``) orders its versions when it reappears in a later feed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeline.model import WireItem
from pipeline.sources.base import (
    MAX_ITEMS_PER_PAYLOAD,
    Parsed,
    ParseError,
    Problem,
    parse_iso,
    parse_rfc822,
)
from pipeline.sources.html_text import paragraphs_from_html
from pipeline.sources.xmlsafe import attr, kid, kids, local, parse_xml, root_tag, text

NAME = "rss"

_TRACKING_PREFIXES = ("utm_", "mc_", "at_", "pk_", "itm_")
_TRACKING_NAMES = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "ref",
    "from",
    "source",
    "spm",
    "cmp",
    "rss",
    "feed",
    "ncid",
    "feedtype",
    "feedname",
    "share",
    "s_cid",
}


def sniff(head: bytes, filename: str) -> int:
    root = root_tag(head)
    if root is None:
        return 0
    name = root[0].lower()
    if name in ("rss", "rdf"):
        return 90
    if name == "feed" and "w3.org/2005/atom" in root[1].lower():
        return 90
    if name == "feed":
        return 60
    return 0


def normalise_guid(guid: str) -> str:
    """Drop tracking parameters and fragments from URL-shaped guids; keep others as they are."""
    g = guid.strip()
    if not g.lower().startswith(("http://", "https://")):
        return g
    try:
        parts = urlsplit(g)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:  # not really a URL: keep the guid as sent
        return g
    query = [
        (k, v)
        for k, v in query
        if not (k.lower().startswith(_TRACKING_PREFIXES) or k.lower() in _TRACKING_NAMES)
    ]
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, urlencode(query), ""))


def parse(body: bytes, source: str, filename: str) -> Parsed:
    root = parse_xml(body)
    name = local(root)
    if name == "rss":
        channel = kid(root, "channel")
        entries = kids(channel, "item") if channel is not None else []
        atom = False
    elif name == "RDF":
        entries = kids(root, "item")
        atom = False
    elif name == "feed":
        entries = kids(root, "entry")
        atom = True
    else:
        raise ParseError(f"not an RSS/Atom feed: root element is <{name}>")
    if len(entries) > MAX_ITEMS_PER_PAYLOAD:
        raise ParseError(f"{len(entries)} entries in one feed, over the limit")
    if not entries:
        raise ParseError("feed has no items")
    out = Parsed(format=NAME)
    for i, e in enumerate(entries, 1):
        try:
            out.items.append(_atom_entry(e, source) if atom else _rss_item(e, source))
        except ParseError as err:
            out.problems.append(Problem(f"#{i}", str(err)))
    return out


def _rss_item(el, source: str) -> WireItem:
    guid = text(kid(el, "guid")) or text(kid(el, "link"))
    if not guid:
        raise ParseError("RSS item without guid or link")
    desc = ""
    for k in el:
        if local(k) == "encoded":  # content:encoded carries the full text when present
            desc = k.text or ""
            break
    if not desc:
        d = kid(el, "description")
        desc = (d.text or "") if d is not None else ""
    paras = paragraphs_from_html(desc)
    title = text(kid(el, "title"))
    if not paras and not title:
        raise ParseError(f"RSS item {guid} has neither title nor description")
    if not paras:
        raise ParseError(f"RSS item {guid} has an empty description")
    when = parse_rfc822(text(kid(el, "pubDate"))) or parse_iso(text(kid(el, "date")))
    return WireItem(
        source=source,
        item_id=normalise_guid(guid),
        format=NAME,
        headline=title,
        paragraphs=tuple(paras),
        captions=_media_captions(el),
        version=when.isoformat() if when else "",
        version_created=when,
        first_created=when,
        extra=(("link", text(kid(el, "link"))),),
    )


def _atom_entry(el, source: str) -> WireItem:
    links = [
        attr(ln, "href") for ln in kids(el, "link") if attr(ln, "rel", "alternate") == "alternate"
    ]
    guid = text(kid(el, "id")) or (links[0] if links else "")
    if not guid:
        raise ParseError("Atom entry without id or link")
    content = kid(el, "content")
    if content is None:
        content = kid(el, "summary")
    if content is None:
        raise ParseError(f"Atom entry {guid} has no content or summary")
    if attr(content, "type") == "xhtml":
        from lxml import etree

        raw = "".join(etree.tostring(c, encoding="unicode") for c in content)
    else:
        raw = content.text or ""
    paras = paragraphs_from_html(raw)
    if not paras:
        raise ParseError(f"Atom entry {guid} has empty content")
    updated = parse_iso(text(kid(el, "updated")))
    published = parse_iso(text(kid(el, "published"))) or updated
    return WireItem(
        source=source,
        item_id=normalise_guid(guid),
        format=NAME,
        headline=text(kid(el, "title")),
        paragraphs=tuple(paras),
        version=updated.isoformat() if updated else "",
        version_created=updated or published,
        first_created=published,
    )


def _media_captions(el) -> tuple[str, ...]:
    """Media RSS ``<media:content><media:description>`` (or a bare media:description)."""
    out: list[str] = []
    for d in el.iter():
        if local(d) == "description" and "search.yahoo.com/mrss" in str(d.tag):
            t = text(d)
            if t and t not in out:
                out.append(t)
    return tuple(out)
