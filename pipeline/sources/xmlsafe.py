"""Hardened XML parsing and namespace-agnostic element helpers for the XML formats.

Wire XML comes from outside; the parser never loads a DTD, never resolves an entity, never
touches the network, and refuses entity declarations outright (the billion-laughs family
needs them, and no real wire item carries one). lxml's default depth and size limits stay
on (``huge_tree=False``), so a deeply nested or gigantic document fails fast with a reason.
"""

from __future__ import annotations

import re

from lxml import etree

from pipeline.sources.base import MAX_PAYLOAD_BYTES, ParseError, decode_text

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )


def parse_xml(body: bytes) -> etree._Element:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise ParseError(f"payload is {len(body)} bytes, over the {MAX_PAYLOAD_BYTES} byte limit")
    head = body[:65536]
    if _ENTITY_DECL.search(head) or (_DOCTYPE.search(head) and _ENTITY_DECL.search(body)):
        raise ParseError("XML declares entities (<!ENTITY>): refused as a possible entity bomb")
    stripped = body.lstrip(b" \t\r\n\x00")
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:].lstrip(b" \t\r\n")
    if not stripped:
        raise ParseError("empty payload")
    try:
        root = etree.fromstring(stripped, _parser())
    except etree.XMLSyntaxError as e:
        msg = str(e.msg if hasattr(e, "msg") else e)
        if "encoding" in msg.lower() or "input is not proper utf-8" in msg.lower():
            root = _reparse_decoded(stripped, msg)
        else:
            raise ParseError(f"not well-formed XML: {_one_line(msg)}") from None
    except ValueError as e:  # e.g. unicode strings with an encoding declaration
        raise ParseError(f"not well-formed XML: {_one_line(str(e))}") from None
    if root is None:
        raise ParseError("empty XML document")
    return root


def _reparse_decoded(body: bytes, first_error: str) -> etree._Element:
    """A wrong or missing charset declaration: decode leniently and parse the text."""
    text = _XML_DECL.sub("", decode_text(body), count=1)
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as e:
        raise ParseError(
            f"not well-formed XML ({_one_line(first_error)}; after re-decoding: "
            f"{_one_line(str(e))})"
        ) from None
    return root


def _one_line(msg: str) -> str:
    return " ".join(msg.split())[:300]


def local(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def kids(el, name: str) -> list:
    return [c for c in el if local(c) == name]


def kid(el, name: str):
    for c in el:
        if local(c) == name:
            return c
    return None


def path(el, *names: str):
    for n in names:
        if el is None:
            return None
        el = kid(el, n)
    return el


def descendants(el, name: str) -> list:
    return [d for d in el.iter() if local(d) == name]


def text(el) -> str:
    """All text inside an element, with breaks between block children kept as spaces."""
    if el is None:
        return ""
    return " ".join(" ".join(el.itertext()).split())


def attr(el, name: str, default: str = "") -> str:
    if el is None:
        return default
    for k, v in el.attrib.items():
        if k == name or k.rsplit("}", 1)[-1] == name:
            return v
    return default
