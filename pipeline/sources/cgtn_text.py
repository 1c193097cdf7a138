"""CGTN article pages saved as plain text.

Layout (see ``../shared/samples/seed/``)::

    Title line
    Updated 09:30, 29-Jun-2019          (or: 2026.09.29 14:15 GMT+8)
    CGTN                                (source line, optional)
    []                                  (tag line, optional)
    paragraph

    paragraph ...

Captions (each printed twice), ``Read more:`` blocks and ``(With input from ...)`` are
ordinary paragraphs here; ``pipeline.text`` recognises them. The item id is the file stem.
CGTN prints Beijing time; "Updated" stamps without a zone are read as GMT+8.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath

from pipeline.model import WireItem
from pipeline.sources.base import MAX_PAYLOAD_BYTES, Parsed, ParseError, decode_text, tz_offset
from pipeline.text.normalize import MONTHS

NAME = "cgtn-text"

_UPDATED = re.compile(
    r"^(?:Updated\s+)?(\d{1,2}):(\d{2}),\s*(\d{1,2})-([A-Za-z]{3})-(\d{4})\s*$", re.I
)
_DOTTED = re.compile(
    r"^(?:Updated\s+)?(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})\s+(\d{1,2}):(\d{2})"
    r"(?::\d{2})?\s*(?:(?:GMT|UTC)\s*([+-]\d{1,2})(?::?(\d{2}))?)?\s*$",
    re.I,
)
BEIJING = tz_offset(8)


def parse_date_line(line: str) -> datetime | None:
    s = line.strip()
    m = _UPDATED.match(s)
    if m:
        hh, mm, dd, mon, yyyy = m.groups()
        month = MONTHS.get(mon.lower())
        if month is None:
            return None
        try:
            return datetime(int(yyyy), month, int(dd), int(hh), int(mm), tzinfo=BEIJING)
        except ValueError:
            return None
    m = _DOTTED.match(s)
    if m:
        yyyy, mo, dd, hh, mi, tzh, tzm = m.groups()
        tz = BEIJING
        if tzh is not None:
            sign = -1 if tzh.startswith("-") else 1
            tz = tz_offset(int(tzh) + sign * int(tzm or 0) / 60)
        try:
            return datetime(int(yyyy), int(mo), int(dd), int(hh), int(mi), tzinfo=tz)
        except ValueError:
            return None
    return None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def sniff(head: bytes, filename: str) -> int:
    if head.lstrip()[:1] in (b"<", b"{", b"["):
        return 0
    text = decode_text(head[:4096])
    lines = [ln.strip() for ln in _lines(text)]
    lines = [ln for ln in lines if ln][:4]
    if len(lines) >= 2 and any(parse_date_line(ln) for ln in lines[1:3]):
        return 85
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise ParseError(f"payload is {len(body)} bytes, over the {MAX_PAYLOAD_BYTES} byte limit")
    text = decode_text(body)
    if "\x00" in text:
        raise ParseError("binary data in a text page (NUL bytes)")
    lines = _lines(text)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ParseError("empty page")
    title = lines[0].strip()
    when = None
    i = 1
    # the date is on the line after the title; tolerate a blank line in between
    while i < min(len(lines), 4):
        if lines[i].strip():
            when = parse_date_line(lines[i])
            if when is not None:
                i += 1
            break
        i += 1
    if when is None:
        raise ParseError("no 'Updated HH:MM, DD-Mon-YYYY' date line after the title")
    # optional source line and tag line
    header_left = 2
    while i < len(lines) and header_left:
        s = lines[i].strip()
        if not s:
            i += 1
            continue
        if s.startswith("[") and s.endswith("]"):
            i += 1
            header_left = 0
            break
        if len(s.split()) <= 4 and not re.search(r"[.!?\"]$", s):
            i += 1
            header_left -= 1
            continue
        break
    paragraphs = _paragraphs(lines[i:])
    if not paragraphs:
        raise ParseError("page has a header but no paragraphs")
    stem = PurePath(filename).stem if filename else ""
    if not stem:
        raise ParseError("CGTN page needs a file name: the item id is the file stem")
    return Parsed(
        format=NAME,
        items=[
            WireItem(
                source=source,
                item_id=stem,
                format=NAME,
                headline=title,
                paragraphs=tuple(paragraphs),
                version=when.isoformat(),
                version_created=when,
                first_created=when,
            )
        ],
    )


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated paragraphs; a page without blank lines has one per line."""
    if any(not ln.strip() for ln in lines):
        out, buf = [], []
        for ln in lines:
            if ln.strip():
                buf.append(ln.strip())
            elif buf:
                out.append(" ".join(buf))
                buf = []
        if buf:
            out.append(" ".join(buf))
        return out
    return [ln.strip() for ln in lines if ln.strip()]
