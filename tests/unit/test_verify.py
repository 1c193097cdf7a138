from pipeline.config import DedupConfig
from pipeline.dedup.verify import decide, features
from pipeline.stages.verify import VERIFY_CHUNK, VERIFY_PARALLEL_MIN, decide_chunk, split
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


# --- what differs: entity, occasion, figures (templated wire copy) --------------------------

from datetime import UTC, datetime, timedelta  # noqa: E402

from pipeline.dedup.verify import Meta  # noqa: E402

T0 = datetime(2019, 6, 3, 14, 0, tzinfo=UTC)


def _item(aid, headline, paragraphs, hours=0.0, tag="", dated=None):
    """Features as verify builds them from a stored article: similarity form, display
    text (dateline already cut), headline and publication time."""
    from pipeline.dedup.verify import is_correction

    meta = Meta(
        source="reuters",
        item_id=str(aid),
        headline=headline,
        published=T0 + timedelta(hours=hours),
        corrected=is_correction(tag, paragraphs),
        dated=dated,
    )
    norms = [" ".join(similarity_tokens(p)) for p in paragraphs]
    return features(aid, norms, CFG, meta, list(paragraphs))


DIVIDEND = ["Qtly div 12 cts vs 12 cts prior", "Pay July 15", "Record June 30"]


def test_same_template_other_company_is_a_conflict_whatever_the_overlap():
    a = _item(1, "CALDER MILLS INC <CMI> SETS QUARTERLY", DIVIDEND)
    b = _item(2, "ORTON BANCORP <ORB> REGULAR DIVIDEND", DIVIDEND, hours=0.5)
    e = decide(a, b, CFG)
    assert e.verdict == "conflict", e.reason
    assert "tickers differ: <CMI> calder mills vs <ORB> orton" in e.reason
    # the same company's dividend sent twice is one story
    c = _item(3, "CALDER MILLS INC <CMI> QUARTERLY DIVIDEND", DIVIDEND, hours=1)
    assert decide(a, c, CFG).verdict == "duplicate"


FED = [
    "The Federal Reserve entered the government securities market to arrange {0} of "
    "customer repurchase agreements, a Fed spokesman said.",
    "Dealers said Federal funds were trading at {1} pct when the Fed began its temporary "
    "and indirect supply of reserves to the banking system.",
]


def _fed(aid, amount, rate, hours):
    return _item(
        aid,
        "FED ADDS RESERVES VIA CUSTOMER REPURCHASES",
        [p.format(amount, rate) for p in FED],
        hours=hours,
    )


def test_recurring_report_of_another_day_is_another_edition():
    monday = _fed(1, "1.5 billion dlrs", "6-3/16", 0)
    tuesday = _fed(2, "two billion dlrs", "6-1/4", 24)
    e = decide(monday, tuesday, CFG)
    assert e.verdict == "conflict" and "another edition" in e.reason, e.reason
    # one take re-issued later the same day with a figure changed is the running report
    later = _fed(3, "1.5 billion dlrs", "6-1/4", 2)
    assert decide(monday, later, CFG).verdict == "duplicate"


def test_resend_with_another_dateline_day_is_the_same_story():
    text = [
        "The central bank of Ruritania said it would keep its discount rate at 4.5 pct "
        "after a board meeting that lasted until late in the evening.",
        "Bankers had expected the decision, which leaves the rate unchanged since 1986.",
    ]
    a = _item(1, "RURITANIA KEEPS DISCOUNT RATE UNCHANGED", text)
    b = _item(2, "RURITANIA KEEPS DISCOUNT RATE UNCHANGED", text, hours=22)
    assert decide(a, b, CFG).verdict == "duplicate"
    # the next meeting's decision, the same words but for the date it names, is not
    nxt = [text[0], text[1] + " The board meets next on July 2."]
    prev = [text[0], text[1] + " The board meets next on June 18."]
    c = _item(3, "RURITANIA KEEPS DISCOUNT RATE UNCHANGED", prev)
    d = _item(4, "RURITANIA KEEPS DISCOUNT RATE UNCHANGED", nxt, hours=24 * 14)
    assert decide(c, d, CFG).verdict == "conflict"


