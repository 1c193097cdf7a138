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

from pipeline.model import WireItem


class ParseError(Exception):
    """The whole payload is unusable; the message is the one-line quarantine reason."""


@dataclass(frozen=True)
class Problem:
    item_key: str | None
    reason: str


@dataclass
class Parsed:
    format: str
    items: list[WireItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# Payload limits: a wire item is a few kilobytes; anything near these is an accident or an
# attack, and is quarantined with the limit named rather than parsed.
MAX_PAYLOAD_BYTES = 20 * 1024 * 1024
MAX_ITEMS_PER_PAYLOAD = 5000


def decode_text(body: bytes, declared: str | None = None) -> str:
    """Bytes to str for the text formats: BOM first, then the declared charset, then UTF-8,
    then cp1252 (the usual culprit of "mixed encodings"); never raises for bad bytes."""
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
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace")


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
