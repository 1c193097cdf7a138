from pipeline.text.normalize import (
    clean,
    dateline_day,
    similarity_tokens,
    split_dateline,
    split_headline_tags,
)


def test_clean_unicode_entities_whitespace():
    assert clean("  Caf\u00e9&amp;amp;Bar\u00a0\u00a0 \ufeffopen\u200b ") == "Café&Bar open"
    assert clean("ﬁnancial") == "financial"  # NFKC ligature
    assert clean("") == ""


def test_the_day_a_dateline_names():
    assert dateline_day("WASHINGTON, March 25") == (3, 25)
    assert dateline_day("LITTLE ROCK, Ark., Feb 26") == (2, 26)
    assert dateline_day("BEIJING, June 29 (Xinhua)") == (6, 29)
    assert dateline_day("Trail, British Columbia, Sept 1") == (9, 1)
    assert dateline_day("MOSCOW (Reuters)") is None
    assert dateline_day("") is None


def test_datelines():
    assert split_dateline("MOSCOW (Reuters) - Russia said") == ("MOSCOW (Reuters)", "Russia said")
    assert split_dateline("BEIJING, June 29 (Xinhua) -- China said")[1] == "China said"
    assert split_dateline("NEW YORK, March 3 (Reuters) - Stocks")[1] == "Stocks"
    assert split_dateline("Osaka, Japan, June 29 (CGTN) -- Leaders")[1] == "Leaders"
    assert split_dateline("The company (Reuters) said")[0] == ""
    assert split_dateline("Nothing here")[0] == ""
    # the dateline archives keep: place, region, date, a dash; no agency
    assert split_dateline("WASHINGTON, March 25 - The Fed said") == (
        "WASHINGTON, March 25",
        "The Fed said",
    )
    assert split_dateline("LITTLE ROCK, Ark., Feb 26 - Qtly div")[1] == "Qtly div"
    assert split_dateline("Trail, British Columbia, June 11 - Talks")[1] == "Talks"
    assert split_dateline("June 30 (Reuters) - Results")[1] == "Results"
    # a date inside a sentence is not a dateline
    assert split_dateline("The company said, March 3 - no")[0] == ""


def test_headline_tags():
    assert split_headline_tags("UPDATE 2-Oil rises") == ("UPDATE 2", "Oil rises")
    assert split_headline_tags("CORRECTED-UPDATE 1-Oil rises") == (
        "CORRECTED/UPDATE 1",
        "Oil rises",
    )
    assert split_headline_tags("REFILE-Oil rises") == ("REFILE", "Oil rises")
    assert split_headline_tags("Oil rises 2-3 pct") == ("", "Oil rises 2-3 pct")
    # the forms archives show: in parentheses, RPT, a FLASH without a dash
    assert split_headline_tags("(CORRECTED) - ACME <ACM> 2ND QTR") == (
        "CORRECTED",
        "ACME <ACM> 2ND QTR",
    )
    assert split_headline_tags("(CORRECTED)-ACME <ACM> NET")[0] == "CORRECTED"
    assert split_headline_tags("RPT - GRAIN PRICES ADJUSTED") == ("RPT", "GRAIN PRICES ADJUSTED")
    assert split_headline_tags("FLASH OMAHA HOGS UP 1.00 DLR") == (
        "FLASH",
        "OMAHA HOGS UP 1.00 DLR",
    )
    assert split_headline_tags("FLASH FLOODS CUT ROADS")[0] == ""
    assert split_headline_tags("REPUBLICBANK <RPT> DEBT")[0] == ""


def test_similarity_tokens_spell_out_wire_abbreviations():
    a = similarity_tokens("Output rose 4.2 pct to 1,200 mln dlrs")
    b = similarity_tokens("output rose 4.2% to 1200 million dollars")
    assert a == b
    assert similarity_tokens("U.S. growth") == ["us", "growth"]


def test_similarity_tokens_drop_only_the_commas_inside_numbers():
    assert similarity_tokens("On June 1, 2019, 1,234,567.5 barrels; 3,a") == [
        "on",
        "june",
        "1",
        "2019",
        "1234567.5",
        "barrels",
        "3",
        "a",
    ]
    assert similarity_tokens("no abbreviation here") == ["no", "abbreviation", "here"]
