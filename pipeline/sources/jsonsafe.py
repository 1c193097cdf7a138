"""JSON loading and type-safe field access for the JSON wire formats.

Wire JSON comes from outside: a field that should be a string may be a number, a list, an
object or null, and the document may be nested thousands of levels deep. Every accessor
here returns the expected type or an empty value, so a parser never fails on a type it did
not expect; ``load`` turns every way the bytes can fail to be JSON into a ``ParseError``.
"""

from __future__ import annotations

import json
import re

from pipeline.sources.base import MAX_PAYLOAD_BYTES, ParseError, decode_text

# json's C decoder raises RecursionError on a nesting bomb (about 1000 levels), which is
# turned into a reason below; the parsers themselves walk at most a few levels.


_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def load(body: bytes):
    if len(body) > MAX_PAYLOAD_BYTES:
        raise ParseError(f"payload is {len(body)} bytes, over the {MAX_PAYLOAD_BYTES} byte limit")
    text = decode_text(body).strip()
    if not text:
        raise ParseError("empty payload")
    try:
        return json.loads(text)
    except RecursionError:
        raise ParseError("JSON nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, and ints longer than Python will convert
        raise ParseError(f"not valid JSON: {' '.join(str(e).split())[:200]}") from None


def s(obj, *keys: str) -> str:
    """The first of ``keys`` in ``obj`` holding a non-empty string (numbers are written out);
    NULs, other control characters and lone surrogates (JSON escapes them) are removed."""
    if not isinstance(obj, dict):
        return ""
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str):
            v = _BAD.sub("", v).strip()
            if v:
                return v
        if isinstance(v, int | float) and not isinstance(v, bool):
            return str(v)
    return ""


def d(obj, *keys: str) -> dict:
    if not isinstance(obj, dict):
        return {}
    for k in keys:
        v = obj.get(k)
        if isinstance(v, dict):
            return v
    return {}


def lst(obj, *keys: str) -> list:
    if not isinstance(obj, dict):
        return []
    for k in keys:
        v = obj.get(k)
        if isinstance(v, list):
            return v
    return []


def strings(value) -> list[str]:
    """A string, or a list of strings, as a list (anything else: empty)."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [t for t in (_BAD.sub("", v).strip() for v in values if isinstance(v, str)) if t]


def looks_like_json(head: bytes) -> bool:
    h = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return h[:1] in (b"{", b"[")
