"""Named queries from sql/queries/*.sql.

A file holds several queries, each introduced by a ``-- name: query_name`` line; the text
up to the next such line is the query. Parameters use psycopg's ``%(name)s`` style. Code
refers to queries by name only, so every statement the pipeline runs can be read, reviewed
and EXPLAINed in one folder.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pipeline.store.connect import sql_dir

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.M)


class Queries:
    def __init__(self, queries: dict[str, str]):
        self._q = queries

    def __getattr__(self, name: str) -> str:
        try:
            return self._q[name]
        except KeyError:
            raise AttributeError(f"no named query {name!r} in sql/queries") from None

    def __contains__(self, name: str) -> bool:
        return name in self._q

    def names(self) -> list[str]:
        return sorted(self._q)


def parse(text: str, origin: str = "<sql>") -> dict[str, str]:
    out: dict[str, str] = {}
    matches = list(_HEADER.finditer(text))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[m.end() : end].strip()
        # drop trailing comment-only lines and the optional final semicolon
        body = body.rstrip().rstrip(";").strip()
        if not body:
            raise ValueError(f"{origin}: query {m.group(1)} is empty")
        if m.group(1) in out:
            raise ValueError(f"{origin}: query {m.group(1)} defined twice")
        out[m.group(1)] = body
    return out


@lru_cache(maxsize=4)
def load(directory: Path | None = None) -> Queries:
    directory = directory or sql_dir() / "queries"
    merged: dict[str, str] = {}
    for f in sorted(directory.glob("*.sql")):
        for name, q in parse(f.read_text(encoding="utf-8"), f.name).items():
            if name in merged:
                raise ValueError(f"query {name} defined in two files")
            merged[name] = q
    return Queries(merged)
