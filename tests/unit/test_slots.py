"""Slots: what fills a wire template (entity, dates, figures), read and compared."""

from pipeline.dedup import slots as S


def _values(text):
    return [f.value for f in S.figures(text)]


def test_figures_read_with_their_magnitude_and_precision():
    assert _values("Revs 17.1 mln vs 16,065,000") == [17.1e6, 16065000]
    assert _values("arrange two billion dlrs at 6-3/16 pct, up 1/4") == [2e9, 6.1875, 0.25]
    assert _values("seven ships loading and twenty-five waiting") == [7, 25]
    assert _values("a 38.5m pound deal and 1.2bn in loans") == [38.5e6, 1.2e9]
    # a date is a date, not two figures; a contract code is a word
    assert _values("week ended April 2, MAY7 285") == [285]


def test_figures_match_at_the_coarser_precision_only():
    a = S.figures("net 17.1 mln")[0]
    assert a.matches(S.figures("net 17,121,000")[0])
    assert not a.matches(S.figures("net 17,190,000")[0])
    # a fraction is exact; a whole number written in words is not a rounding of 1.5
    assert not S.figures("6-1/4")[0].matches(S.figures("6-3/16")[0])
    assert not S.figures("two billion")[0].matches(S.figures("1.5 billion")[0])


def test_dates_are_month_and_day():
    assert S.dates("in the week ended April 2, against March 26") == [(4, 2), (3, 26)]
    assert S.dates("Pay April three Record March 13") == [(4, 3), (3, 13)]
    # a month alone is a period; "may" the verb is not, nor "May" opening a sentence
    assert S.dates("It may rise in May. May sales were higher") == [(5, 0)]


def test_names_are_read_by_case():
    names = S.name_words(
        [
            "Harbour Mills Ltd said its Ontario unit sold the plant. Analysts said the "
            "sale was expected, Dealers added.",
            "SHR 10 CTS VS 12 CTS NET 1,000 VS 2,000",
        ]
    )
    assert {"harbour", "mills", "ltd", "ontario", "dealers"} <= names
    assert "analysts" not in names  # opens a sentence, alone
    assert "shr" not in names and "net" not in names  # capitals throughout tell nothing


def _slots(headline, *paragraphs):
    return S.slots(headline, list(paragraphs))


def test_entity_by_ticker_and_by_the_company_named_in_the_headline():
    a = _slots("NORVAL TOOL CORP <NVT> 1ST QTR NET", "Shr 10 cts vs 12 cts")
    b = _slots("NORVAL TOOL CORP <NVTL.O> 1ST QTR", "Shr 10 cts vs 12 cts")
    c = _slots("BRANT FOODS INC <BRF> 1ST QTR NET", "Shr 10 cts vs 12 cts")
    assert S.entity(a, b)[0] == S.SAME  # one company, its symbol written two ways
    assert S.entity(a, c) == (S.DIFFER, "tickers differ: <NVT> norval tool vs <BRF> brant foods")
    # a shared symbol under two different company names is a typo in one of them
    d = _slots("OSPREY MARINE INC <NVT> SETS QUARTERLY", "Qtly div 10 cts")
    assert S.entity(a, d)[0] == S.DIFFER


def test_one_company_named_in_common_words_or_with_initials_apart():
    a = _slots("U S WEST <USW> 3RD QTR NET", "Shr 1.02 dlrs vs 97 cts")
    b = _slots("US WEST INC <USW> 3RD QTR NET", "Shr 1.02 dlrs vs 97 cts")
    assert a.ticker_name == b.ticker_name == "us west"
    assert S.entity(a, b)[0] == S.SAME
    # a name of common words only is still one name when both write it
    c = _slots("ROYAL RESOURCES CORP <RRCO> 2ND QTR LOSS", "Shr loss 72 cts")
    assert S.entity(c, c)[0] == S.SAME
    # ... but not when a shared symbol stands beside another name
    d = _slots("ROYAL TRUST <RRCO> SETS PAYOUT", "Qtly div 10 cts")
    assert S.entity(c, d)[0] == S.DIFFER


LISTING = (
    "The Chicago Board Options Exchange, CBOE, said it will list new options that trade "
    "beside the existing ones{}, with settlement prices under the symbol <SET>."
)


def test_symbols_an_item_only_mentions_leave_the_subject_to_decide():
    # one copy puts a symbol in its headline; the other, re-sent, only writes one in its body
    a = _slots("CBOE TO LIST NEW S AND P OPTIONS <NSX> APRIL 20", LISTING.format(" <SPX>"))
    b = _slots("CBOE TO LIST NEW S AND P OPTIONS APRIL 20", LISTING.format(""))
    assert b.tickers == {"SET"} and not b.headline_symbol
    assert S.entity(a, b)[0] == S.SAME
    # a headline symbol the other item never writes is another company
    c = _slots("SETTLE CORP <STL> 1ST QTR NET", "Shr 10 cts vs 12 cts, it said <SET>.")
    assert S.entity(a, c)[0] == S.DIFFER


def test_entity_by_the_subject_each_names():
    a = _slots(
        "HALE NORTHERN FUND SETS MONTHLY PAYOUT",
        "Mthly div 6.2 cts vs 6.2 cts prior. NOTE: Hale Northern Tax-Free Fund.",
    )
    b = _slots(
        "HALE COASTAL FUND SETS MONTHLY PAYOUT",
        "Mthly div 6.2 cts vs 6.2 cts prior. NOTE: Hale Coastal Tax-Free Fund.",
    )
    kind, why = S.entity(a, b)
    assert kind == S.DIFFER and "northern" in why and "coastal" in why
    rewrite = _slots(
        "HALE NORTHERN PAYOUT UNCHANGED",
        "The Hale Northern Tax-Free Fund kept its monthly dividend at 6.2 cts.",
    )
    assert S.entity(a, rewrite)[0] == S.SAME


def test_slot_comparison_ignores_paragraphs_without_a_counterpart():
    a = _slots(
        "X",
        "Output rose 4.2 pct to 512 tonnes in May, the ministry said.",
        "Exports were 300 tonnes.",
    )
    # a copy that adds a paragraph lent by another story, with figures of its own
    b = _slots(
        "X",
        "Output rose 4.2 pct to 512 tonnes in May, the ministry said.",
        "Exports were 300 tonnes.",
        "Separately, the Ruritanian airline ordered 12 jets for 900 million dollars.",
    )
    cmp = S.compare(a, b)
    assert cmp.figures.agree() and cmp.figures.compared == 3
    edition = _slots(
        "X",
        "Output rose 1.7 pct to 498 tonnes in June, the ministry said.",
        "Exports were 250 tonnes.",
    )
    assert S.compare(a, edition).figures.differ()


def test_lsh_text_lets_a_reformatted_table_meet_its_original():
    a = set(S.lsh_text("TRELL INC <TRL> 2ND QTR NET", "shr six cts revs 144.6 million").split())
    b = set(S.lsh_text("TRELL INC <TRL> 2ND QTR", "shr 6 cts revs 144600000").split())
    assert {"t:trl", "f:6", "f:1.4e+08", "h:trell"} <= a & b
