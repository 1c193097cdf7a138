"""Hostile and broken payloads end in a clear one-line reason, quickly, without a crash."""

import time

import pytest

from pipeline.sources.base import MAX_PAYLOAD_BYTES, decode_text
from pipeline.sources.registry import parse_payload

G2 = b"http://iptc.org/std/nar/2006-10-01/"


def refused(body: bytes, needle: str, source: str = "reuters", **kw) -> str:
    t0 = time.perf_counter()
    p = parse_payload(body, source, "f.xml", **kw)
    assert time.perf_counter() - t0 < 5, "took too long"
    assert not p.items, p.items
    assert len(p.problems) >= 1
    reason = p.problems[0].reason
    assert needle.lower() in reason.lower(), reason
    assert "\n" not in reason and len(reason) <= 500
    return reason


def test_entity_expansion_bomb():
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
            for i in range(1, 10)
        )
        + b"]><newsItem xmlns='"
        + G2
        + b"' guid='x'><contentMeta><headline>&lol9;</headline></contentMeta></newsItem>"
    )
    refused(lol, "entity bomb")


def test_external_entity_and_dtd_are_not_loaded():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><guid>g</guid><description>&x;</description></item></channel></rss>"
    )
    refused(xxe, "entities")
    # an external DTD without entity declarations: parsed, the DTD never fetched
    body = (
        b'<?xml version="1.0"?><!DOCTYPE nitf SYSTEM "http://127.0.0.1:9/nitf.dtd">'
        b'<nitf><head><docdata><doc-id id-string="D1"/></docdata></head><body><body.content>'
        b"<p>Text of the story.</p></body.content></body></nitf>"
    )
    p = parse_payload(body, "ap", "d.xml")
    assert [i.item_id for i in p.items] == ["D1"]


def test_an_entity_declaration_hidden_after_a_long_prolog():
    body = b"<!--" + b"x" * 200_000 + b'--><!DOCTYPE r [<!ENTITY a "b">]><rss/>'
    refused(body, "entities")


def test_deeply_nested_xml_json_and_html():
    deep_xml = b"<newsItem xmlns='" + G2 + b"' guid='g'>" + b"<a>" * 100_000 + b"</a>" * 100_000
    refused(deep_xml + b"</newsItem>", "not well-formed")
    refused(b"[" * 200_000 + b"]" * 200_000, "nested too deeply")
    refused(b'{"uri": "u", "body_text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested")
    html = b"<!DOCTYPE html><html><body>" + b"<div>" * 50_000 + b"<p>x</p>" + b"</div>" * 50_000
    p = parse_payload(html + b"</body></html>", "cgtn", "page.html")
    assert p.items or p.problems  # whatever the parser makes of it, it answers


def test_oversize_payloads_are_refused_by_size():
    refused(b"<rss>" + b" " * (MAX_PAYLOAD_BYTES + 1), "byte limit")
    reason = refused(b"<rss>", "byte limit", size=100 * 1024 * 1024)
    assert "104857600 bytes" in reason and "first 5 bytes were kept" in reason


def test_huge_attribute_and_text_node():
    attr = b"<newsItem xmlns='" + G2 + b"' guid='" + b"g" * 12_000_000 + b"'/>"
    p = parse_payload(attr, "reuters", "a.xml")
    assert not p.items and p.problems  # libxml2's size limits, no huge_tree


def test_empty_and_whitespace():
    refused(b"", "empty payload")
    refused(b" \r\n\t ", "empty payload")
    refused(b"\xef\xbb\xbf", "empty payload")


def test_missing_ids_are_named():
    cases = [
        (b"<newsItem xmlns='" + G2 + b"'><contentMeta/></newsItem>", "without a guid"),
        (b"<rss><channel><item><title>T</title></item></channel></rss>", "without guid or link"),
        (b'{"type": "text", "body_text": "x", "headline": "h"}', "without uri"),
        (b'{"data": {"item": {"altids": {"etag": "e"}, "signals": []}}}', "altids.itemid"),
        (b"<NewsML><NewsItem><Identification/></NewsItem></NewsML>", "NewsIdentifier"),
    ]
    for body, needle in cases:
        refused(body, needle)
    # an NITF without doc-id is keyed by its file name; without either it is refused
    nitf = b"<nitf><body><body.content><p>Story.</p></body.content></body></nitf>"
    assert parse_payload(nitf, "ap", "story-17.xml").items[0].item_id == "story-17"
    p = parse_payload(nitf, "ap", "")
    assert "doc-id" in p.problems[0].reason


def test_invalid_utf8_and_wrong_declared_charset_are_repaired():
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?><rss><channel><item><guid>g1</guid>"
        b"<description>Caf\xe9 owners \x93protest\x94 new rules.</description></item>"
        b"</channel></rss>"
    )
    it = parse_payload(body, "xinhua", "f.xml").items[0]
    assert it.paragraphs == ("Caf\u00e9 owners \u201cprotest\u201d new rules.",)


def test_control_characters_in_xml_are_dropped():
    body = (
        b"<rss><channel><item><guid>g1</guid><description>Bad\x0b byte\x01 here."
        b"</description></item></channel></rss>"
    )
    assert parse_payload(body, "xinhua", "f.xml").items[0].paragraphs == ("Bad byte here.",)


def test_mixed_encodings_decode_each_byte_sensibly():
    mixed = "Beijing \u2013 caf\u00e9 ".encode() + b"\x93quoted\x94"
    assert decode_text(mixed) == "Beijing \u2013 caf\u00e9 \u201cquoted\u201d"
    utf16 = "Title\r\nUpdated 09:30, 29-Jun-2019\r\n\r\nText.".encode("utf-16-le")
    p = parse_payload(utf16, "cgtn", "2019-06-29-abc.txt")
    assert p.items and p.items[0].headline == "Title"


@pytest.mark.parametrize(
    "body",
    [
        b"<",
        b"{",
        b"[1,2",
        b"<?xml version='1.0'?>",
        b'{"uri": 5, "headline": ["a"], "bodies": "x", "associations": 7}',
        b'{"uri": "u", "bodies": [{"value": 5}, null, []], "headlines": [null, {"value": 3}]}',
        b'{"data": {"items": [1, "x", null, {"item": []}]}}',
        b"<nitf><body><body.content><media><media-caption/></media></body.content></body></nitf>",
        b"<html><body><article></article></body></html>",
        b"Title\nUpdated 99:99, 45-Foo-2019\n\ntext",
        b"1" * 5000,
    ],
)
def test_odd_inputs_answer_with_a_reason(body):
    p = parse_payload(body, "cgtn", "odd.json")
    assert p.items or p.problems
    for prob in p.problems:
        assert prob.reason and "\n" not in prob.reason
        assert not prob.reason.startswith("parser error"), prob.reason


def test_json_escapes_that_postgres_cannot_store_are_removed():
    body = rb'{"uri": "a\ud800b", "headline": "x\u0000y", "body_text": "t\udfffu \u0000 v"}'
    it = parse_payload(body, "s", "x.json").items[0]
    assert (it.item_id, it.headline, it.paragraphs) == ("ab", "xy", ("tu v",))
