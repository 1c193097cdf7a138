"""Hardened XML parsing and namespace-agnostic element helpers for the XML formats.

Wire XML comes from outside; the parser never loads a DTD, never resolves an entity, never
touches the network, and refuses entity declarations outright (the billion-laughs family
needs them, and no real wire item carries one). lxml's default depth and size limits stay
on (``huge_tree=False``: at most 256 levels of nesting), so a deeply nested or gigantic
document fails fast with a reason.

Two kinds of damage are repaired rather than refused, because receivers meet them daily
and the text is still fine: a wrong or missing charset declaration (the bytes are decoded
leniently and parsed again) and stray control characters, which XML 1.0 forbids (dropped).
"""

from __future__ import annotations

import functools
import re

from lxml import etree

from pipeline.sources.base import MAX_PAYLOAD_BYTES, ParseError, decode_text

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_ENTITY_TEXT = "<!entity"
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["']""")
# How an XML parser reads a document that has no BOM (XML 1.0, appendix F): the bytes of
# "<?" (or of "<" and a letter) in each encoding it autodetects.
_FIRST_BYTES = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),
)
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# C0 controls other than tab, LF and CR are not allowed anywhere in an XML 1.0 document
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The first start tag after the prolog (declaration, comments, PIs, doctype); what sniffers
# look at, so a format is recognised by its root element and not by a word in the text.
_PROLOG_JUNK = re.compile(
    r"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)", re.S | re.I
)
_START_TAG = re.compile(r"\A<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)([^>]*)>?", re.S)
_XMLNS = re.compile(r"""xmlns(?::([\w.\-]+))?\s*=\s*["']([^"']*)["']""")


def root_tag(head: bytes) -> tuple[str, str] | None:
    """(local name, namespace URI) of the root element, read from the first bytes only.

    Works on truncated input (sniffing sees 8 KiB); None when no element starts there."""
    return _root_tag(bytes(head[:8192]))


# every XML sniffer asks for the same head's root: decode and scan it once
@functools.lru_cache(maxsize=4)
def _root_tag(head: bytes) -> tuple[str, str] | None:
    text = decode_text(head)
    for _ in range(200):  # bounded: a prolog of endless comments is not worth more
        m = _PROLOG_JUNK.match(text)
        if not m or not m.group(0):
            break
        text = text[m.end() :]
    m = _START_TAG.match(text)
    if not m:
        return None
    prefix = (m.group(1) or "")[:-1]
    ns = ""
    for decl in _XMLNS.finditer(m.group(3) or ""):
        if (decl.group(1) or "") == prefix:
            ns = decl.group(2)
    return m.group(2), ns


def _encodings(body: bytes) -> list[str]:
    """The encodings an XML parser might read ``body`` in, besides ASCII-compatible ones:
    by its BOM, by its first bytes, by its declared encoding."""
    encodings = [enc for bom, enc in _BOMS if body.startswith(bom)][:1]
    head = body.lstrip(b" \t\r\n")
    encodings += [enc for first, enc in _FIRST_BYTES if head.startswith(first)][:1]
    m = _DECLARED.match(body)
    if m:
        encodings.append(m.group(1).decode("ascii"))
    out = []
    for enc in dict.fromkeys(encodings):
        try:
            if "<!ENTITY".encode(enc) != b"<!ENTITY":
                out.append(enc)
        except (LookupError, UnicodeError):  # unknown to Python: the parser refuses it too
            continue
    return out


def declares_entities(body: bytes) -> bool:
    """True when the document declares an entity in any encoding a parser could read it
    in (UTF-8, UTF-16/32 with or without a BOM, a declared charset). The one rule for every
    XML format: such a document is refused before any parser sees it."""
    if _ENTITY_DECL.search(body):
        return True
    return any(
        _ENTITY_TEXT in body.decode(enc, errors="replace").lower() for enc in _encodings(body)
    )


def looks_like_xml(body: bytes) -> bool:
    """The payload starts with markup once its BOM and encoding are taken into account."""
    head = body[:4096]
    texts = [head.decode("latin-1")]
    texts += [head.decode(enc, errors="replace") for enc in _encodings(head)]
    return any(t.lstrip("\ufeff\xef\xbb\xbf \t\r\n\x00")[:1] == "<" for t in texts)


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
    # anywhere, not just in the head: a prolog padded with comments must not hide one
    if declares_entities(body):
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
        low = msg.lower()
        if "encoding" in low or "not proper utf-8" in low or "char value" in low:
            root = _reparse_decoded(stripped, msg)
        else:
            raise ParseError(f"not well-formed XML: {_one_line(msg)}") from None
    except ValueError as e:  # e.g. unicode strings with an encoding declaration
        raise ParseError(f"not well-formed XML: {_one_line(str(e))}") from None
    if root is None:
        raise ParseError("empty XML document")
    return root


def _reparse_decoded(body: bytes, first_error: str) -> etree._Element:
    """A wrong or missing charset declaration, or forbidden control characters: decode
    leniently, drop the controls and parse the text once more."""
    text = _XML_DECL.sub("", decode_text(body), count=1)
    try:
        root = etree.fromstring(_CONTROL.sub(b"", text.encode("utf-8")), _parser())
    except (etree.XMLSyntaxError, ValueError) as e:
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


# "{*}name" matches the local name in any namespace or none, as ``local`` compares: lxml
# does the matching in C instead of a Python call per child (parsers ask for many children)


def kids(el, name: str) -> list:
    if el is None:  # a missing parent has no children: optional blocks stay optional
        return []
    return list(el.iterchildren("{*}" + name))


def kid(el, name: str):
    if el is None:
        return None
    return next(el.iterchildren("{*}" + name), None)


def path(el, *names: str):
    for n in names:
        if el is None:
            return None
        el = kid(el, n)
    return el


def descendants(el, name: str) -> list:
    return list(el.iter("{*}" + name))


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
