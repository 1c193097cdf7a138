"""Side-by-side diff of two articles, paragraph by paragraph, words marked inside changed
paragraphs. Pure: returns rows of (text, changed?) pieces that the template escapes."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

_WS = re.compile(r"\s+")
_WORDS = re.compile(r"\S+\s*")
PAIR_MIN = 0.35  # below this, two paragraphs in a changed block are shown as unrelated


@dataclass
class Row:
    kind: str  # 'same', 'changed', 'left' (only in the left text), 'right'
    left: list[tuple[str, bool]] = field(default_factory=list)
    right: list[tuple[str, bool]] = field(default_factory=list)
    left_kind: str = ""
    right_kind: str = ""


def _key(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


def _words(a: str, b: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    wa, wb = _WORDS.findall(a), _WORDS.findall(b)
    sm = difflib.SequenceMatcher(None, [w.casefold() for w in wa], [w.casefold() for w in wb])
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if i2 > i1:
            left.append(("".join(wa[i1:i2]), op != "equal"))
        if j2 > j1:
            right.append(("".join(wb[j1:j2]), op != "equal"))
    return left, right


def side_by_side(
    left: list[tuple[str, str]], right: list[tuple[str, str]], *, autojunk: bool = False
) -> list[Row]:
    """``left``/``right``: (kind, text) paragraphs in order. Paragraphs equal after
    whitespace and case folding line up; changed ones pair up when similar enough."""
    ka, kb = [_key(t) for _, t in left], [_key(t) for _, t in right]
    sm = difflib.SequenceMatcher(None, ka, kb, autojunk=autojunk)
    rows: list[Row] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                rows.append(
                    Row(
                        "same",
                        [(left[i][1], False)],
                        [(right[j][1], False)],
                        left[i][0],
                        right[j][0],
                    )
                )
            continue
        i, j = i1, j1
        while i < i2 or j < j2:
            if i < i2 and j < j2:
                ratio = difflib.SequenceMatcher(None, ka[i], kb[j]).ratio()
                if ratio >= PAIR_MIN:
                    lw, rw = _words(left[i][1], right[j][1])
                    rows.append(Row("changed", lw, rw, left[i][0], right[j][0]))
                    i, j = i + 1, j + 1
                    continue
                # unrelated: emit whichever side is "shorter in the block" first
                if (i2 - i) >= (j2 - j):
                    rows.append(Row("left", [(left[i][1], True)], [], left[i][0], ""))
                    i += 1
                else:
                    rows.append(Row("right", [], [(right[j][1], True)], "", right[j][0]))
                    j += 1
            elif i < i2:
                rows.append(Row("left", [(left[i][1], True)], [], left[i][0], ""))
                i += 1
            else:
                rows.append(Row("right", [], [(right[j][1], True)], "", right[j][0]))
                j += 1
    return rows


def summary(rows: list[Row]) -> dict[str, int]:
    out = {"same": 0, "changed": 0, "left": 0, "right": 0}
    for r in rows:
        out[r.kind] += 1
    return out
