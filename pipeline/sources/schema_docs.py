"""Schema documents that land in a wire drop: XML Schemas (the NewsML-G2 and NITF XSDs) and
JSON Schemas (the ninjs schemas).

They are format definitions, not news: recognised so their quarantine reason says exactly
that instead of "unrecognised format". ``parse`` always refuses.
"""

from __future__ import annotations

from pipeline.sources import jsonsafe as js
from pipeline.sources.base import Parsed, ParseError
from pipeline.sources.xmlsafe import root_tag

NAME = "schema"

XSD_NS = "http://www.w3.org/2001/XMLSchema"


def sniff(head: bytes, filename: str) -> int:
    if js.looks_like_json(head):
        if b'"$schema"' in head and (b'"properties"' in head or b'"$defs"' in head):
            return 99
        return 0
    root = root_tag(head)
    if root and root[0] == "schema" and root[1] == XSD_NS:
        return 99
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    head = body[:8192]
    if js.looks_like_json(head):
        raise ParseError("a JSON Schema (format definition), not a news item")
    raise ParseError("an XML Schema (XSD, format definition), not a news item")
