"""Parsers on the real samples in ../shared (when present) and on small fixtures of ours."""

from pipeline.model import CANCELED, USABLE
from pipeline.sources.registry import parse_payload, sniff
from tests.conftest import SAMPLE_INBOX, SAMPLES, shared_or_skip

SUPERDESK = SAMPLES / "formats" / "superdesk-fixtures"


def _parse(path, source):
    return parse_payload(path.read_bytes(), source, path.name)


def test_reuters_correction_then_kill_real_items():
    folder = shared_or_skip(SUPERDESK)
    first = _parse(folder / "tag_reuters.com_2016_newsml_L1N14N0FF_version_978556838", "reuters")
    second = _parse(folder / "tag_reuters.com_2016_newsml_L1N14N0FF_version_1542761538", "reuters")
    assert not first.problems and not second.problems
    a, b = first.items[0], second.items[0]
    assert a.key == b.key == "reuters:tag:reuters.com,0000:newsml_L1N14N0FF"
    assert {a.pub_status, b.pub_status} == {USABLE, CANCELED}
    usable = a if a.pub_status == USABLE else b
    kill = b if usable is a else a
    assert usable.ed_stat == "C" and usable.paragraphs
    # opaque version numbers: the kill is the later one by versionCreated
    assert kill.version_created > usable.version_created


def test_every_superdesk_reuters_item_parses():
    folder = shared_or_skip(SUPERDESK)
    for f in sorted(folder.glob("tag_reuters.com_*")):
        p = _parse(f, "reuters")
        assert p.format == "newsml-g2", f.name
        assert not p.problems, (f.name, p.problems)


def test_bundled_inbox_parses_with_expected_keys():
    seen = {}
    for source in ("reuters", "xinhua", "cgtn"):
        for f in sorted((SAMPLE_INBOX / source).iterdir()):
            p = _parse(f, source)
            assert not p.problems, (f, p.problems)
            for it in p.items:
                seen[it.key] = it
    assert "cgtn:2026-06-11-CuChile7x" in seen
    assert "xinhua:http://english.news.cn/2026-06/12/c_1310045.htm" in seen
    assert any(k.startswith("reuters:tag:reuters.com,2026:newsml_") for k in seen)


def test_sniff_by_content_not_folder():
    xml = (SAMPLE_INBOX / "xinhua" / "feed-001.xml").read_bytes()
    assert sniff(xml, "feed.txt", "reuters").NAME == "rss"
    page = next((SAMPLE_INBOX / "cgtn").glob("*.txt")).read_bytes()
    assert sniff(page, "x.xml", "reuters").NAME == "cgtn-text"


def test_rss_guid_tracking_parameters_dropped():
    from pipeline.sources.rss import normalise_guid

    assert (
        normalise_guid("http://x.cn/a/c_1.htm?utm_source=rss&id=3#top")
        == "http://x.cn/a/c_1.htm?id=3"
    )
    assert normalise_guid("urn:uuid:1234") == "urn:uuid:1234"


def test_cgtn_layouts_crlf_bom_and_dotted_date():
    body = (
        "\ufeffTitle here\r\n2026.09.29 14:15 GMT+8\r\nCGTN\r\n[]\r\n"
        "First paragraph of the page.\r\n\r\nSecond paragraph.\r\n"
    ).encode("utf-8")
    p = parse_payload(body, "cgtn", "2026-09-29-abc.txt")
    assert not p.problems
    it = p.items[0]
    assert it.key == "cgtn:2026-09-29-abc"
    assert it.headline == "Title here"
    assert it.paragraphs == ("First paragraph of the page.", "Second paragraph.")
    assert it.first_created.utcoffset().total_seconds() == 8 * 3600


def test_bad_inputs_become_one_line_reasons():
    cases = {
        b"": "empty",
        b"<newsMessage xmlns='http://iptc.org/std/nar/2006-10-01/'><itemSet>": "not well-formed",
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            b"<rss><channel><item><title>&b;</title></item></channel></rss>"
        ): "entit",
        b"\x00\x01\x02binary": "unrecognised",
        b"<rss version='2.0'><channel></channel></rss>": "no items",
    }
    for body, needle in cases.items():
        p = parse_payload(body, "reuters", "f.xml")
        assert not p.items
        assert len(p.problems) == 1
        reason = p.problems[0].reason
        assert needle in reason.lower(), reason
        assert "\n" not in reason


def test_newsml_item_without_body_is_an_item_problem():
    body = (
        b"<newsMessage xmlns='http://iptc.org/std/nar/2006-10-01/'><itemSet>"
        b"<newsItem guid='g1' version='1'><itemMeta><pubStatus qcode='stat:usable'/>"
        b"</itemMeta><contentMeta><headline>H</headline></contentMeta></newsItem>"
        b"<newsItem guid='g2' version='1'><contentMeta><headline>H</headline></contentMeta>"
        b"<contentSet><inlineXML><html xmlns='http://www.w3.org/1999/xhtml'><body>"
        b"<p>Text.</p></body></html></inlineXML></contentSet></newsItem></itemSet></newsMessage>"
    )
    p = parse_payload(body, "reuters", "m.xml")
    assert [i.item_id for i in p.items] == ["g2"]
    assert p.problems[0].item_key == "reuters:g1"
