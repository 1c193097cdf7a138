from pipeline.config import DedupConfig
from pipeline.dedup.verify import decide, features
from pipeline.text.normalize import similarity_tokens

CFG = DedupConfig()


def _f(aid, paragraphs):
    return features(aid, [" ".join(similarity_tokens(p)) for p in paragraphs], CFG)


STORY = [
    "Copper output at Chile's state-run mines fell 4.2 pct in May from a year earlier to 412,300 tonnes, as heavy rain halted trucks.",
    "The commission said production at the El Teniente division dropped to 36,100 tonnes, its lowest monthly figure since 2019.",
    "Chile is the world's largest copper producer and the weaker figures pushed benchmark copper up 1.1 pct in afternoon trade.",
    "Officials said roads to the affected pits reopened on May 24 and that output in June was expected to recover strongly.",
]
OTHER = [
    "The central bank left its main interest rate unchanged at 3.5 percent on Tuesday, saying inflation was slowing as expected.",
    "Economists polled last week had expected no change, though two had forecast a quarter-point cut before the summer break.",
    "The bank will publish new forecasts in September together with its quarterly report on financial stability in the region.",
]


def test_abridged_copy_is_duplicate_by_containment():
    e = decide(_f(1, STORY), _f(2, STORY[:2]), CFG)
    assert e.verdict == "duplicate", e.reason
    assert e.containment > 0.95 and e.jaccard < 0.6
    assert "containment" in e.reason


def test_unrelated_is_distinct_and_borrowing_is_contributor():
    assert decide(_f(1, STORY), _f(2, OTHER), CFG).verdict == "distinct"
    composite = [*OTHER, STORY[1]]
    e = decide(_f(1, STORY), _f(2, composite), CFG)
    assert e.verdict == "contributor", e.reason


def test_templated_reports_with_other_figures_are_vetoed():
    week1 = [
        "Electricity output rose 2.3 pct in the week ended June 6 to 18,512 million kwh from 18,096 million a year earlier, the federation said.",
        "Demand from factories accounted for 41 pct of the total in the week, the federation said in its weekly report.",
    ]
    week2 = [
        "Electricity output rose 1.6 pct in the week ended June 13 to 18,871 million kwh from 18,574 million a year earlier, the federation said.",
        "Demand from factories accounted for 39 pct of the total in the week, the federation said in its weekly report.",
    ]
    e = decide(_f(1, week1), _f(2, week2), CFG)
    assert e.verdict == "conflict" and "figures differ" in e.reason


def test_correction_of_one_figure_is_still_duplicate():
    corrected = [STORY[0], STORY[1].replace("36,100", "38,100"), *STORY[2:]]
    e = decide(_f(1, STORY), _f(2, corrected), CFG)
    assert e.verdict == "duplicate", e.reason


def test_unmarked_first_takes_of_one_agency_conflict():
    from pipeline.dedup.verify import Meta

    first = Meta(source="reuters", item_id="A", ed_stat="N")
    other = Meta(source="reuters", item_id="B", ed_stat="N")
    update = Meta(source="reuters", item_id="C", ed_stat="U", headline_tag="UPDATE 1")
    later = [
        STORY[0],
        STORY[1],
        "Officials gave no date for the reopening of the roads to the pits.",
    ]
    a = features(1, [" ".join(similarity_tokens(p)) for p in STORY], CFG, first)
    b = features(2, [" ".join(similarity_tokens(p)) for p in later], CFG, other)
    e = decide(a, b, CFG)
    assert e.verdict == "conflict" and "version markers" in e.reason
    c = features(3, [" ".join(similarity_tokens(p)) for p in later], CFG, update)
    assert decide(a, c, CFG).verdict == "duplicate"
    linked = Meta(source="reuters", item_id="B", ed_stat="N", lineage=frozenset({"A"}))
    b2 = features(2, [" ".join(similarity_tokens(p)) for p in later], CFG, linked)
    assert decide(a, b2, CFG).verdict == "duplicate"
    xinhua = Meta(source="xinhua", item_id="X")  # RSS carries no edStat: rule does not apply
    x = features(4, [" ".join(similarity_tokens(p)) for p in later], CFG, xinhua)
    assert (
        decide(
            features(
                5,
                [" ".join(similarity_tokens(p)) for p in STORY],
                CFG,
                Meta(source="xinhua", item_id="Y"),
            ),
            x,
            CFG,
        ).verdict
        == "duplicate"
    )


def test_version_linked_to_another_story_conflicts_with_a_first_take():
    from pipeline.dedup.verify import Meta

    first = Meta(source="reuters", item_id="B", ed_stat="N")
    correction_of_a = Meta(
        source="reuters",
        item_id="C",
        ed_stat="C",
        headline_tag="CORRECTED",
        lineage=frozenset({"A"}),
    )
    correction_of_b = Meta(
        source="reuters",
        item_id="D",
        ed_stat="C",
        headline_tag="CORRECTED",
        lineage=frozenset({"B"}),
    )
    text = [" ".join(similarity_tokens(p)) for p in STORY]
    b = features(1, text, CFG, first)
    assert decide(b, features(2, text[:3], CFG, correction_of_a), CFG).verdict == "conflict"
    assert decide(b, features(3, text[:3], CFG, correction_of_b), CFG).verdict == "duplicate"
