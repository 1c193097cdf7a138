"""IPTC NewsML 1.x (AFP, Business Wire and other agencies still send it): a ``NewsML``
envelope holding ``NewsItem``s.

Read per ``NewsItem``: the item id is the ``PublicIdentifier`` without its revision suffix
(``urn:newsml:afp.com:20140829T135002Z:TX-PAR-FXW86``), so every revision of one item is
one item; ``RevisionId`` is the version; ``ThisRevisionCreated`` orders versions,
``FirstCreated`` is the first publication; ``Status`` (Usable, Withheld, Canceled) the
status; ``HeadLine`` and ``DateLine`` from the ``NewsLines``. The text is the first text
``ContentItem`` (a component with role Body first), carried as NITF, XHTML or plain text;
components whose role is a style sheet, logo, contact block or repeated headline are
furniture, and a component with role Caption gives a caption.
"""

from __future__ import annotations

from pipeline.model import USABLE, WireItem
from pipeline.sources import nitf
from pipeline.sources.base import (
    MAX_ITEMS_PER_PAYLOAD,
    Parsed,
    ParseError,
    Problem,
    parse_iso,
    pub_status,
)
from pipeline.sources.newsml import _plain_paragraphs, _xhtml_blocks
from pipeline.sources.xmlsafe import attr, descendants, kid, kids, local, parse_xml, path, root_tag
from pipeline.sources.xmlsafe import text as el_text

NAME = "newsml-1"

_FURNITURE = {"stylesheet", "logo", "contact", "headline", "boilerplate", "aboutcompany"}
_TEXT_MEDIA = {"text", "", "complexdata"}


def sniff(head: bytes, filename: str) -> int:
    root = root_tag(head)
    if root and root[0] == "NewsML":
        return 95
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    root = parse_xml(body)
    name = local(root)
    if name == "NewsML":
        items = kids(root, "NewsItem")
    elif name == "NewsItem":
        items = [root]
    else:
        raise ParseError(f"not a NewsML 1 document: root element is <{name}>")
    if not items:
        raise ParseError("NewsML 1 document without any NewsItem")
    if len(items) > MAX_ITEMS_PER_PAYLOAD:
        raise ParseError(f"{len(items)} items in one document, over the limit")
    out = Parsed(format=NAME)
    for i, el in enumerate(items, 1):
        ident = path(el, "Identification", "NewsIdentifier")
        item_id = _item_id(ident)
        if not item_id:
            out.problems.append(Problem(f"#{i}", "NewsItem without a NewsIdentifier"))
            continue
        try:
            out.items.append(_item(el, ident, item_id, source))
        except ParseError as e:
            out.problems.append(Problem(f"{source}:{item_id}", str(e)))
    return out


def _item_id(ident) -> str:
    if ident is None:
        return ""
    public = el_text(kid(ident, "PublicIdentifier"))
    rev = el_text(kid(ident, "RevisionId"))
    if public:
        if rev and public.endswith(":" + rev):
            public = public[: -len(rev) - 1]
        return public
    parts = [el_text(kid(ident, n)) for n in ("ProviderId", "DateId", "NewsItemId")]
    if not parts[2]:
        return ""
    return "urn:newsml:" + ":".join(parts)


def _item(el, ident, item_id: str, source: str) -> WireItem:
    mgmt = kid(el, "NewsManagement")
    raw_status = attr(kid(mgmt, "Status"), "FormalName", "Usable") if mgmt is not None else ""
    status = pub_status(raw_status)
    if status is None:
        raise ParseError(f"unknown Status {raw_status!r}")
    headline = ""
    facts: list[tuple[str, str]] = []
    for lines in descendants(el, "NewsLines"):
        headline = headline or el_text(kid(lines, "HeadLine"))
        for tag, fact in (("DateLine", "dateline"), ("SlugLine", "slugline")):
            t = el_text(kid(lines, tag))
            if t and fact not in dict(facts):
                facts.append((fact, t))
    paragraphs, captions = _content(el)
    if status == USABLE and not paragraphs:
        raise ParseError("NewsItem has no text content")
    revised = parse_iso(el_text(kid(mgmt, "ThisRevisionCreated"))) if mgmt is not None else None
    first = parse_iso(el_text(kid(mgmt, "FirstCreated"))) if mgmt is not None else None
    lang = attr(el, "lang") or attr(next(iter(descendants(el, "Language")), None), "FormalName")
    return WireItem(
        source=source,
        item_id=item_id,
        format=NAME,
        headline=headline,
        paragraphs=tuple(paragraphs),
        version=el_text(kid(ident, "RevisionId")),
        version_created=revised or first,
        first_created=first,
        pub_status=status,
        captions=tuple(captions),
        language=lang,
        extra=tuple(facts),
    )


def _role(item) -> str:
    """Role of the nearest NewsComponent around ``item`` that declares one."""
    for anc in item.iterancestors():
        if local(anc) == "NewsComponent":
            r = attr(kid(anc, "Role"), "FormalName")
            if r:
                return r.lower().replace(" ", "")
    return ""


def _content(el) -> tuple[list[str], list[str]]:
    bodies: list[tuple[int, list[str]]] = []
    captions: list[str] = []
    for ci in descendants(el, "ContentItem"):
        role = _role(ci)
        media = attr(kid(ci, "MediaType"), "FormalName").lower()
        data = kid(ci, "DataContent")
        if data is None or role in _FURNITURE or media not in _TEXT_MEDIA:
            continue
        paragraphs, caps = _data_text(data)
        if "caption" in role:
            captions.extend(paragraphs)
            continue
        captions.extend(caps)
        if paragraphs:
            bodies.append((0 if role in ("body", "main") else 1, paragraphs))
    bodies.sort(key=lambda b: b[0])  # stable: the first Body component, else the first text
    return (bodies[0][1] if bodies else []), captions


def _data_text(data) -> tuple[list[str], list[str]]:
    child = next((c for c in data if local(c)), None)
    if child is None:
        return _plain_paragraphs(data.text or ""), []
    if local(child).lower() == "nitf":
        _, paragraphs, captions, _ = nitf.read_nitf(child)
        return paragraphs, captions
    return _xhtml_blocks(child), []
