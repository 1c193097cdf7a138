"""Pure text normalisation: Unicode, whitespace, entities, datelines, headline tags, tokens.

Two different "normal" forms exist and must not be confused:

* ``clean``: what a reader sees. NFKC, entities decoded, whitespace collapsed. Stored.
* ``similarity_tokens``: what similarity sees. Lower case, punctuation gone, wire
  abbreviations spelled out (``pct`` -> ``percent``), thousands separators dropped, so a
  Xinhua rewrite of a Reuters story is compared on words, not on house style.
"""

from __future__ import annotations

import html
import re
import unicodedata

from pipeline.text.memo import memo

_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)


def clean(text: str) -> str:
    """Reader-facing normal form of one line or paragraph."""
    if not text:
        return ""
    # Wire HTML is sometimes escaped twice (&amp;amp;); two rounds undo that without
    # touching a literal ampersand.
    s = html.unescape(html.unescape(text)) if "&" in text else text
    if not s.isascii():  # NFKC and the invisibles only ever change non-ASCII text
        s = unicodedata.normalize("NFKC", s).translate(_INVISIBLE)
    # str.split() splits on exactly the characters \s matches: same result as
    # _SPACES.sub(" ", s).strip(), at a fraction of the cost (this runs per paragraph)
    return " ".join(s.split())


# Analysis folds each paragraph several times (classifier, credit test, tokens): the
# cache makes the later ones a lookup. A string caches its own hash, so a hit costs an
# equality test at most.
@memo(maxsize=1024)
def fold(text: str) -> str:
    """``clean`` plus typographic quotes and dashes folded to ASCII; for matching rules."""
    s = clean(text)
    # every character folded is non-ASCII, and str.translate is slow even when it changes
    # nothing; most wire text is ASCII
    return s if s.isascii() else s.translate(_QUOTES)


# --- headline tags -------------------------------------------------------------------------

# Reuters puts version markers in front of the headline: "UPDATE 2-", "CORRECTED-",
# "REFILE-", "REPEAT-", sometimes several ("UPDATE 1-CORRECTED-").
# A tag may stand in parentheses ("(CORRECTED) - ", archives' form); a FLASH, the first
# one-line bulletin of a story, may stand without a dash ("FLASH ST PAUL HOGS UP 1.00").
_TAG = re.compile(
    r"^\s*\(?((?:UPDATE|WRAPUP)\s*\d+|CORRECTED(?:\s*\(OFFICIAL\))?|REFILE|REPEAT|RPT|"
    r"CORRECTION|RECASTS?|ADVISORY|FLASH)\)?\s*[-:\u2013\u2014]\s*"
    r"|^\s*(FLASH)\s+(?!FLOOD)(?=\S)",
    re.I,
)


def split_headline_tags(headline: str) -> tuple[str, str]:
    """('UPDATE 1-CORRECTED-Foo') -> ('UPDATE 1/CORRECTED', 'Foo')."""
    tags = []
    h = clean(headline)
    while True:
        m = _TAG.match(h)
        if not m:
            break
        tags.append(_SPACES.sub(" ", (m.group(1) or m.group(2)).upper()))
        h = h[m.end() :]
    return "/".join(tags), h.strip()


# --- datelines -----------------------------------------------------------------------------

