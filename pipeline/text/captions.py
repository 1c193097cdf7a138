"""Photo captions: recognise them in running text, strip credits, compare them as captions.

Agencies print captions as ordinary paragraphs ending in a credit: `` /Reuters Photo``,
`` /VCG Photo``, `` /CFP``, ``(Xinhua/Wang Peng)``. CGTN pages print every caption twice in a
row. A caption is kept out of the story text used for similarity (two stories sharing a
stock photo are not the same story) and compared with other captions on its own.
"""

from __future__ import annotations

import itertools
import re

from pipeline.text.normalize import fold, similarity_tokens

# A credit is a slash-introduced agency/photo credit at the very end, or a parenthesised
# "(Xinhua/Name)" / "(Photo by Name/Xinhua)". The agency part is at most four capitalised
# words so an ordinary sentence ending "either/or" is not mistaken for a caption.
_CREDIT = re.compile(
    r"""\s*(?:
        /\s*(?P<slash>(?:[A-Z][\w.&'-]*|[A-Z]{2,})(?:\s+[A-Z][\w.&'-]*){0,3})\s*
      | \((?P<paren>(?:Xinhua|CGTN|Reuters|AP|AFP|VCG|CFP|IC|CNS|China\ Daily)\s*/\s*[^()/]{1,60}
                   | Photo\s+by\s+[^()]{1,60}?/\s*[A-Z][\w ]{1,30}
                   | [A-Z][\w.]*\ Photo/\s*[^()]{1,40}
                   | Photo:\s*[^()]{1,60})\)\s*
    )[.]?$""",
    re.X,
)
# Slash credits that are really captions only when the word is a known outlet or says Photo;
# otherwise "... said Smith /Jones" would count. Known outlets of Chinese and wire copy:
_OUTLETS = {
    "reuters",
    "vcg",
    "cfp",
    "xinhua",
    "ap",
    "afp",
    "getty",
    "getty images",
    "ic",
    "cgtn",
    "cns",
    "china daily",
    "epa",
    "efe",
    "ani",
    "bloomberg",
    "screenshot",
    "file",
}
_PREFIX = re.compile(r"^\s*(?:file\s+photo|file|photo|picture|pictured)\s*[:\-]\s*", re.I)
_TRAILING_DATE = re.compile(
    r"\s*(?:(?:Photo|Picture|Image)s?\s+(?:was\s+)?taken\s+(?:on\s+)?[^.]{0,60}"
    r"|(?:Photo|Picture)\s+(?:courtesy|credit)\s+[^.]{0,60})\.?\s*$",
    re.I,
)


def split_credit(text: str) -> tuple[str, str] | None:
    """(caption without credit, credit) when ``text`` ends in a photo credit, else None."""
    s = fold(text)
    # every credit has a slash or a closing parenthesis: most paragraphs are rejected here
    # instead of by a search that tries the pattern at every position
    if "/" not in s and ")" not in s:
        return None
    m = _CREDIT.search(s)
    if not m:
        return None
    credit = (m.group("slash") or m.group("paren") or "").strip()
    if m.group("slash") is not None:
        words = credit.lower()
        base = words.removesuffix(" photo").removesuffix(" photos").strip()
        if not (words.endswith(" photo") or words.endswith(" photos") or base in _OUTLETS):
            return None
    body = s[: m.start()].strip()
    if len(body) < 8:  # a bare credit line is furniture, not a caption
        return None
    return body, credit


def is_caption(text: str) -> bool:
    return split_credit(text) is not None


def caption_body(text: str) -> str:
    """The comparable core of a caption: credit, "File photo:" prefix and a trailing
    "Photo taken on ..." sentence removed. Reader-facing case is kept."""
    split = split_credit(text)
    s = split[0] if split else fold(text)
    s = _PREFIX.sub("", s)
    prev = None
    while prev != s:  # "... 2019. Photo taken on June 28, 2019." may follow a date already
        prev = s
        s = _TRAILING_DATE.sub("", s).rstrip()
    return s.strip()


def caption_tokens(text: str) -> list[str]:
    return similarity_tokens(caption_body(text))


def caption_shingles(tokens: list[str]) -> list[str]:
    """Unigrams and bigrams: captions are short, and one edited word should cost little."""
    if not tokens:
        return []
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def token_jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)
