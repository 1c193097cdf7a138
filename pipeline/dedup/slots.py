"""The slots of a wire item: who it is about, when, and its figures.

Wire copy is full of items written from one template that differ only in what fills it:
"<COMPANY> sets quarterly dividend of N cts", "Fed adds reserves via customer repurchases"
on another day, the weekly grain shipments with other tonnages. Their wording agrees; the
story is in the slots. So two items are compared on both: how much text they share (the
shingle measures in ``verify``) and whether their slots agree:

* **entity**: ticker symbols (``<IBM>``, ``<KMWS.O>``), names in angle brackets
  (``<Franklin Gold Fund>``) and the names the headline shares with the body (its subject);
* **dates**: month-and-day mentions in the body ("week ended April 2"), the period a
  recurring report covers;
* **figures**: every number with its magnitude ("17.1 mln" and "17,121,000" are one
  figure at the precision written; "seven ships", "6-1/2 pct", "1st qtr").

Everything here is pure and works on the display text of the body paragraphs (case kept:
names are found by capitalisation), with the dateline already cut off: a dateline is
furniture, not a slot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from rapidfuzz import fuzz, process

from pipeline.text.memo import memo
from pipeline.text.normalize import MONTHS, fold

# --- figures -------------------------------------------------------------------------------

_SCALE = {
    "thousand": 1e3,
    "mln": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "mlns": 1e6,
    "millions": 1e6,
    "bln": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "billions": 1e9,
    "trln": 1e12,
    "trillion": 1e12,
}
_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

# One pass over a paragraph reads every token kind the slots need. Words come first and
# the number forms share one look-behind, tried only before a digit: the alternatives
# start with disjoint characters (a letter, a digit, a stop), so their order never
# changes a match, and most positions are words or spaces. No token starts with a space:
# saying so first passes over the spaces without trying each alternative there.
_TOKEN = re.compile(
    r"(?=\S)(?:"
    r"(?P<word>[^\W\d_][\w'&.\-]*[^\W_]|[^\W\d_])"
    r"|(?=\d)(?<![\w.,/])(?:"
    r"(?P<frac>\d+(?:-|\s)\d+/\d+(?![\w/])|\d+/\d+(?![\w/]))"
    r"|(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:st|nd|rd|th|bn|mn|m|k)?(?![\w/]))"
    r")"
    r"|(?P<stop>[.!?:;]+)"
    r")"
)
_ORDINAL = re.compile(r"(?:st|nd|rd|th)$")
# "38.5m", "1.2bn", "500k": a scale written onto the number
_SUFFIX_SCALE = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9}


@dataclass(frozen=True)
class Figure:
    """A number as written: its value and the precision it was written at."""

    value: float
    tol: float  # half a unit of the last written digit, scaled: 17.1 mln -> 50,000

    def matches(self, other: Figure) -> bool:
        # (``match_figures`` inlines this test)
        # strictly inside the coarser one's rounding interval: "two billion" is not 1.5
        diff = abs(self.value - other.value)
        return diff <= 1e-9 * max(1.0, abs(self.value)) or diff < max(self.tol, other.tol)


_VALUE = attrgetter("value")


@memo(maxsize=4096)
def _word_value(w: str) -> float | None:
    """The value of a number written in words ("seven", "twenty-five"), else None."""
    total = 0.0
    for part in w.split("-"):
        if part in _UNITS:
            total += _UNITS[part]
        elif part in _TENS:
            total += _TENS[part]
        elif part == "hundred" and total:
            total *= 100
        else:
            return None
    return total


def _number(text: str) -> tuple[float, float]:
    """(value, half a unit of its last digit) of "1,096,332", "17.1", "1st", "38.5m"."""
    digits = _ORDINAL.sub("", text).replace(",", "")
    scale = 1.0
    stripped = digits.rstrip("kmbn")
    if stripped != digits:
        scale = _SUFFIX_SCALE.get(digits[len(stripped) :], 1.0)
        digits = stripped
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return float(digits) * scale, 0.5 * 10**-decimals * scale


def _fraction(text: str) -> float:
    whole, _, frac = text.replace(" ", "-").rpartition("-")
    num, _, den = frac.partition("/")
    return (float(whole) if whole else 0.0) + (int(num) / int(den) if int(den) else 0.0)


@dataclass
class _Reading:
    """What one pass over an item's text found."""

    figures: list[Figure] = field(default_factory=list)
    dates: list[tuple[int, int]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    named: bool = False  # a mixed-case name: acronyms alone (column heads) do not count
    words: set[str] = field(default_factory=set)
    tokens: int = 0  # words and figures read
    # per paragraph: its template ("#" figures and dates, "@" names), figures and dates
    paragraphs: list[tuple[str, tuple[Figure, ...], tuple[tuple[int, int], ...]]] = field(
        default_factory=list
    )


@memo(maxsize=1 << 16)
def _word(text: str) -> tuple:
    """What ``_read_paragraph`` asks of a word token, once per distinct spelling: wire
    copy repeats its vocabulary, and these lookups were most of the per-token cost. The
    first field says the word is neither a month nor a number, as most words are: those
    take the short path."""
    low = text.lower()
    key = _name_key(text)
    upper_first = text[0].isupper()
    not_name = key in _NOT_NAMES
    month = MONTHS.get(low.rstrip("."))
    value = _word_value(low)
    return (
        not month and value is None,
        key,
        # may be a name (contract codes such as "Mar8" are not)
        upper_first and bool(key) and not not_name and not any(c.isdigit() for c in text),
        len(text) > 1 and text.isupper(),  # an acronym
        text.isupper(),
        _ABBREV.get(low, low),  # its form in the template
        upper_first and not not_name,  # makes a capitalised word before it a name
        low,
        month,
        value,
        upper_first,
    )


def _read(paragraphs: Sequence[str]) -> _Reading:
    out = _Reading()
    for para in paragraphs:
        template, tokens, figs, dates, words, names, named = _read_paragraph(para)
        out.paragraphs.append((template, figs, dates))
        out.tokens += tokens
        out.figures.extend(figs)
        out.dates.extend(dates)
        out.words |= words
        out.names |= names
        out.named = out.named or named
    return out


# A reading holds a few KB: 4096 of them keep nearly every repeat of a verify chunk, whose
# articles are read story by story, for ~10 MB a worker.
@memo(maxsize=1 << 12)
def _read_paragraph(para: str) -> tuple:
    """(template, tokens, figures, dates, words, names, named) of one paragraph. A
    paragraph reads the same wherever it stands, and the copies of one story share most
    of theirs: a distinct paragraph is read once while it is recent."""
    figures: list[Figure] = []
    dates: list[tuple[int, int]] = []
    masked: list[str] = []
    words: set[str] = set()
    names: set[str] = set()
    named = False
    caseless = para.upper() == para  # all capitals: case tells nothing
    # (word, frac, num, stop) with exactly one of them non-empty
    toks = _TOKEN.findall(para)
    last = len(toks) - 1
    opens = True  # at a sentence's first word
    skip = False  # the token was read with the one before it
    # Most tokens are plain words; they take the first branch and touch nothing of the
    # token after them unless they may open a name.
    for i, (text, frac, num, stop) in enumerate(toks):
        if skip:
            skip = False
            continue
        if text:
            plain, key, name_ok, acronym, upper, form, _, low, month, value, upper_first = _word(
                text
            )
            if not plain:
                nxt_word, _, nxt_num, _ = toks[i + 1] if i < last else ("", "", "", "")
                if month and (nxt_num or nxt_word):
                    nxt = nxt_num or nxt_word
                    day = _number(nxt)[0] if nxt_num and len(nxt) <= 4 else _word_value(nxt.lower())
                    if day is not None and 1 <= day <= 31 and day == int(day):
                        dates.append((month, int(day)))
                        masked.append("#")
                        opens = False
                        skip = True
                        continue
                if month and upper_first and (low != "may" or not opens):
                    # a month alone is a period too ("the April tender"); "May" opening a
                    # sentence is more often the verb
                    dates.append((month, 0))
                    masked.append("#")
                    opens = False
                    continue
                if value is not None:
                    scale = _SCALE.get(nxt_word.lower(), 0.0) if nxt_word else 0.0
                    skip = bool(scale)
                    figures.append(Figure(value * (scale or 1.0), 0.5 * (scale or 1.0)))
                    masked.append("#")
                    opens = False
                    continue
            words.add(key)
            # a name: capitalised inside a sentence, an acronym, or opening a sentence
            # before another capitalised word
            if (
                name_ok
                and not caseless
                and (not opens or acronym or (i < last and _follows(toks[i + 1][0])))
            ):
                names.add(key)
                named = named or not upper
                masked.append("@")
            else:
                masked.append(form)
            opens = False
        elif stop:
            # "Corp. said", "U.S. Treasury": a full stop after an abbreviation goes on
            if stop == ".":
                prev = "".join(toks[i - 1]).lower() if i else ""
                opens = not (prev in _ABBREVIATIONS or "." in prev)
            else:
                opens = True
        else:
            if frac:
                value, tol = _fraction(frac), 0.0  # eighths, sixteenths: exact
            elif num.isdecimal():  # most are plain digits: what _number makes of them
                value, tol = float(num), 0.5
            else:
                value, tol = _number(num)
            nxt_word = toks[i + 1][0] if i < last else ""
            scale = _SCALE.get(nxt_word.lower(), 0.0) if nxt_word else 0.0
            if scale:
                value, tol = value * scale, tol * scale
                skip = True
            figures.append(Figure(value, tol))
            masked.append("#")
            opens = False
    return (
        " ".join(masked),
        len(masked),
        tuple(figures),
        tuple(dates),
        frozenset(words),
        frozenset(names),
        named,
    )


def _follows(word: str) -> bool:
    """Whether a word token (or "" for another kind) makes a capitalised word before it
    a name."""
    return bool(word) and _word(word)[6]


def figures(text: str) -> list[Figure]:
    """Every figure of a text ("17.1 mln", "6-1/2", "seven"), dates left out."""
    return _read([text]).figures


def dates(text: str) -> list[tuple[int, int]]:
    """(month, day) of every "Month Day" mention."""
    return _read([text]).dates


def name_words(paragraphs: Iterable[str]) -> set[str]:
    """Words the text capitalises as names: capitalised inside a sentence, or opening a
    sentence followed by another capitalised word ("Cominco Ltd said"), or acronyms.
    A paragraph written in capitals throughout tells nothing by case and gives none."""
    return _read(list(paragraphs)).names


def match_figures(a: Sequence[Figure], b: Sequence[Figure]) -> int:
    """How many figures of ``a`` pair with a distinct figure of ``b`` (each used once)."""
    if not a or not b:
        return 0
    # ``Figure.matches`` inlined on plain floats: this runs for every candidate pair
    pool = [(g.value, g.tol) for g in sorted(b, key=_VALUE)]
    used = [False] * len(pool)
    n = 0
    for f in sorted(a, key=_VALUE):
        fv, ft = f.value, f.tol
        near, reach = 1e-9 * max(1.0, abs(fv)), fv + ft
        for i, (gv, gt) in enumerate(pool):
            if not used[i]:
                diff = abs(fv - gv)
                if diff <= near or diff < max(ft, gt):
                    used[i] = True
                    n += 1
                    break
            if gv - gt > reach:
                break
    return n


# --- entities ------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(text.split())


# <IBM>, <KMWS.O>, <CLT.TO>: a ticker symbol, optionally with an exchange suffix
_TICKER = re.compile(r"<\s*([A-Z][A-Z0-9&]{0,7})(?:\.[A-Z]{1,3})?\s*>")
# <Franklin Gold Fund>, <TechVend>: a company name put in angle brackets
_BRACKETED = re.compile(r"<\s*([^<>]{2,80}?)\s*>")
_WORD = re.compile(r"[^\W\d_][\w'&.\-]*[^\W_]|[^\W\d_]")
# Capitalised for grammar or house style, not because they name something.
_NOT_NAMES = {
    *MONTHS,
    *_WEEKDAYS,
    *_words("a an and the of in on at for to by with from as or but not no it its"),
    *_words("he she they we i this that these those there here his her their our"),
    *_words("mr mrs ms dr note notes edt est gmt cst cdt pst pdt bst reuter reuters"),
}
_ABBREVIATIONS = _words("mr mrs ms dr st co corp inc ltd jr sr no vs gen gov sen rep bros")
# Wire abbreviations, spelled out in the template so "pct" and "percent" are one word.
_ABBREV = {"pct": "percent", "mln": "million", "bln": "billion", "dlrs": "dollars"}
_SPELLED = {**_ABBREV, "stg": "sterling", "dlr": "dollar", "bn": "billion", "mn": "million"}


@memo(maxsize=1 << 16)
def _name_key(word: str) -> str:
    w = word.lower().strip(".'-")
    if w.endswith("'s"):
        w = w[:-2]
    return w.replace(".", "")


def tickers(text: str) -> set[str]:
    if "<" not in text:  # every symbol is in angle brackets
        return set()
    return {m.group(1) for m in _TICKER.finditer(text)}


def bracketed_names(text: str) -> set[str]:
    """Company names written in angle brackets, other than plain ticker symbols."""
    out: set[str] = set()
    if "<" not in text:
        return out
    for m in _BRACKETED.finditer(text):
        inner = m.group(1)
        if _TICKER.fullmatch(f"<{inner}>"):
            continue
        out.add(" ".join(_name_key(w) for w in _WORD.findall(inner)))
    return out - {""}


# Legal-form words a headline may add or drop around one company's name.
_LEGAL_FORMS = _words(
    "inc corp co cos ltd plc nv sa ag bhd llc lp corporation company incorporated group "
    "holding holdings the"
)
_NOT_HEADLINE_WORDS = _LEGAL_FORMS | _NOT_NAMES  # what a headline's subject is not


def _headline_name(headline: str) -> str:
    """The company as the headline names it: the (last three) words before its first
    ticker symbol ("GROUP LIFTS STAKE IN SMITH INTERNATIONAL <SII>": smith international)."""
    m = _TICKER.search(headline)
    if not m:
        return ""
    words = [_name_key(w) for w in _WORD.findall(headline[: m.start()])]
    words = [w for w in words if w not in _LEGAL_FORMS and w not in _NOT_NAMES]
    # initials written apart are one word, as written with stops: "U S West" is "U.S. West"
    joined: list[str] = []
    initials = False  # the last word is single letters run together
    for w in words:
        if len(w) == 1 and initials:
            joined[-1] += w
        else:
            joined.append(w)
            initials = len(w) == 1
    return " ".join(joined[-3:])


@dataclass(frozen=True)
class Slots:
    """What fills the template of one item."""

    tickers: frozenset[str] = frozenset()  # the headline's, or the body's without one there
    symbols: frozenset[str] = frozenset()  # every symbol the item writes, headline and body
    headline_symbol: bool = False  # its tickers are its headline's, not only mentioned
    ticker_name: str = ""  # the headline's words before its ticker, "" without one
    subject: frozenset[str] = frozenset()  # name words of the headline, and bracketed names
    headline: frozenset[str] = frozenset()  # the headline's words (stems), numbers left out
    named: bool = False  # the body names anyone by case
    tokens: int = 0  # words and figures read: a short item is mostly its template
    words: frozenset[str] = frozenset()  # stems of every word of headline and body
    figures: tuple[Figure, ...] = ()
    dates: tuple[tuple[int, int], ...] = ()
    template: str = ""  # the text with figures and dates as "#", names as "@"
    # per paragraph: (its template, its figures, its dates)
    paragraphs: tuple[tuple[str, tuple[Figure, ...], tuple[tuple[int, int], ...]], ...] = ()


def slots(headline: str, paragraphs: Sequence[str]) -> Slots:
    """Slots of an item from its headline (version tags removed) and the display text of
    its body paragraphs (dateline removed)."""
    head = fold(headline)
    body = [fold(p) for p in paragraphs]
    joined = " ".join(body)
    r = _read(body)
    head_words = {_name_key(w) for w in _WORD.findall(_TICKER.sub(" ", head))}
    head_symbols, body_symbols = tickers(head), tickers(joined)
    subject = {w for w in head_words if w in r.names}
    subject |= bracketed_names(head) | bracketed_names(joined)
    words = head_words | r.words | r.names
    words |= {w for n in subject for w in n.split()}
    return Slots(
        # the headline's symbol is the subject; the body's may be companies it mentions
        tickers=frozenset(head_symbols or body_symbols),
        symbols=frozenset(head_symbols | body_symbols),
        headline_symbol=bool(head_symbols),
        ticker_name=_headline_name(head),
        subject=frozenset(subject),
        headline=frozenset(
            _stem(w) for w in head_words if len(w) > 2 and w not in _NOT_HEADLINE_WORDS
        ),
        words=frozenset(map(_stem, words)),
        named=r.named,
        tokens=r.tokens,
        figures=tuple(r.figures),
        dates=tuple(r.dates),
        # every token is a non-empty word: joining the paragraphs' non-empty templates
        # spaces the tokens exactly as joining all of them
        template=" ".join(t for t, _, _ in r.paragraphs if t),
        paragraphs=tuple(r.paragraphs),
    )


# --- comparing slots -----------------------------------------------------------------------

# An item this short (words and figures) is mostly template: its headline names its
# subject, and its slots must agree to be the same story.
SHORT_ITEM_TOKENS = 60

# DIFFER: each names an entity the other never mentions; ONE_SIDED: only one does, which
# with other figures still means another entity.
SAME, DIFFER, ONE_SIDED, UNKNOWN = "same", "differ", "one-sided", "unknown"


@memo(maxsize=1 << 16)
def _stem(word: str) -> str:
    """Enough stemming to see "dlr" in "dlrs" and "acquires" in "acquire"; wire
    abbreviations spelled out ("mln" is "million"), as a rewrite spells them."""
    word = _SPELLED.get(word, word)
    if word.endswith(("ss", "us", "is")):
        return word
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _named_in(name: str, words: frozenset[str]) -> bool:
    return all(_stem(w) in words for w in name.split())


# Words that many unrelated companies' names share.
_COMMON_NAME_WORDS = _words(
    "first american united national general international new great north south east west "
    "pacific atlantic central southern northern western eastern continental federal royal "
    "standard union us canadian british financial bancorp bancorporation bank banc bancshares "
    "savings trust capital securities industries industrial resources systems technologies "
    "technology energy oil petroleum gas services service communications electronics "
    "investors investment investments fund funds income insured mutual life insurance "
    "properties realty development enterprises international intl products manufacturing "
    "motor motors chemical chemicals foods stores data computer medical health care"
)


def _same_company(x: str, y: str) -> bool | None:
    """Whether two headline names are one company however written (None: a name is
    missing): one's words all stand in the other, a word matching a longer form of itself
    ("Westamerica Bancorp", "Westamerica Bancorporation"; "Telxon Corp", "Telxon")."""
    if not x or not y:
        return None
    wx, wy = x.split(), y.split()
    short, long_ = (wx, wy) if len(wx) <= len(wy) else (wy, wx)
    if all(w in _COMMON_NAME_WORDS for w in short):
        return False  # "Trust" alone names no one company
    return all(any(v.startswith(w) or w.startswith(v) for v in long_) for w in short)


def _compatible_names(x: str, y: str) -> bool | None:
    """Whether two names could be one company: they share a distinctive word
    ("International Hydron", "Int'l Hydron"). None when a name is missing."""
    if not x or not y:
        return None
    if x == y or _same_company(x, y):
        return True  # one name, even one made of common words ("US West")
    return any(len(w) >= 4 and w not in _COMMON_NAME_WORDS for w in set(x.split()) & set(y.split()))


def _symbols(s: Slots) -> str:
    """ "<U> usair group": the symbols, and the company as the headline names it."""
    return f"<{','.join(sorted(s.tickers))}>" + (f" {s.ticker_name}" if s.ticker_name else "")


def _mentioned_in(a: Slots, b: Slots) -> bool:
    """``a``'s symbols are mentions in its body, all written in ``b`` too."""
    return not a.headline_symbol and a.tickers <= b.symbols


def entity(a: Slots, b: Slots) -> tuple[str, str]:
    """(SAME | DIFFER | UNKNOWN, what was compared).

    Ticker symbols decide when both items carry one: a shared symbol is one company; none
    shared is two companies, unless the headlines name the company in the same words (a
    symbol written in another format) or one item only mentions, in its body, symbols the
    other writes too. Otherwise (and without symbols on both sides) each headline's
    subject must be named somewhere in the other item: when each side names someone the
    other never mentions, the two are about different entities."""
    if a.tickers and b.tickers:
        if a.tickers & b.tickers:
            # symbol and name are two identifiers: when the names cannot be one company, a
            # shared symbol is a typo in one of them
            if _compatible_names(a.ticker_name, b.ticker_name) is False:
                return DIFFER, f"company differs: {a.ticker_name} vs {b.ticker_name}"
            return SAME, "ticker <" + ",".join(sorted(a.tickers & b.tickers)) + ">"
        if _same_company(a.ticker_name, b.ticker_name):
            return SAME, f"company {a.ticker_name!r} (symbol written otherwise)"
        # an item without a symbol in its headline only mentions the ones in its body: when
        # the other item writes them too, the symbols tell nothing and the subjects decide
        if not (_mentioned_in(a, b) or _mentioned_in(b, a)):
            return DIFFER, f"tickers differ: {_symbols(a)} vs {_symbols(b)}"
    only_a = sorted(n for n in a.subject if not _named_in(n, b.words))
    only_b = sorted(n for n in b.subject if not _named_in(n, a.words))
    if only_a and only_b:
        return DIFFER, f"subject differs: {' '.join(only_a)} vs {' '.join(only_b)}"
    if a.subject and b.subject and a.subject & b.subject and not (only_a or only_b):
        return SAME, "subject " + " ".join(sorted(a.subject & b.subject))
    if only_a or only_b:
        return ONE_SIDED, "only one names " + " ".join(only_a or only_b)
    if a.subject or b.subject:
        return SAME, "subject " + " ".join(sorted(a.subject | b.subject)) + " named in both"
    short = min(a.tokens, b.tokens) < SHORT_ITEM_TOKENS
    if (short or not (a.named or b.named)) and a.headline and b.headline:
        # A table, copy in capitals, a short market report: the headline is the subject.
        if a.headline == b.headline:
            return SAME, "headline " + " ".join(sorted(a.headline))
        head_a = sorted(w for w in a.headline if w not in b.words)
        head_b = sorted(w for w in b.headline if w not in a.words)
        if head_a and head_b:
            return DIFFER, f"headline subject differs: {' '.join(head_a)} vs {' '.join(head_b)}"
    return UNKNOWN, ""


@dataclass(frozen=True)
class FigureAgreement:
    shared: int
    compared: int  # figures on the side with fewer

    @property
    def missing(self) -> int:
        return self.compared - self.shared

    def agree(self) -> bool:
        """The smaller side's figures are (nearly) all in the other: one figure in eight may
        be missing (a re-send that drops a line, a typo) but never one in a short item."""
        return self.missing <= self.compared // 8

    def differ(self) -> bool:
        return self.compared > 0 and not self.agree()


# Paragraphs whose templates are this alike (rapidfuzz ratio) hold the same slots.
ALIGN_RATIO = 60.0


@dataclass(frozen=True)
class Compared:
    """The slots two items hold in the same places."""

    figures: FigureAgreement
    dates_differ: bool


def _aligned(a: Slots, b: Slots) -> tuple[list[int], list[int]]:
    """Indexes of the paragraphs of each that have a counterpart in the other (the same
    template, whatever fills it): an added paragraph or one lent by another story holds no
    slot the other could disagree with."""
    ta = [p[0] for p in a.paragraphs]
    tb = [p[0] for p in b.paragraphs]
    if not ta or not tb:
        return [], []
    # below the cutoff a score reads 0: whether it reaches it is all that is asked
    m = process.cdist(ta, tb, scorer=fuzz.ratio, score_cutoff=ALIGN_RATIO, workers=1)
    m = m >= ALIGN_RATIO
    rows, cols = m.any(axis=1).nonzero()[0], m.any(axis=0).nonzero()[0]
    return [int(i) for i in rows], [int(j) for j in cols]


def compare(a: Slots, b: Slots) -> Compared:
    """Figures and dates of the paragraphs the two share a template for (all of them when
    none align): the slots one edition replaces and a copy keeps."""
    ia, ib = _aligned(a, b)
    if ia and ib:
        fa = [f for i in ia for f in a.paragraphs[i][1]]
        fb = [f for j in ib for f in b.paragraphs[j][1]]
        da = {d for i in ia for d in a.paragraphs[i][2]}
        db = {d for j in ib for d in b.paragraphs[j][2]}
    else:
        fa, fb, da, db = list(a.figures), list(b.figures), set(a.dates), set(b.dates)
    small, big = (fa, fb) if len(fa) <= len(fb) else (fb, fa)
    figs = FigureAgreement(match_figures(small, big), len(small))
    # both name dates and neither's are all in the other: another period or day
    return Compared(figs, bool(da and db and not (da <= db or db <= da)))


def lsh_text(headline: str, story_text: str) -> str:
    """Slot values as space-separated tokens for a MinHash of their own, so that items with
    the same entity and figures meet as candidates even when their wording does not (a
    reformatted table, a correction that rewords every line, the next take of a running
    report). Read cheaply from the stored similarity text: figures rounded to two
    significant digits ("17.1 million" and "17121000" meet; verification compares them
    exactly), "Month Day" dates, the headline's symbols and words."""
    out: set[str] = {f"t:{t.lower()}" for t in tickers(headline)}
    for w in _WORD.findall(_TICKER.sub(" ", fold(headline))):
        k = _name_key(w)
        if len(k) > 2 and k not in _LEGAL_FORMS and k not in _NOT_NAMES:
            out.add("h:" + _stem(k))
    toks = story_text.split()
    for i, t in enumerate(toks):
        if t[0].isdigit():
            try:
                v = float(t.replace(",", ""))
            except ValueError:
                continue
            prev = toks[i - 1] if i else ""
            if prev in MONTHS and v.is_integer() and 1 <= v <= 31:
                out.add(f"d:{MONTHS[prev]}-{int(v)}")
                continue
        elif t in _UNITS or t in _TENS:
            v = float(_UNITS.get(t, _TENS.get(t, 0)))
        else:
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        out.add(f"f:{v * _SCALE.get(nxt, 1.0):.2g}")
    return " ".join(sorted(out))
