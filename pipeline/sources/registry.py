"""The list of formats, content sniffing, and the one entry point ingest calls.

Adding a format: write ``pipeline/sources/<format>.py`` with NAME, sniff and parse (see
``pipeline.sources.base``) and add the module to ``FORMATS`` below.
"""

from __future__ import annotations

import dataclasses
import re
from types import ModuleType

from pipeline.model import WireItem
from pipeline.sources import (
    apjson,
    article_html,
    cgtn_text,
    newsml,
    newsml1,
    ninjs,
    nitf,
    rss,
    schema_docs,
    xmlsafe,
)
from pipeline.sources.base import MAX_PAYLOAD_BYTES, Parsed, ParseError, Problem

FORMATS: tuple[ModuleType, ...] = (
    newsml,
    newsml1,
    nitf,
    rss,
    ninjs,
    apjson,
    cgtn_text,
    article_html,
    schema_docs,
)

# The folder a file came from breaks ties between formats that sniff equally well.
FOLDER_HINTS = {"reuters": newsml.NAME, "xinhua": rss.NAME, "cgtn": cgtn_text.NAME}

SNIFF_BYTES = 8192


def sniff(body: bytes, filename: str = "", source: str = "") -> ModuleType | None:
    head = body[:SNIFF_BYTES]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    scored = []
    for f in FORMATS:
        try:
            score = f.sniff(head, filename)
        except Exception:  # a sniffer must never stop ingest; it just does not claim the file
            score = 0
        if score > 0:
            hint = 1 if FOLDER_HINTS.get(source) == f.NAME else 0
            scored.append((score, hint, f))
    if not scored:
        return None
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return scored[0][2]


def parse_payload(body: bytes, source: str, filename: str = "", size: int | None = None) -> Parsed:
    """Sniff and parse one payload. Never raises: an unusable payload comes back as a
    Parsed with no items and one problem, whose reason is the quarantine reason.

    ``size`` is the size of the payload as it arrived when ``body`` holds only its first
    bytes (an oversize file is stored that way): such a payload is refused by its size."""
    size = len(body) if size is None else size
    if size > MAX_PAYLOAD_BYTES:
        kept = f"; only its first {len(body)} bytes were kept" if len(body) < size else ""
        return _failed(
            "unknown", f"payload is {size} bytes, over the {MAX_PAYLOAD_BYTES} byte limit{kept}"
        )
    if not body.removeprefix(b"\xef\xbb\xbf").strip():
        return _failed("unknown", "empty payload")
    if xmlsafe.looks_like_xml(body) and xmlsafe.declares_entities(body):
        # whatever the format: no XML parser here ever sees an entity declaration
        return _failed(
            "xml", "XML declares entities (<!ENTITY>): refused as a possible entity bomb"
        )
    fmt = sniff(body, filename, source)
    if fmt is None:
        return _failed("unknown", "unrecognised format: " + _describe(body))
    try:
        parsed = fmt.parse(body, source, filename)
    except ParseError as e:
        return _failed(fmt.NAME, str(e))
    except RecursionError:
        return _failed(fmt.NAME, "document nested too deeply")
    except MemoryError:
        return _failed(fmt.NAME, "document too large to parse in memory")
    except Exception as e:  # a parser bug must quarantine the payload, not stop the batch
        return _failed(fmt.NAME, f"parser error {type(e).__name__}: {e}")
    for p in parsed.problems:  # reasons are one line, whatever a parser wrote
        object.__setattr__(p, "reason", _one_line(p.reason))
    parsed.items = [_storable(it) for it in parsed.items]
    return parsed


# NUL and lone surrogates (JSON can escape both: "\u0000", "\ud800") cannot be stored in
# PostgreSQL text nor encoded as UTF-8; other C0 controls are not text either.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _storable(item: WireItem) -> WireItem:
    """The item with every string made storable, whatever the parser let through."""
    if _clean_already(item):
        return item

    def c(v: str) -> str:
        return _UNSTORABLE.sub("", v) if _UNSTORABLE.search(v) else v

    def cs(vs) -> tuple:
        return tuple(x for x in (c(v) for v in vs) if x)

    return dataclasses.replace(
        item,
        source=c(item.source),
        item_id=c(item.item_id) or "?",
        headline=c(item.headline),
        paragraphs=cs(item.paragraphs),
        version=c(item.version),
        ed_stat=c(item.ed_stat),
        captions=cs(item.captions),
        lineage=tuple((c(a), c(b)) for a, b in item.lineage),
        language=c(item.language),
        extra=tuple((c(a), c(b)) for a, b in item.extra),
    )


def _clean_already(item: WireItem) -> bool:
    """``_storable`` would change nothing: one scan of all the strings instead of a search
    per string and a new item (the common case)."""
    if not item.item_id or not isinstance(item.paragraphs, tuple):
        return False
    if not isinstance(item.captions, tuple) or not all(item.paragraphs) or not all(item.captions):
        return False
    pairs = (*item.lineage, *item.extra)
    if not (isinstance(item.lineage, tuple) and isinstance(item.extra, tuple)):
        return False
    if not all(type(p) is tuple and len(p) == 2 for p in pairs):
        return False
    strings = [item.source, item.item_id, item.headline, item.version, item.ed_stat]
    strings += [*item.paragraphs, *item.captions, item.language]
    strings += [x for pair in pairs for x in pair]
    return _UNSTORABLE.search("\n".join(strings)) is None


def _describe(body: bytes) -> str:
    """What the payload looks like, for the "unrecognised format" reason."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"\x00" in body[:512] and not head.startswith((b"<", b"{")):
        return "binary data"
    if head.startswith(b"<"):
        return "XML/HTML that is not NewsML, NITF, RSS/Atom or an article page"
    if head.startswith((b"{", b"[")):
        return "JSON that is not ninjs or AP"
    return "text that is not a CGTN page (no date line after the title)"


def _one_line(reason: str) -> str:
    return " ".join(str(reason).split())[:500] or "unusable payload"


def _failed(fmt: str, reason: str) -> Parsed:
    p = Parsed(format=fmt)
    p.problems.append(Problem(None, _one_line(reason)))
    return p
