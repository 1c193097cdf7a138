from pipeline.model import ATTRIBUTION, BODY, CAPTION, CORRECTION, READ_MORE, TRAILER, WireItem
from pipeline.text.article import analyse, attribution_agencies, classify
from pipeline.text.captions import caption_body, caption_tokens, split_credit, token_jaccard
from tests.conftest import SAMPLES, shared_or_skip


def test_credits():
    assert (
        split_credit("Leaders meet in Osaka, June 28, 2019. /Reuters Photo")[1] == "Reuters Photo"
    )
    assert split_credit("A rocket blasts off in Jiuquan. /VCG Photo")[1] == "VCG Photo"
    assert split_credit("Workers at a plant in Hebei. /CFP")[1] == "CFP"
    assert (
        split_credit("A farmer harvests rice in Anhui. (Xinhua/Wang Peng)")[1] == "Xinhua/Wang Peng"
    )
    assert split_credit("He said the deal was either/or.") is None
    assert split_credit("Profit rose, said Smith /Jones") is None
    assert split_credit("/Reuters Photo") is None  # credit without a caption


def test_caption_body_strips_furniture():
    a = "File photo: Trucks queue at a mine in Chile, May 20, 2019. Photo taken on May 20, 2019. /CFP"
    b = "Trucks queue at a mine in Chile, May 20, 2019. /Reuters Photo"
    assert caption_body(a) == caption_body(b)
    assert token_jaccard(caption_tokens(a), caption_tokens(b)) == 1.0


def test_classify_kinds():
    paras = [
        "(Corrects figure in paragraph 2)",
        "LONDON (Reuters) - Prices rose.",
        "A trader works on the floor of the exchange. /Reuters Photo",
        "Read more:",
        "Why markets fell in May",
        "Analysts expect more gains this year, they said.",
        "(Reporting by Ann Lee; Editing by Bob Ray)",
        "(With input from Reuters, Xinhua)",
        "Reuter",
    ]
    kinds = [p.kind for p in classify(paras)]
    assert kinds == [
        CORRECTION,
        BODY,
        CAPTION,
        READ_MORE,
        READ_MORE,
        BODY,
        TRAILER,
        ATTRIBUTION,
        TRAILER,  # the sign-off is furniture
    ]
    assert attribution_agencies("(With input from Reuters, Xinhua and AFP)") == (
        "Reuters",
        "Xinhua",
        "AFP",
    )


def test_seed_page_analysis():
    seed = shared_or_skip(SAMPLES / "seed" / "cgtn-putin-trump-osaka.txt")
    from pipeline.sources.registry import parse_payload

    parsed = parse_payload(seed.read_bytes(), "cgtn", seed.name)
    art = analyse(parsed.items[0])
    assert len(art.captions) == 3  # six caption paragraphs, each printed twice
    assert art.attributions == ("Reuters", "Xinhua")
    assert art.read_more == ("Japan's G20: What to watch at Osaka summit",)
    assert "reuters photo" not in art.story_text and "osaka summit" not in art.story_text
    assert art.story_text.startswith("talks between russian president vladimir putin")


def test_dateline_cut_only_from_similarity_text():
    item = WireItem(
        source="xinhua",
        item_id="x",
        format="rss",
        headline="UPDATE 1-T",
        paragraphs=("BEIJING, June 29 (Xinhua) -- China said on Friday it would act.",),
    )
    art = analyse(item)
    assert art.headline == "T" and art.headline_tag == "UPDATE 1"
    assert art.paragraphs[0].text.startswith("BEIJING, June 29 (Xinhua)")
    assert art.story_text == "china said on friday it would act"
