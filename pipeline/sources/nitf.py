"""IPTC NITF (News Industry Text Format) documents, and the NITF body reader that the
NewsML formats use for NITF carried inline.

Read: ``docdata/doc-id@id-string`` (else the file stem) as the item id; ``du-key@version``
as the version; ``date.issue`` (else ``pubdata@date.publication``) as versionCreated;
``docdata@management-status`` (usable, withheld, canceled) as the status; ``hedline/hl1``
(else ``head/title``) as the headline; the paragraphs of ``body.content`` (``p``, ``hl2``
sub-heads, list items and table rows as lines); ``media-caption`` of images as captions;
``body.head/dateline`` and ``byline`` as facts kept with the item. ``abstract`` is a summary
of the body, so it is not read as body text.
"""

from __future__ import annotations

from pathlib import PurePath

from pipeline.model import WireItem
from pipeline.sources.base import Parsed, ParseError, parse_iso, pub_status
from pipeline.sources.xmlsafe import attr, descendants, kid, local, parse_xml, path, root_tag, text

NAME = "nitf"

_BLOCKS = {"p", "hl2", "hl3", "li", "pre", "blockquote", "dd", "dt", "tr", "bq"}


def sniff(head: bytes, filename: str) -> int:
    root = root_tag(head)
    if root and root[0].lower() == "nitf":
        return 95
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    root = parse_xml(body)
    if local(root).lower() != "nitf":
        raise ParseError(f"not an NITF document: root element is <{local(root)}>")
    docdata = path(root, "head", "docdata")
    item_id = attr(kid(docdata, "doc-id"), "id-string").strip() if docdata is not None else ""
    if not item_id:
        item_id = PurePath(filename).stem if filename else ""
    if not item_id:
        raise ParseError("NITF document without doc-id@id-string or a file name to key it by")
    headline, paragraphs, captions, facts = read_nitf(root)
    raw_status = attr(docdata, "management-status", "usable")
    status = pub_status(raw_status)
    if status is None:
        raise ParseError(f"NITF document {item_id}: unknown management-status {raw_status!r}")
    issued = None
    version = ""
    if docdata is not None:
        issued = parse_iso(attr(kid(docdata, "date.issue"), "norm"))
        version = attr(kid(docdata, "du-key"), "version")
    pubdata = path(root, "head", "pubdata")
    if issued is None and pubdata is not None:
        issued = parse_iso(attr(pubdata, "date.publication"))
    if not headline:
        headline = text(path(root, "head", "title"))
    if status == "usable" and not paragraphs:
        raise ParseError("NITF document has no body text")
    return Parsed(
        format=NAME,
        items=[
            WireItem(
                source=source,
                item_id=item_id,
                format=NAME,
                headline=headline,
                paragraphs=tuple(paragraphs),
                version=version or (issued.isoformat() if issued else ""),
                version_created=issued,
                first_created=issued,
                pub_status=status,
                captions=tuple(captions),
                language=attr(root, "baselang") or attr(root, "lang"),
                extra=tuple(facts),
            )
        ],
    )


def read_nitf(nitf) -> tuple[str, list[str], list[str], list[tuple[str, str]]]:
    """(headline, body paragraphs, image captions, facts) of an ``<nitf>`` element."""
    body = kid(nitf, "body")
    if body is None:
        return "", [], [], []
    bhead = kid(body, "body.head")
    headline = text(path(bhead, "hedline", "hl1")) if bhead is not None else ""
    facts: list[tuple[str, str]] = []
    if bhead is not None:
        for name in ("dateline", "byline", "distributor"):
            t = text(kid(bhead, name))
            if t:
                facts.append((name, t))
    content = kid(body, "body.content")
    paragraphs = block_texts(content) if content is not None else []
    captions = [t for t in (text(c) for c in descendants(body, "media-caption")) if t]
    return headline, paragraphs, captions, facts


def block_texts(container) -> list[str]:
    """Text of the innermost block elements under ``container``, in document order.

    Captions of ``<media>`` elements are left out (they are captions, not body), and a block
    inside another block is read once."""
    out: list[str] = []
    for el in container.iter():
        name = local(el).lower()
        if name not in _BLOCKS:
            continue
        if any(local(a).lower() in ("media", "media-caption") for a in el.iterancestors()):
            continue
        if any(local(d).lower() in _BLOCKS for d in el.iterdescendants()):
            continue
        t = " ".join(" ".join(el.itertext()).split()) if name != "tr" else _row(el)
        if t:
            out.append(t)
    if not out:
        t = text(container)
        if t:
            out.append(t)
    return out


def _row(tr) -> str:
    cells = [" ".join(" ".join(c.itertext()).split()) for c in tr if local(c) in ("td", "th")]
    return " | ".join(c for c in cells if c)