_AGENCIES = (
    r"Reuters|Xinhua|CGTN|AP|AFP|Bloomberg|IFR|dpa|ANSA|Kyodo|Yonhap|TASS|"
    r"Reuters Breakingviews|China Daily|CNA|UPI|PTI|IANS|Anadolu"
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# Month names as wire copy writes them, lower case, to their number
MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Every dateline ends in one or two of these, then spaces (a dateline standing alone as a
# paragraph ends in one)
DATELINE_DASHES = "-\u2013\u2014"
# "MOSCOW (Reuters) - ", "BEIJING, June 29 (Xinhua) -- ", "NEW YORK, March 3 (Reuters) -",
# "Osaka, Japan, June 29 (CGTN) --", and the bare "LONDON - " some agencies use.
_DATELINE = re.compile(
    r"^(?P<dl>(?:[A-Z][\w.'\-]*(?:[ /][A-Z][\w.'\-]*){0,4}"
    r"(?:,\s*[A-Z][\w.'\-]*(?: [A-Z][\w.'\-]*){0,3})?,?\s*)??"
    rf"(?:{_MONTH}\s+\d{{1,2}})?"
    rf"\s*\((?:{_AGENCIES})\))\s*[{DATELINE_DASHES}]{{1,2}}\s*"
)
_BARE_DATELINE = re.compile(
    rf"^(?P<dl>[A-Z]{{3,}}(?: [A-Z]{{2,}}){{0,3}})\s+[{DATELINE_DASHES}]{{1,2}}\s+"
)
# The dateline without an agency credit that wire copy long used and archives keep:
# "WASHINGTON, March 25 - ", "LITTLE ROCK, Ark., Feb 26 - ", "Trail, British Columbia,
# June 11 - ". The date is what makes it a dateline, so it is required here.
_DATED_DATELINE = re.compile(
    r"^(?P<dl>[A-Z][\w.'\-]*(?:[ /][A-Z][\w.'\-]*){0,4}"
    r"(?:,\s*[A-Z][\w.'\-]*(?: [A-Z][\w.'\-]*){0,3}){0,2}"
    rf",\s*{_MONTH}\s+\d{{1,2}})\s*[{DATELINE_DASHES}]{{1,2}}\s+"
)


_DATELINE_DAY = re.compile(rf"\b(?P<month>{_MONTH})\s+(?P<day>\d{{1,2}})\b")


def dateline_day(dateline: str) -> tuple[int, int] | None:
    """(month, day) that a dateline from ``split_dateline`` names ("WASHINGTON, March 25",
    "BEIJING, June 29 (Xinhua)"), None without a date."""
    m = _DATELINE_DAY.search(dateline)
    if not m:
        return None
    day = int(m.group("day"))
    if not 1 <= day <= 31:
        return None
    return MONTHS[m.group("month")[:3].lower()], day


def split_dateline(paragraph: str) -> tuple[str, str]:
    """Return (dateline, rest); dateline is "" when the paragraph does not start with one."""
    m = (
        _DATELINE.match(paragraph)
        or _DATED_DATELINE.match(paragraph)
        or _BARE_DATELINE.match(paragraph)
    )
    if not m:
        return "", paragraph
    return m.group("dl").strip(), paragraph[m.end() :].lstrip()


# --- similarity tokens ---------------------------------------------------------------------

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['.][^\W\d_]+)*")
# _TOKEN for ASCII text (\d and letters are then only the ASCII ones); a plain character
# range is matched faster than a Unicode category, and most wire text is ASCII
_ASCII_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[A-Za-z]+(?:['.][A-Za-z]+)*", re.ASCII)
# Spelled-out forms of the abbreviations wire desks use; both sides map to one token so a
# house-style rewrite does not look like new text.
_ABBREV = {
    "pct": "percent",
    "mln": "million",
    "mn": "million",
    "bln": "billion",
    "bn": "billion",
    "trln": "trillion",
    "dlrs": "dollars",
    "dlr": "dollar",
    "u.s": "us",
    "usd": "dollars",
    "stg": "sterling",
    "yr": "year",
    "yrs": "years",
    "qtr": "quarter",
    "vs": "versus",
}


# A comma between two digits. _TOKEN takes every such comma into a number token (letters
# tokens hold no digits), so dropping these before tokenising is dropping the commas of
# number tokens.
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d)")


def similarity_tokens(text: str) -> list[str]:
    """Lower-case word tokens for shingling; numbers keep their digits, not their commas."""
    s = fold(text).lower().replace("%", " percent ")
    if "," in s:
        # "1,000" and "1000" are one number; a decimal point stays
        s = _DIGIT_COMMA.sub("", s)
    tokens = (_ASCII_TOKEN if s.isascii() else _TOKEN).findall(s)
    # this runs per paragraph: stay in C (findall, isdisjoint) unless a token needs mapping
    if _ABBREV.keys().isdisjoint(tokens):
        return tokens
    return [_ABBREV.get(t, t) for t in tokens]


def similarity_text(paragraphs) -> str:
    """Space-joined similarity tokens of several paragraphs (the stored ``story_text``)."""
    return " ".join(t for p in paragraphs for t in similarity_tokens(p))
