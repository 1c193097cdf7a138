"""Every wire format: our own fixtures (tests/fixtures/formats) field by field, and every
real sample under ../shared/samples/formats either parsed or refused with its true reason."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.model import CANCELED, USABLE, WITHHELD
from pipeline.sources.registry import FORMATS, parse_payload, sniff
from pipeline.text.article import analyse
from tests.conftest import FIXTURES, SAMPLES, shared_or_skip

F = FIXTURES / "formats"


def parse(name: str, source: str = "test"):
    path = F / name
    return parse_payload(path.read_bytes(), source, path.name)


def only(parsed):
    assert not parsed.problems, parsed.problems
    assert len(parsed.items) == 1
    return parsed.items[0]


def test_every_format_module_follows_the_contract():
    names = [f.NAME for f in FORMATS]
    assert len(names) == len(set(names))
    for f in FORMATS:
        assert callable(f.sniff) and callable(f.parse) and f.__doc__


# --- NewsML-G2 ---------------------------------------------------------------------------


def test_g2_message_with_package_text_and_picture():
    p = parse("g2_package_message.xml", "wire")
    assert p.format == "newsml-g2" and not p.problems
    text, pic = p.items
    assert text.key == "wire:tag:example.net,2026:text-harbour"
    assert text.version == "2" and text.ed_stat == "U" and text.pub_status == USABLE
    assert text.first_created == datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    # the blank line inside the last <p> separates the trailer
    assert text.paragraphs[-1] == "(Reporting by Sam Field; Editing by Ann Lee)"
    # Reuters-style "SLUG:HEADLINE" description is no photo caption
    assert text.captions == ()
    assert text.lineage == (("evolvedFrom", "tag:example.net,2026:text-harbour-first"),)
    facts = dict(text.extra)
    assert facts["located"] == "Portsmouth"
    assert facts["dateline"] == "PORTSMOUTH, March 2"
    assert facts["copyright_holder"] == "Example Wire"
    assert analyse(text).headline_tag == "UPDATE 1"
    assert pic.paragraphs == () and pic.captions[0].startswith("Fishing boats return")
    # the package: both pictures go with the text item of their group, in order
    assert [(ln.text_key, ln.picture_key, ln.ord) for ln in p.links] == [
        (text.key, "wire:tag:example.net,2026:pic-harbour-1", 0),
        (text.key, "wire:tag:example.net,2026:pic-harbour-2", 1),
    ]
    assert p.links[1].caption == "Crane lifts a damaged pontoon"
    assert p.link_versions == {
        "wire:tag:example.net,2026:pkg-harbour": datetime(2026, 3, 2, 8, 14, tzinfo=UTC)
    }


def test_g2_correction_note_and_kill_with_opaque_versions():
    corr = only(parse("g2_correction.xml"))
    kill = only(parse("g2_kill.xml"))
    assert corr.key == kill.key
    assert corr.ed_stat == "C" and kill.ed_stat == "D" and kill.pub_status == CANCELED
    # the kill has the smaller version number but is the later version
    assert int(kill.version) < int(corr.version)
    assert kill.version_created > corr.version_created
    art = analyse(corr)
    assert art.headline_tag == "CORRECTED" and art.headline == "Town opens new library"
    assert art.paragraphs[0].kind == "correction"
    assert "corrects number" not in art.story_text  # the note is not story text


def test_g2_item_that_fails_the_xsd_still_ingests():
    it = only(parse("g2_not_xsd_valid.xml"))
    assert it.pub_status == USABLE  # "stat:Usable" spelled with a capital
    assert it.version_created == datetime(2026, 5, 5, 12, 0, tzinfo=UTC)  # zoneless: UTC
    assert it.paragraphs == (
        "The summer ferry timetable starts on June 1.",
        "Two extra crossings run on Saturdays.",
    )


def test_g2_inline_nitf_withheld():
    it = only(parse("g2_nitf_inline.xml"))
    assert it.pub_status == WITHHELD
    assert "Summary that repeats the story." not in it.paragraphs  # the abstract
    assert it.paragraphs[0].startswith("Unions called off")
    assert it.captions == ("Commuters wait at a station. EXAMPLE/Photo",)


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"<conceptItem xmlns='http://iptc.org/std/nar/2006-10-01/' guid='c'/>", "concept"),
        (b"<planningItem xmlns='http://iptc.org/std/nar/2006-10-01/' guid='p'/>", "planning"),
        (b"<contentMeta xmlns='http://iptc.org/std/nar/2006-10-01/'/>", "fragment"),
        (
            b"<newsItem xmlns='http://iptc.org/std/nar/2006-10-01/' guid='g'><itemMeta>"
            b"<pubStatus qcode='stat:replaced'/></itemMeta></newsItem>",
            "unknown pubStatus",
        ),
        (
            b"<newsItem xmlns='http://iptc.org/std/nar/2006-10-01/' guid='g'><itemMeta>"
            b"<itemClass qcode='ninat:picture'/></itemMeta></newsItem>",
            "picture item has no caption",
        ),
    ],
)
def test_g2_refusals_say_why(xml, reason):
    p = parse_payload(xml, "reuters", "x.xml")
    assert not p.items and reason in p.problems[0].reason


def test_g2_edstat_d_is_a_kill_even_when_usable():
    xml = (
        b"<newsItem xmlns='http://iptc.org/std/nar/2006-10-01/' guid='g' version='2'>"
        b"<itemMeta><pubStatus qcode='stat:usable'/><signal qcode='edStat:D'/></itemMeta>"
        b"<contentMeta><headline>H</headline></contentMeta></newsItem>"
    )
    it = only(parse_payload(xml, "reuters", "x.xml"))
    assert it.killed and it.ed_stat == "D"


# --- other formats -------------------------------------------------------------------------


def test_newsml1_latin1_revision():
    it = only(parse("newsml1_story.xml", "afp"))
    assert it.key == "afp:urn:newsml:example.fr:20260302:TX-XYZ-001"  # revision suffix cut
    assert it.version == "2"
    assert it.version_created == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
    assert it.headline == "Le musée rouvre ses portes"
    assert it.paragraphs[0].startswith("Le musée des Beaux-Arts")  # not the style sheet
    assert it.captions == ("La façade du musée, le 2 mars.",)
    assert it.language == "fr"


def test_nitf_document():
    it = only(parse("nitf_story.xml", "ntb"))
    assert it.key == "ntb:EX.2026.0042" and it.version == "3"
    assert it.headline == "Bridge toll to rise in April"
    assert it.version_created == datetime(2026, 3, 10, 6, 15, tzinfo=UTC)
    assert it.paragraphs[:2] == (
        "The toll on the city bridge rises by ten percent on April 1.",
        "Commuters with a season pass pay the old price until June.",
    )
    assert it.captions == ("Traffic on the bridge at dawn.",)
    assert ("byline", "By Ola Nordmann") in it.extra


def test_ninjs_1_2_3():
    one = only(parse("ninjs1_composite.json"))
    assert one.paragraphs == (
        "The river burst its banks on Sunday, flooding 40 homes.",
        "Residents were moved to a school gym.",
    )
    assert one.captions == ("Water covers a street in the old town on Sunday.",)
    assert one.version == "2" and one.first_created == datetime(2026, 2, 1, 9, tzinfo=UTC)
    two = only(parse("ninjs2_text.json"))
    assert two.headline == "Flood waters recede"  # role main, not the first headline
    assert two.version_created == datetime(2026, 2, 2, 7, tzinfo=UTC)
    assert two.captions == ("A man clears mud from his doorway.",)
    three = only(parse("ninjs3_text.json"))  # camelCase, a kill without a body
    assert three.pub_status == CANCELED and three.paragraphs == ()
    assert three.version == "4"


def test_ninjs_status_words():
    for word, status in (("withheld", WITHHELD), ("cancelled", CANCELED), ("", USABLE)):
        body = f'{{"uri": "u1", "pubstatus": "{word}", "body_text": "Some text."}}'.encode()
        assert only(parse_payload(body, "s", "x.json")).pub_status == status
    p = parse_payload(b'{"uri": "u1", "pubstatus": "replaced"}', "s", "x.json")
    assert "unknown pubstatus 'replaced'" in p.problems[0].reason
    p = parse_payload(b'{"uri": "e1", "type": "event", "eventDetails": {}}', "s", "x.json")
    assert "event, not a news item" in p.problems[0].reason


def test_ap_json_content_and_feed():
    it = only(parse("ap_content.json", "ap"))
    assert it.key == "ap:abc123" and it.version == "2"
    assert it.paragraphs[0] == "Heavy snow closed the mountain pass on Tuesday."
    assert it.captions == ("Trucks wait in the snow at the foot of the pass.",)
    facts = dict(it.extra)
    assert facts["signals"] == "newscontent"
    assert facts["headline_extended"].startswith("Heavy snow")
    feed = parse("ap_feed.json", "ap")
    assert [i.key for i in feed.items] == ["ap:pic999"]
    assert feed.items[0].captions[0].endswith("(AP Photo/Lee Example)")
    # a text item whose story is only a rendition to download: a true reason
    assert feed.problems[0].item_key == "ap:txt555"
    assert "no inline text" in feed.problems[0].reason


def test_rss_and_atom():
    p = parse("rss_feed.xml", "xinhua")
    assert [i.key for i in p.items] == ["xinhua:http://english.example.cn/2026-03/07/c_1310200.htm"]
    it = p.items[0]
    assert it.version_created == datetime(2026, 3, 7, 1, 0, tzinfo=UTC)
    assert it.captions == ("Cranes at the port, March 7, 2026. (Xinhua/Ding Example)",)
    assert p.problems[0].item_key == "#2" and "empty description" in p.problems[0].reason
    atom = only(parse("atom_feed.xml"))
    assert atom.paragraphs == ("The city library will open until 9 pm on weekdays.",)
    assert atom.first_created < atom.version_created


def test_html_pages_cgtn_and_xinhua():
    cg = only(parse("cgtn_page.html", "cgtn"))
    assert cg.key == "cgtn:cgtn_page"  # the file stem, like the text pages
    assert cg.headline == "Pandas make debut at city zoo"
    assert cg.version_created.utcoffset().total_seconds() == 8 * 3600
    assert cg.paragraphs[0].startswith("Two giant pandas")
    assert not any("Menu item" in p or "not text" in p or "Copyright" in p for p in cg.paragraphs)
    assert cg.captions == ("A giant panda eats bamboo at the zoo, March 5, 2026. /CFP",)
    xh = only(parse("xinhua_page.html", "xinhua"))
    # the canonical URL, normalised: the id the story has in Xinhua's RSS feed
    assert xh.key == "xinhua:http://www.xinhuanet.com/english/2026-03/06/c_1310099.htm"
    assert xh.headline == "China launches new weather satellite"  # site name cut
    assert xh.paragraphs[-1].endswith("\u201cIt is a big step,\u201d one said.")  # GBK read
    assert analyse(xh).captions[0].credit == "Xinhua/Wang Example"


def test_sniffing_is_by_content_not_name_or_folder():
    cases = {
        "g2_correction.xml": "newsml-g2",
        "newsml1_story.xml": "newsml-1",
        "nitf_story.xml": "nitf",
        "ninjs2_text.json": "ninjs",
        "ap_content.json": "ap-json",
        "rss_feed.xml": "rss",
        "cgtn_page.html": "article-html",
    }
    for name, fmt in cases.items():
        body = (F / name).read_bytes()
        for source in ("reuters", "xinhua", "cgtn"):
            got = sniff(body, "misleading.txt", source).NAME
            assert got == fmt, (name, source)


# --- the real samples --------------------------------------------------------------------

# Files of ../shared/samples/formats that are not news, or not complete: the reason each
# is refused with (see the format table in README.md). Every other file must parse.
REFUSED = {
    "newsml-g2/LISTING_1_A_NewsML-G2_News_Item.xml": "text item has no body text",
    "newsml-g2/LISTING_10_Abstract_Concept_conveyed_in_a_NewsML-G2_Concept_Item.xml": "concept",
    "newsml-g2/LISTING_11_Person_Concept_conveyed_in_a_NewsML-G2_Concept_Item.xml": "concept",
    "newsml-g2/LISTING_12_Knowledge_Item_for_Access_Codes.xml": "knowledge item",
    "newsml-g2/LISTING_13_Complete_Catalog_Item.xml": "catalog",
    "newsml-g2/LISTING_14_Event_sent_as_a_Concept_Item.xml": "concept",
    "newsml-g2/LISTING_15_Two_Related_Events_in_a_Knowledge_Item.xml": "knowledge item",
    "newsml-g2/LISTING_17_Planning_Item_a_CCL.xml": "planning item",
    "newsml-g2/LISTING_18_Planning_Item_at_PCL.xml": "planning item",
    "newsml-g2/LISTING_19_Planning_Item_with_delivery_at_CCL.xml": "planning item",
    "newsml-g2/LISTING_20_Planning_Item_with_delivery_at_PCL.xml": "planning item",
    "newsml-g2/LISTING_24_News_Message_conveying_a_complete_News_Package.xml": "without a guid",
    "newsml-g2/LISTING_25_An_NITF_marked-up_article_conveyed_in_inlineXML.xml": "fragment",
    "newsml-g2/LISTING_27_Company_Financial_Information.xml": "text item has no body text",
    "newsml-g2/LISTING_28_Illustrating_Located_Subject_and_Dateline.xml": "fragment",
    "newsml-g2/LISTING_29_Hop_History.xml": "text item has no body text",
    "newsml-g2/LISTING_7_Group_Set_example_showing_Hierarchical_Package_Structure.xml": "fragment",
    "newsml-g2/LISTING_8_Group_Set_example_showing_an_ALT_Package_Mode.xml": "fragment",
    "newsml-g2/LISTING_9_Group_Set_example_showing_a_SEQ_Package_Mode.xml": "fragment",
    "newsml-g2/NewsML-G2_2.35-spec-All-Power.xsd": "XML Schema",
    "newsml-g2/ap_metadata_example.xml": "video item has no caption",
    "newsml-g2/facet-example.xml": "text item has no body text",
    "newsml-g2/facet-example-2.xml": "text item has no body text",
    "newsml-g2/nitf-3-6-ruby-include.xsd": "XML Schema",
    "newsml-g2/nitf-3-6.xsd": "XML Schema",
    "newsml-g2/xml.xsd": "XML Schema",
    "ninjs/doc-examples/3.1__008_event.json": "event",
    "ninjs/examples/1.4__ninjs-1-4-examples.json": "no body text",
    "ninjs/examples/2.1__ntb_text.json": "no body text",
    "ninjs/examples/3.0__ntb_text.json": "no body text",
    "ninjs/examples/2.1__schema-extension__extension-schema.json": "JSON Schema",
    "ninjs/examples/3.0__20231004-UEFA-ChampionLeague.json": "event",
    "ninjs/examples/3.0__20231005-65-addb-event.json": "event",
    "ninjs/examples/3.0__20231016-addb-example-press-conference.json": "event",
    "ninjs/examples/3.0__collection__20231016-event-timeline-sample.json": "event",
    "ninjs/examples/3.0__simpleEvent.json": "event",
    "ninjs/examples/3.0__tt_event_pressconference_3.0.json": "event",
    "ninjs/examples/testsuite__1.2_should_fail_005_pubstatus_replaced.json": "unknown pubstatus",
    "ninjs/examples/testsuite__3.0_should_pass_007_planning_rendition_reuters.json": "planning",
    "ninjs/examples/testsuite__3.0_should_pass_014_planning_rendition_reuters.json": "planning",
    "superdesk-fixtures/ap_media_text_feed.json": "no inline text",
    "superdesk-fixtures/ap_media_text_item.json": "no inline text",
}
REFUSED.update(
    {
        f"ninjs/schema/ninjs-schema_{v}.json": "JSON Schema"
        for v in ("1.0", "1.6", "2.0", "2.2", "3.0", "3.1")
    }
)
# parsed, but carrying only package links (no items of their own)
PACKAGES_ONLY = {
    "newsml-g2/LISTING_6_Simple_NewsML-G2_Package.xml",
    "newsml-g2/LISTING_23_SportsML-G2_Package.xml",
    "superdesk-fixtures/tag_reuters.com_2014_newsml_KBN0FL0NM_version_10",
}


def _shared_files() -> list[Path]:
    root = shared_or_skip(SAMPLES / "formats")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SOURCES.md")


def test_every_shared_sample_is_parsed_or_refused_with_its_reason():
    root = SAMPLES / "formats"
    files = _shared_files()
    assert len(files) > 140
    for f in files:
        rel = f.relative_to(root).as_posix()
        p = parse_payload(f.read_bytes(), "s", f.name)
        if rel in REFUSED:
            assert not p.items, rel
            assert any(REFUSED[rel] in x.reason for x in p.problems), (rel, p.problems)
        elif rel in PACKAGES_ONLY:
            assert p.link_versions and not p.problems, (rel, p.problems)
        else:
            assert p.items and not p.problems, (rel, p.format, p.problems)
            for it in p.items:
                assert it.killed or it.pub_status == WITHHELD or it.paragraphs or it.captions


def test_shared_reuters_package_links_pictures_to_its_main_story():
    f = shared_or_skip(
        SAMPLES / "formats/superdesk-fixtures/tag_reuters.com_2014_newsml_KBN0FL0NM_version_10"
    )
    p = parse_payload(f.read_bytes(), "reuters", f.name)
    assert {ln.text_key for ln in p.links} == {"reuters:tag_reuters.com_2014_newsml_KBN0FL0NN"}
    assert len(p.links) == 3  # three pictures; the sidebar story gets none


def test_child_lookup_matches_local_names_in_any_namespace_or_none():
    from lxml import etree

    from pipeline.sources.xmlsafe import descendants, kid, kids, local

    root = etree.fromstring(b'<r xmlns:x="urn:x"><x:a n="1"/><a n="2"/><b><a n="3"/></b></r>')
    assert [c.get("n") for c in kids(root, "a")] == ["1", "2"]
    assert kid(root, "a").get("n") == "1" and kid(root, "c") is None
    assert kid(None, "a") is None and kids(None, "a") == []
    assert [local(d) for d in descendants(root, "a")] == ["a", "a", "a"]
