"""The merged record's credit rules, one test per rule an editor checks."""

from pipeline.merge import record
from pipeline.merge.canonical import choose
from pipeline.model import Member
from pipeline.text.normalize import similarity_tokens

from .test_cluster_merge import RULES, _m


def S(aid, ord_, text):
    return record.SourceText(aid, ord_, text, " ".join(similarity_tokens(text)))


LEAD = (
    "SANTIAGO (Reuters) - Copper output at Chile's state-run mines fell 4.2 pct in May from "
    "a year earlier to 412,300 tonnes, the national copper commission said on Thursday."
)
TENIENTE = (
    "The commission said production at the El Teniente division dropped to {} tonnes, its "
    "lowest monthly figure since 2019, while the Radomiro Tomic mine held steady."
)
PERMIT = (
    "The commission said it would file the water permit request in July and that it did "
    "not expect the request to delay the Chuquicamata underground project."
)


def _credits(out):
    return [(p.text[:20], p.article_id, record.kind(p)) for p in out]


def test_identical_paragraph_stays_with_the_earliest_carrier():
    first = [S(1, 0, LEAD), S(1, 1, PERMIT)]
    repost = [S(2, 0, LEAD), S(2, 1, PERMIT)]
    out = record.paragraphs(2, [1, 2], {1: first, 2: repost})
    assert [(p.article_id, p.source_ord) for p in out] == [(1, 0), (1, 1)]
    assert all(record.kind(p) == "canonical" for p in out)


def test_corrected_figure_is_credited_to_the_correction():
    original = [S(1, 0, LEAD), S(1, 1, TENIENTE.format("36,100"))]
    corrected = [S(2, 0, LEAD), S(2, 1, TENIENTE.format("38,100"))]
    out = record.paragraphs(2, [1, 2], {1: original, 2: corrected})
    assert [p.article_id for p in out] == [1, 2]
    assert "38,100" in out[1].text


def test_superseded_figure_never_enters_from_another_member():
    original = [TENIENTE.format("36,100")]
    corrected = [TENIENTE.format("38,100")]
    stale = record.superseded_figures(original, corrected)
    assert stale == {"36100"}
    other = (
        "Output at El Teniente, the commission said, was 36,100 tonnes, hit by floods that "
        "closed the access roads to the pit for a week in late May."
    )
    members = {2: [S(2, 0, LEAD), S(2, 1, corrected[0])], 3: [S(3, 0, other)]}
    out = record.paragraphs(2, [2, 3], members, superseded=stale)
    assert all("36,100" not in p.text for p in out)
    assert len(out) == 2


def test_paraphrase_of_a_paragraph_in_the_record_is_not_added():
    reworded = (
        "Copper output at Chile's state-run mines declined 4.2 percent in May from a year "
        "earlier to 412,000 tonnes, as heavy rain stopped trucks, the national copper "
        "commission said Thursday."
    )
    new = "Separately, the miner named a new chief executive for its Codelco Norte division on Friday."
    members = {1: [S(1, 0, LEAD)], 2: [S(2, 0, reworded), S(2, 1, new)]}
    out = record.paragraphs(1, [1, 2], members)
    assert _credits(out) == [(LEAD[:20], 1, "canonical"), (new[:20], 2, "added")]


def test_text_lent_by_another_story_is_a_contribution_apart():
    mazda = (
        "Mazda Motor Corp said separately that its exports to Chile rose 12 percent in May, "
        "helped by demand for pickup trucks from mining contractors."
    )
    members = {1: [S(1, 0, LEAD)], 2: [S(2, 0, LEAD), S(2, 1, mazda)]}
    lender = {7: [S(7, 3, mazda)]}
    out = record.paragraphs(1, [1, 2], members, lender, [7, 1, 2])
    assert [record.kind(p) for p in out] == ["canonical", "contribution"]
    assert (out[1].article_id, out[1].source_ord) == (7, 3)


