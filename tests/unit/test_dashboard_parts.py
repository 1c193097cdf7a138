"""Pure parts of the dashboard: chart geometry, the side-by-side diff, page cursors, and
the import boundaries (only the plugin imports airflow)."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.dashboard import charts, diff
from pipeline.dashboard.views import decode_cursor, encode_cursor, source_classes

ROOT = Path(__file__).resolve().parents[2]


def test_stacked_bars_scale_and_titles():
    days = [date(2026, 6, 10) + timedelta(days=i) for i in range(3)]
    c = charts.stacked_bars(
        days, {"reuters": [10, 0, 5], "xinhua": [30, 0, 5]}, {"reuters": "s-reuters"}
    )
    assert not c.empty
    assert [t.label for t in c.yticks] == ["0", "25", "50"]  # 40 rounds up to 50
    day1 = [r for r in c.rects if r.title.startswith("2026-06-10")]
    assert [r.cls for r in day1] == ["s-reuters", "s-other"]
    # stacked: the second segment sits on top of the first
    assert day1[1].y + day1[1].h == pytest.approx(day1[0].y, abs=0.2)
    assert all(r.h > 0 for r in c.rects)  # zero days draw nothing
    assert charts.stacked_bars(days, {"a": [0, 0, 0]}, {}).empty


def test_nice_max():
    assert [charts.nice_max(v) for v in (0, 3, 7, 12, 240, 1001)] == [1, 5, 10, 20, 250, 2000]


def test_rate_line_skips_days_without_copy():
    days = [date(2026, 6, 10) + timedelta(days=i) for i in range(3)]
    c = charts.rate_line(days, [0.5, None, 1.0], [4, 0, 2])
    assert len(c.dots) == 2 and len(c.points.split()) == 2
    assert c.dots[0][2].endswith("50% duplicates")


def test_diff_aligns_equal_paragraphs_and_marks_changed_words():
    left = [("body", "Copper output fell 4.2 pct in May."), ("body", "Codelco said so.")]
    right = [
        ("body", "Copper  output fell 4.2 pct in May."),
        ("body", "Codelco said so on Tuesday."),
        ("trailer", "(Reporting by X)"),
    ]
    rows = diff.side_by_side(left, right)
    assert [r.kind for r in rows] == ["same", "changed", "right"]
    changed = rows[1]
    assert ("on Tuesday.", True) in changed.right or any(
        flag and "Tuesday" in text for text, flag in changed.right
    )
    assert diff.summary(rows) == {"same": 1, "changed": 1, "left": 0, "right": 1}


def test_diff_unrelated_paragraphs_are_not_paired():
    rows = diff.side_by_side([("body", "alpha beta gamma")], [("body", "zeta eta theta iota")])
    assert sorted(r.kind for r in rows) == ["left", "right"]


def test_cursor_round_trip_is_exact():
    ts = datetime(2026, 6, 11, 14, 20, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(ts, 42)) == (ts, 42)
    for bad in ("x", "1.2.3", "'; drop table story; --"):
        with pytest.raises(ValueError):
            decode_cursor(bad)


def test_source_colours_are_stable():
    c = source_classes(["zeta", "reuters", "ap"])
    assert c["reuters"] == "s-reuters" and c["ap"] == "s-x0" and c["zeta"] == "s-x1"


def test_only_the_airflow_adapters_import_airflow():
    # the dashboard plugin and the one place the pipeline database is resolved in Airflow
    offenders = []
    for f in (ROOT / "pipeline").rglob("*.py"):
        rel = f.relative_to(ROOT / "pipeline").as_posix()
        text = f.read_text(encoding="utf-8")
        adapters = ("dashboard/plugin.py", "airflow_db.py")
        if ("import airflow" in text or "from airflow" in text) and rel not in adapters:
            offenders.append(rel)
    assert offenders == []


def test_keep_together_restores_operator_merges_after_refining():
    from pipeline.dedup.cluster import keep_together

    groups = [[1, 2], [3], [4, 5]]
    assert keep_together(groups, [(2, 3)]) == [[1, 2, 3], [4, 5]]
    assert keep_together(groups, []) == groups
    assert keep_together(groups, [(1, 99)]) == groups  # pairs outside the nodes: ignored


def test_split_core_leaves_out_copies_tied_only_through_the_member():
    """Story {1 canonical, 2, 3, 4 split out, 5}: 5 is linked only to 4, so it is not part
    of the core the split bans 4 from (it may follow 4); 3 is tied by an operator merge."""
    from pipeline.stages.overrides import component

    members = [1, 2, 3, 5]  # the story without 4
    links = [(1, 2), (2, 4), (4, 5), (1, 4), (3, 1)]
    assert component(1, members, links) == [1, 2, 3]
    assert component(1, members, []) == [1]
