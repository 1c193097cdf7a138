"""What every format module provides, and the errors parsers raise.

A format module is a plain module with four names:

* ``NAME``: short format name stored with each payload ("newsml-g2", "rss", ...)
* ``sniff(head: bytes, filename: str) -> int``: confidence 0..100 that this payload is in
  this format, looking at content first (the folder it came from is only a tie-breaker)
* ``parse(body: bytes, source: str, filename: str) -> Parsed``: items and per-item
  problems; raises ``ParseError`` when the payload as a whole is unusable
* it is listed in ``pipeline.sources.registry.FORMATS``

Parsers are pure: bytes in, WireItems out; no database, no network, no clock.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from pipeline.model import CANCELED, USABLE, WITHHELD, WireItem


class ParseError(Exception):
    """The whole payload is unusable; the message is the one-line quarantine reason."""


@dataclass(frozen=True)
class Problem:
    item_key: str | None
    reason: str


@dataclass(frozen=True)
class PackageLink:
    """A package (NewsML-G2 ``packageItem``) puts a picture next to a text item.

    The picture's caption belongs to the text item's article: ingest stores the link and
    gives the text article the caption of the picture item when that has arrived, else
    ``caption`` (what the package itself says about the picture)."""

    package_key: str
    text_key: str
    picture_key: str
    ord: int
    caption: str = ""


@dataclass
class Parsed:
    format: str
    items: list[WireItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # package links (see PackageLink); a payload with links and no items is still parsed
    links: list[PackageLink] = field(default_factory=list)
    # when the payload came from a newer package version: package key -> versionCreated
    link_versions: dict[str, datetime | None] = field(default_factory=dict)


# Every format's publication-status vocabulary mapped onto the model's three values. The
# misspelling "cancelled" is common enough (ninjs' own test suite has it) to accept.
_STATUS = {
    "usable": USABLE,
    "canceled": CANCELED,
    "cancelled": CANCELED,
    "withheld": WITHHELD,
    "embargoed": WITHHELD,  # NITF management-status: not to be used yet
}


def pub_status(value: str | None) -> str | None:
    """'stat:canceled', 'Canceled', 'usable' ... -> model status; None for an unknown word,
    '' -> usable (every format's default)."""
    v = (value or "").strip().rsplit(":", 1)[-1].strip().lower()
    if not v:
        return USABLE
    return _STATUS.get(v)


# Payload limits: a wire item is a few kilobytes; anything near these is an accident or an
# attack, and is quarantined with the limit named rather than parsed.
MAX_PAYLOAD_BYTES = 20 * 1024 * 1024
MAX_ITEMS_PER_PAYLOAD = 5000


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as cp1252, one at a time.

    "Mixed encodings" in wire copy is nearly always a UTF-8 file with a few Windows-1252
    bytes pasted in (curly quotes, dashes); reading the whole file as cp1252 would turn every
    correct UTF-8 character into mojibake, so only the bad bytes are re-read."""
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return bad.decode("cp1252", errors="replace"), err.end


codecs.register_error("newsdedup-cp1252", _cp1252_fallback)


def decode_text(body: bytes, declared: str | None = None) -> str:
    """Bytes to str for the text formats: BOM first, then the declared charset, then UTF-8
    with stray non-UTF-8 bytes read as cp1252; never raises for bad bytes."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(enc, errors="replace")
    if declared:
        try:
            return body.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    if _looks_utf16(body):
        return body.decode("utf-16-le" if body[1:2] == b"\x00" else "utf-16-be", errors="replace")
    return body.decode("utf-8", errors="newsdedup-cp1252")


def _looks_utf16(body: bytes) -> bool:
    """UTF-16 without a BOM: every other byte of ASCII-range text is NUL."""
    head = body[:200]
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return odd.count(0) > 0.9 * len(odd) or even.count(0) > 0.9 * len(even)


def parse_iso(value: str | None) -> datetime | None:
    """ISO 8601 timestamps as wire formats write them; naive ones are taken as UTC."""
    if not value:
        return None
    v = value.strip()
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    # 20190617T000036+0000 (basic format, seen in AP and ninjs feeds)
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(.*)", v)
    if m:
        v = "{}-{}-{}T{}:{}:{}{}".format(*m.groups())
    v = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", v)
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_rfc822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return parse_iso(value)
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def tz_offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))