def test_furniture_is_never_credited_text():
    for text in (
        "Reuter",
        "WASHINGTON, March 25 -",
        "BEIJING, June 29 (Xinhua) \u2014",
        "LONDON, March 3 (Reuters) \u2013",
        "Read more:",
        "(With input from Reuters, Xinhua)",
        "(Corrects El Teniente output in paragraph 2 to 38,100 tonnes from 36,100 tonnes)",
        "(Reporting by Marta Ilic; Editing by Tom Brown)",
    ):
        assert record.is_furniture(text), text
    assert not record.is_furniture(LEAD)
    assert not record.is_furniture("ALL WHEAT -")  # a table heading, not a dateline
    members = {1: [S(1, 0, "Reuter"), S(1, 1, LEAD), S(1, 2, "(With input from Xinhua)")]}
    assert [p.text for p in record.paragraphs(1, [1], members)] == [LEAD]


def test_killed_item_contributes_no_text_and_is_never_credited():
    members = {1: [S(1, 0, LEAD)], 2: [S(2, 0, LEAD), S(2, 1, PERMIT)]}
    out = record.paragraphs(2, [1, 2], members, killed=[1])
    assert [p.article_id for p in out] == [2, 2]
    assert record.paragraphs(None, [1], {1: [S(1, 0, LEAD)]}, killed=[1]) == []


def test_correction_is_canonical_over_what_it_corrects():
    # the correction is shorter: `complete` alone would keep the uncorrected item
    original = _m(1, "reuters", created=0, words=400, tag="UPDATE 1")
    corrected = _m(2, "reuters", created=2, words=200, tag="CORRECTED/UPDATE 1")
    assert choose([original, corrected], RULES).article_id == 2
    archive = Member(3, "reuters:3", "reuters", "H", "(CORRECTED)", False, None, None, 50)
    assert choose([original, archive], RULES).article_id == 1  # a parenthesised tag is parsed
    from pipeline.text.normalize import split_headline_tags

    tag, _ = split_headline_tags("(CORRECTED) - BANPONCE <BDEP> PLACES NOTES")
    fixed = _m(4, "reuters", created=3, words=50, tag=tag)
    assert choose([original, fixed], RULES).article_id == 4


def _article(tag="", killed=False, hour=0, paragraphs=()):
    from datetime import UTC, datetime, timedelta

    t = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=hour)
    return {
        "source": "reuters",
        "headline_tag": tag,
        "ed_stat": "",
        "killed": killed,
        "first_created": t,
        "version_created": t,
        "word_count": 100,
        "paragraphs": list(paragraphs),
    }


def test_record_check_counts_each_problem():
    from pipeline.evaluate import record_check, record_misses

    wrong, right = TENIENTE.format("36,100"), TENIENTE.format("38,100")
    articles = {
        "r:1": _article(paragraphs=[LEAD, wrong]),
        "r:2": _article("CORRECTED", hour=2, paragraphs=[LEAD, right]),
        "r:3": _article(killed=True, paragraphs=[PERMIT]),
    }
    good = {
        "story_id": "s1",
        "canonical": "r:2",
        "members": ["r:2", "r:1"],
        "record": [
            {"text": LEAD, "credit": "r:1", "kind": "canonical"},
            {"text": right, "credit": "r:2", "kind": "canonical"},
        ],
    }
    check = record_check([good], articles)
    assert record_misses(check) == [] and check.corrections == (1, 1)
    bad = {
        **good,
        "canonical": "r:1",
        "members": ["r:1", "r:2", "r:3"],
        "record": [
            {"text": LEAD, "credit": "r:1", "kind": "canonical"},
            {"text": LEAD.replace("pct", "percent"), "credit": "r:2", "kind": "added"},
            {"text": PERMIT, "credit": "r:3", "kind": "added"},
        ],
    }
    check = record_check([bad], articles)
    assert (check.repeated_pairs, check.superseded, check.killed) == (1, 0, 1)
    assert check.missing == 1 and check.corrections == (0, 1)  # r:1's 36,100 paragraph
    bad["record"].append({"text": wrong, "credit": "r:1", "kind": "canonical"})
    assert record_check([bad], articles).superseded == 1


def test_canonical_printed_twice_is_printed_once_but_table_headings_stay():
    heading = "Area (mln acres) --"
    members = {1: [S(1, 0, LEAD), S(1, 1, heading), S(1, 2, LEAD[20:]), S(1, 3, heading)]}
    out = record.paragraphs(1, [1], members)
    assert [p.text for p in out] == [LEAD, heading, heading]