COUNCIL = [
    "The Ruritanian central bank left credit policies unchanged after today's regular "
    "meeting of its council, a spokesman said.",
    "The discount rate remains at 3.0 pct and the Lombard rate at 5.0 pct.",
]


def _council(aid, paragraphs, hours, dated):
    return _item(aid, "RURITANIA LEAVES CREDIT POLICIES UNCHANGED", paragraphs, hours, dated=dated)


def test_a_short_report_of_figures_under_another_days_dateline_is_that_days_edition():
    march_5 = _council(1, COUNCIL, 0, (3, 5))
    # the same words two weeks later, dated the day of that meeting: the next meeting
    e = decide(march_5, _council(2, COUNCIL, 24 * 14, (3, 19)), CFG)
    assert e.verdict == "conflict" and "another day's edition" in e.reason, e.reason
    # re-sent the next morning under a new dateline: a re-send
    assert decide(march_5, _council(3, COUNCIL, 20, (3, 6)), CFG).verdict == "duplicate"
    # sent days later under its own dateline: a late re-send
    assert decide(march_5, _council(4, COUNCIL, 24 * 4, (3, 5)), CFG).verdict == "duplicate"
    # without datelines the gap alone does not tell
    assert decide(march_5, _council(5, COUNCIL, 24 * 14, None), CFG).verdict == "duplicate"
    # a short report that names the period of its figures carries its occasion in its text
    sales = ["Sales for the five weeks ended April 4 were off 22.3 pct to 8.2 mln dlrs."]
    a = _item(6, "MARS STORES SALES OFF", sales, dated=(4, 8))
    b = _item(7, "MARS STORES SALES OFF", sales, hours=24 * 14, dated=(4, 22))
    assert decide(a, b, CFG).verdict == "duplicate"


def test_a_recast_short_report_with_other_figures_under_another_days_dateline_conflicts():
    """Below the template threshold (the sentences recast, two joined in one) a short
    item on another day, under that day's dateline, with other figures, is that day's
    report; with the same figures it is still a re-send."""
    first = [
        "The Ruritanian central bank said it added about 120 mln crowns to the money "
        "market in a late operation, dealers in the city said.",
        "That takes its total support today to roughly 136 mln crowns and compares with "
        "its forecast of a 400 mln crown shortage in the system.",
    ]
    recast = (
        "The Ruritanian Central Bank said it added about {} mln crowns to the money market "
        "in a late operation, dealers in the city said. That takes the Central Bank's total "
        "support today to roughly {} mln crowns and compares with its forecast of a "
        "shortage in the system of around 400 mln crowns."
    )
    head = "RURITANIA MONEY MARKET GETS LATE SUPPORT"
    a = _item(1, head, first, dated=(3, 17))
    b = _item(2, head, [recast.format(40, 412)], hours=48, dated=(3, 19))
    e = decide(a, b, CFG)
    assert e.verdict == "conflict" and "another edition" in e.reason, e.reason
    # the same figures re-sent under the next day's dateline: a re-send
    c = _item(3, head, [recast.format(120, 136)], hours=20, dated=(3, 18))
    assert decide(a, c, CFG).verdict == "duplicate"
    # other figures the same day (no other occasion): a take of the running report
    d = _item(4, head, [recast.format(40, 412)], hours=3, dated=(3, 17))
    assert decide(a, d, CFG).verdict == "duplicate"


def test_verify_reads_the_day_an_articles_dateline_names():
    from pipeline.stages.verify import _features

    row = {
        "article_id": 1,
        "texts": ["FRANKFURT, March 19 - " + COUNCIL[0], COUNCIL[1]],
        "norms": [" ".join(similarity_tokens(p)) for p in COUNCIL],
        "source": "reuters",
        "item_key": "reuters:1",
        "origin_ed_stat": "",
        "origin_tag": "",
        "lineage": None,
        "headline": "RURITANIA LEAVES CREDIT POLICIES UNCHANGED",
        "headline_tag": "",
        "published_at": T0,
        "correction_note": False,
    }
    f = _features(row)
    assert f.meta.dated == (3, 19)
    assert f.slots.dates == ()  # the dateline's date is not one the text names
    assert _features({**row, "texts": list(COUNCIL)}).meta.dated is None


