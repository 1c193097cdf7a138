from pipeline.text.normalize import (
    clean,
    figures,
    similarity_tokens,
    split_dateline,
    split_headline_tags,
)


def test_clean_unicode_entities_whitespace():
    assert clean("  Caf\u00e9&amp;amp;Bar\u00a0\u00a0 \ufeffopen\u200b ") == "Café&Bar open"
    assert clean("ﬁnancial") == "financial"  # NFKC ligature
    assert clean("") == ""


def test_datelines():
    assert split_dateline("MOSCOW (Reuters) - Russia said") == ("MOSCOW (Reuters)", "Russia said")
    assert split_dateline("BEIJING, June 29 (Xinhua) -- China said")[1] == "China said"
    assert split_dateline("NEW YORK, March 3 (Reuters) - Stocks")[1] == "Stocks"
    assert split_dateline("Osaka, Japan, June 29 (CGTN) -- Leaders")[1] == "Leaders"
    assert split_dateline("The company (Reuters) said")[0] == ""
    assert split_dateline("Nothing here")[0] == ""


def test_headline_tags():
    assert split_headline_tags("UPDATE 2-Oil rises") == ("UPDATE 2", "Oil rises")
    assert split_headline_tags("CORRECTED-UPDATE 1-Oil rises") == (
        "CORRECTED/UPDATE 1",
        "Oil rises",
    )
    assert split_headline_tags("REFILE-Oil rises") == ("REFILE", "Oil rises")
    assert split_headline_tags("Oil rises 2-3 pct") == ("", "Oil rises 2-3 pct")


def test_similarity_tokens_spell_out_wire_abbreviations():
    a = similarity_tokens("Output rose 4.2 pct to 1,200 mln dlrs")
    b = similarity_tokens("output rose 4.2% to 1200 million dollars")
    assert a == b
    assert similarity_tokens("U.S. growth") == ["us", "growth"]


def test_figures():
    assert figures("rose 4.2 pct to 1,200 in week ended June 15") == ["4.2", "1200", "15"]
