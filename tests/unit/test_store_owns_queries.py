"""The store owns the SQL: every named query of sql/queries belongs to one part of
pipeline/store (sql/queries/ingest.sql to pipeline/store/ingest.py), is used there, and is
named nowhere else."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from pipeline.store.queries import load_files

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "pipeline" / "store"
# what runs a named query by name, in pipeline.store.session
RUNNERS = {"_rows", "_one", "_run", "_exec", "_many", "_copy", "_copy_binary"}
# tests of the SQL files themselves (they load every query to plan it)
SQL_TESTS = {"tests/integration/test_migrations.py", "tests/unit/test_store_owns_queries.py"}


def _names() -> dict[str, str]:
    """query name -> the file stem that defines it."""
    return {n: stem for stem, qs in load_files().items() for n in qs.names()}


def _mentions(tree: ast.AST, names: set[str]) -> set[str]:
    """The query names a module uses: a runner's first argument, ``getattr(x, "name")``,
    or an attribute of a query collection (``self.q.name``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0] if not isinstance(node.func, ast.Name) else None
            if isinstance(node.func, ast.Name) and node.func.id == "getattr":
                first = node.args[1] if len(node.args) > 1 else None
            elif not (isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS):
                first = None
            if isinstance(first, ast.Constant) and first.value in names:
                found.add(first.value)
        if (
            isinstance(node, ast.Attribute)
            and node.attr in names
            and isinstance(node.value, ast.Attribute | ast.Name)
            and (node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id)
            in ("q", "_q", "queries")
        ):
            found.add(node.attr)
    return found


def _modules(*folders: str):
    for folder in folders:
        for f in sorted((ROOT / folder).rglob("*.py")):
            rel = f.relative_to(ROOT).as_posix()
            if ".venv" not in rel:
                yield rel, ast.parse(f.read_text(encoding="utf-8"), rel)


def test_no_module_outside_the_store_names_a_query():
    names = set(_names())
    offenders = {}
    for rel, tree in _modules("pipeline", "dags", "bench", "scripts", "tests"):
        if rel.startswith("pipeline/store/") or rel in SQL_TESTS:
            continue
        got = _mentions(tree, names)
        runners = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in RUNNERS
        }
        loads = {
            a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "pipeline.store.queries"
            for a in n.names
            if a.name in ("load", "load_files")
        }
        if got or runners or loads:
            offenders[rel] = sorted(got | runners | loads)
    assert offenders == {}


def test_every_query_is_used_by_the_part_that_owns_its_file():
    names = _names()
    used = {rel: _mentions(tree, set(names)) for rel, tree in _modules("pipeline/store")}
    unused, foreign = [], []
    for name, stem in sorted(names.items()):
        owner = f"pipeline/store/{stem}.py"
        assert owner in used, f"sql/queries/{stem}.sql has no part {owner}"
        if name not in used[owner]:
            unused.append(f"{stem}.sql: {name}")
        foreign += [
            f"{rel} names {name} of {stem}.sql"
            for rel in used
            if rel != owner and name in used[rel]
        ]
    assert unused == []
    assert foreign == []


def test_the_store_owns_the_article_columns_it_copies():
    from pipeline.model import ArticleRecord
    from pipeline.store.ingest import ARTICLE_COLUMNS, RAW_ITEM_COLUMNS
    from pipeline.store.queries import load

    q = load()

    def copied(name: str) -> tuple[str, ...]:
        cols = re.search(r"\(([^)]*)\)\s+FROM STDIN", getattr(q, name), re.S).group(1)
        return tuple(c.strip() for c in cols.split(","))

    assert copied("copy_article_stage") == (*ARTICLE_COLUMNS, "touch")
    assert set(ARTICLE_COLUMNS) == {f.name for f in dataclasses.fields(ArticleRecord)}
    assert copied("copy_raw_item_stage") == RAW_ITEM_COLUMNS


def test_no_sql_text_outside_the_store():
    sql = re.compile(
        r"^\s*(SELECT \S|INSERT INTO|UPDATE \w+ SET|DELETE FROM|COPY \w+ \(|WITH \w+ AS)"
    )
    offenders = [
        f"{rel}:{n.lineno}"
        for rel, tree in _modules("pipeline", "dags")
        if not rel.startswith("pipeline/store/")
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and sql.match(n.value)
    ]
    assert offenders == []