def test_a_reformatted_table_of_the_same_figures_is_the_same_story():
    a = _item(
        1,
        "TRELLIS SYSTEMS INC <TRLS> 2ND QTR NET",
        [
            "Shr six cts vs 17 cts",
            "Net 1,064,000 vs 2,676,000",
            "Revs 144.6 mln vs 129.4 mln",
            "Avg shrs 17.1 mln vs 16.1 mln",
        ],
    )
    b = _item(
        2,
        "TRELLIS SYSTEMS INC <TRLS> 2ND QTR SEPT 30",
        [
            "Sept 30 end Shr six cts vs 17 cts Net 1,064,000 vs 2,676,000 Sales 144,600,000 "
            "vs 129,400,000 Avg shrs 17,121,000 vs 16,065,000"
        ],
        hours=2,
    )
    e = decide(a, b, CFG)
    assert e.verdict == "duplicate" and "by its facts" in e.reason, e.reason


def test_one_short_paragraph_never_decides():
    # a one-paragraph item "matches" one paragraph of a longer, different story
    short = _item(
        1,
        "GRAIN SHIPS LOADING AT PORT ALDER",
        [
            "There were seven grain ships loading and six waiting to load at Port Alder, "
            "according to the harbour exchange."
        ],
    )
    other = _item(
        2,
        "GRAIN SHIPS LOADING AT PORT ALDER",
        [
            "There were five grain ships loading and three waiting to load at Port Alder, "
            "according to the harbour exchange."
        ],
        hours=30,
    )
    assert decide(short, other, CFG).verdict != "duplicate"


def test_a_correction_may_change_a_figure_and_stays_the_story():
    text = [
        "Harbour Mills Ltd said its first quarter profit rose to 4.1 mln dlrs from 3.2 mln "
        "dlrs a year earlier on higher shipments of newsprint to Asia.",
        "The company said it expects the second quarter to be as strong.",
    ]
    fixed = [text[0].replace("4.1 mln", "4.7 mln"), text[1], "(Corrects profit figure)"]
    a = _item(1, "HARBOUR MILLS <HML> 1ST QTR PROFIT UP", text)
    b = _item(2, "HARBOUR MILLS <HML> 1ST QTR PROFIT UP", fixed, hours=26, tag="CORRECTED")
    assert decide(a, b, CFG).verdict == "duplicate"


def _row(aid, text, norm_tail=""):
    return {
        "article_id": aid,
        "texts": [f"LONDON, March 3 (Reuters) - {text}"],
        "norms": [" ".join(similarity_tokens(text)) + norm_tail],
        "source": "reuters",
        "item_key": f"reuters:item{aid}",
        "origin_ed_stat": "",
        "origin_tag": "",
        "lineage": None,
        "headline": "Chile copper output falls",
        "published_at": None,
        "correction_note": None,
        "headline_tag": "",
    }


def test_a_text_that_cannot_be_hashed_fails_its_article_alone():
    # a chunk's shingles are hashed in one call: one bad text must not fail its partners
    rows = [_row(1, STORY[0]), _row(2, STORY[0]), _row(3, STORY[0], " \ud800")]
    edges, failed = decide_chunk(rows, [(1, 2), (1, 3), (2, 3)], CFG)
    assert [(e.a, e.b, e.verdict) for e in edges] == [(1, 2, "duplicate")]
    assert [n for n, _ in failed] == [3]
    assert "UnicodeEncodeError" in failed[0][1]


def test_pairs_split_into_chunks_in_order_and_halves_for_a_small_batch():
    def pairs(n):
        return [(i, i + 1) for i in range(n)]

    few = pairs(VERIFY_PARALLEL_MIN - 1)
    assert split(few) == ([few], False)  # not worth starting the workers
    some = pairs(VERIFY_PARALLEL_MIN + 1)  # an incremental batch: one half per worker
    chunks, parallel = split(some)
    assert parallel and [len(c) for c in chunks] == [len(some) - len(some) // 2, len(some) // 2]
    many = pairs(2 * VERIFY_CHUNK + 1)
    chunks, parallel = split(many)
    assert parallel and [len(c) for c in chunks] == [VERIFY_CHUNK, VERIFY_CHUNK, 1]
    for p in (few, some, many):
        assert [x for c in split(p)[0] for x in c] == p
    assert split([]) == ([], False)
