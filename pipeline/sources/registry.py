"""The list of formats, content sniffing, and the one entry point ingest calls.

Adding a format: write ``pipeline/sources/<format>.py`` with NAME, sniff and parse (see
``pipeline.sources.base``) and add the module to ``FORMATS`` below.
"""

from __future__ import annotations

from types import ModuleType

from pipeline.sources import cgtn_text, newsml, rss
from pipeline.sources.base import MAX_PAYLOAD_BYTES, Parsed, ParseError, Problem

FORMATS: tuple[ModuleType, ...] = (newsml, rss, cgtn_text)

# The folder a file came from breaks ties between formats that sniff equally well.
FOLDER_HINTS = {"reuters": newsml.NAME, "xinhua": rss.NAME, "cgtn": cgtn_text.NAME}

SNIFF_BYTES = 8192


def by_name(name: str) -> ModuleType:
    for f in FORMATS:
        if name == f.NAME:
            return f
    raise KeyError(name)


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


def parse_payload(body: bytes, source: str, filename: str = "") -> Parsed:
    """Sniff and parse one payload. Never raises: an unusable payload comes back as a
    Parsed with no items and one problem, whose reason is the quarantine reason."""
    if not body or not body.strip():
        return _failed("unknown", "empty payload")
    if len(body) > MAX_PAYLOAD_BYTES:
        return _failed(
            "unknown", f"payload is {len(body)} bytes, over the {MAX_PAYLOAD_BYTES} byte limit"
        )
    fmt = sniff(body, filename, source)
    if fmt is None:
        return _failed("unknown", "unrecognised format (not NewsML-G2, RSS/Atom or CGTN text)")
    try:
        return fmt.parse(body, source, filename)
    except ParseError as e:
        return _failed(fmt.NAME, str(e))
    except RecursionError:
        return _failed(fmt.NAME, "document nested too deeply")
    except MemoryError:
        return _failed(fmt.NAME, "document too large to parse in memory")
    except Exception as e:  # a parser bug must quarantine the payload, not stop the batch
        return _failed(fmt.NAME, f"parser error {type(e).__name__}: {e}".splitlines()[0][:300])


def _failed(fmt: str, reason: str) -> Parsed:
    p = Parsed(format=fmt)
    p.problems.append(Problem(None, reason))
    return p
