"""The version and kill rules (pipeline.merge.versions), as a pure unit: prepared items in,
the writes of one ingest chunk out. The database side is tests/integration/test_ingest.py."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.merge.versions import IngestPlan
from pipeline.model import CANCELED, USABLE, WITHHELD, WireItem
from pipeline.sources.base import Problem
from pipeline.sources.prepare import PreparedPayload, prepare_item

KEY = "reuters:g1"
BODY = "LONDON (Reuters) - Copper rose on Tuesday as stocks in warehouses fell to a low."
UPDATE = BODY + " Analysts expect the deficit to widen next year."


def at(hour: int) -> datetime:
    return datetime(2026, 6, 11, hour, tzinfo=UTC)


def item(version: str, hour: int, text: str | None = BODY, status: str = USABLE, tag: str = ""):
    return prepare_item(
        WireItem(
            source="reuters",
            item_id="g1",
            format="newsml",
            headline=f"{tag}Copper rises",
            paragraphs=(text,) if text else (),
            version=version,
            version_created=at(hour),
            first_created=at(8),
            pub_status=status,
            ed_stat={"1": "N", "2": "U"}.get(version, "C"),
        )
    )


def plan(articles=None, known=None) -> IngestPlan:
    return IngestPlan(articles or {}, known or {}, raw_ids=[103, 102, 101], article_ids=[11])


def stored(*items) -> tuple[dict, dict]:
    """The article and known versions after a first chunk of ``items``."""
    p = plan()
    for pi in items:
        p.apply(1, pi)
    w = p.writes()
    return {KEY: w.new_articles[0]}, p.known


def test_a_first_version_makes_a_new_article():
    p = plan()
    assert p.apply(1, item("1", 9)) == "new"
    w = p.writes()
    (a,) = w.new_articles
    assert (a.id, a.raw_item_id, a.version, a.version_count) == (11, 101, "1", 1)
    assert a.story_text and a.pending and not a.killed
    assert [r.id for r in w.raw_items] == [101] and w.raw_items[0].item_key == KEY
    assert list(w.texts) == [11] and w.replaced_text_of == () and w.changed_articles == ()


def test_the_same_content_again_is_a_repeat_whatever_its_label():
    p = plan()
    p.apply(1, item("1", 9))
    assert p.apply(2, item("1", 9)) == "repeat"
    assert len(p.writes().raw_items) == 1


def test_one_version_label_with_other_text_is_a_conflict():
    articles, known = stored(item("1", 9))
    p = plan(articles, known)
    assert p.apply(2, item("1", 9, text=UPDATE)) == "conflict"
    w = p.writes()
    assert w.raw_items == () and w.changed_articles == ()
    assert w.quarantined[0].item_key == KEY and "conflicting content" in w.quarantined[0].reason


def test_a_newer_version_replaces_the_text():
    articles, known = stored(item("1", 9))
    p = plan(articles, known)
    assert p.apply(2, item("2", 10, text=UPDATE, tag="UPDATE 1-")) == "updated"
    w = p.writes()
    ((a, touched),) = w.changed_articles
    assert touched and a.version == "2" and a.version_count == 2 and "deficit" in a.story_text
    assert a.headline_tag == "UPDATE 1" and a.origin_tag == ""  # the item began untagged
    assert w.replaced_text_of == (11,)


def test_an_older_version_changes_no_text_but_tells_how_the_item_began():
    articles, known = stored(item("2", 10, text=UPDATE, tag="UPDATE 1-"))
    p = plan(articles, known)
    assert p.apply(2, item("1", 9)) == "older"
    ((a, touched),) = p.writes().changed_articles
    assert not touched and a.version == "2" and "deficit" in a.story_text
    assert a.version_count == 2 and a.origin_version_created == at(9) and a.origin_ed_stat == "N"


def test_a_kill_keeps_the_text_but_the_item_is_killed():
    articles, known = stored(item("1", 9))
    p = plan(articles, known)
    assert p.apply(2, item("3", 11, text=None, status=CANCELED)) == "killed"
    ((a, touched),) = p.writes().changed_articles
    assert a.killed and a.pub_status == CANCELED and touched and a.story_text
    assert p.writes().texts == {}


def test_a_kill_that_arrives_first_is_filled_in_by_the_older_text():
    p = plan()
    assert p.apply(1, item("3", 11, text=None, status=CANCELED)) == "killed"
    assert p.apply(2, item("1", 9)) == "updated"
    (a,) = p.writes().new_articles
    assert a.killed and a.version == "3" and a.word_count > 10 and a.version_count == 2


def test_withheld_without_text_changes_the_status_only():
    articles, known = stored(item("1", 9))
    p = plan(articles, known)
    assert p.apply(2, item("2", 10, text=None, status=WITHHELD)) == "updated"
    ((a, _),) = p.writes().changed_articles
    assert a.pub_status == WITHHELD and not a.killed and a.story_text == articles[KEY].story_text


def test_a_payload_is_quarantined_only_when_nothing_in_it_could_be_used():
    articles, known = stored(item("1", 9))
    p = plan(articles, known)
    conflict = PreparedPayload(7, "newsml", (item("1", 9, text=UPDATE),), ())
    broken = PreparedPayload(8, "newsml", (), (Problem(None, "not XML"),))
    fine = PreparedPayload(9, "newsml", (item("2", 10, text=UPDATE),), (Problem(KEY, "odd"),))
    assert p.apply_payload(conflict) == ["conflict"]
    assert p.apply_payload(broken) == []
    assert p.apply_payload(fine) == ["updated"]
    w = p.writes()
    assert [(r.payload_id, r.status) for r in w.payloads] == [
        (7, "quarantined"),
        (8, "quarantined"),
        (9, "parsed"),
    ]
    assert [q.payload_id for q in w.quarantined] == [7, 8, 9]
