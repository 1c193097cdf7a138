"""Named queries from sql/queries/*.sql.

A file holds several queries, each introduced by a ``-- name: query_name`` line; the text
up to the next such line is the query. Parameters use psycopg's ``%(name)s`` style. Every
statement the pipeline runs can so be read, reviewed and EXPLAINed in one folder.

Each part of the store owns one file (``pipeline.store.ingest`` owns ``ingest.sql``) and
is the only code that names its queries; names are unique across files all the same, so
a name found in a log or a plan leads to one statement.
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

    def items(self):
        return self._q.items()


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
def load_files(directory: Path | None = None) -> dict[str, Queries]:
    """The queries of every file, by file stem; a name defined in two files is an error."""
    directory = directory or sql_dir() / "queries"
    files: dict[str, Queries] = {}
    seen: dict[str, str] = {}
    for f in sorted(directory.glob("*.sql")):
        got = parse(f.read_text(encoding="utf-8"), f.name)
        for name in got:
            if name in seen:
                raise ValueError(f"query {name} defined in {seen[name]} and {f.name}")
            seen[name] = f.name
        files[f.stem] = Queries(got)
    return files


def load(directory: Path | None = None) -> Queries:
    """Every named query of every file."""
    return Queries({n: q for qs in load_files(directory).values() for n, q in qs.items()})
