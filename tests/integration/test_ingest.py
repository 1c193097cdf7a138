"""Ingest against a real PostgreSQL: versions, kills, withheld items, packages, conflicts,
oversize files, re-runs and requeue after a parser fix."""

import hashlib
import itertools
import os
import shutil

import pytest
from lxml import etree

from pipeline.sources import ninjs
from pipeline.sources.collect import list_files
from pipeline.stages import ingest as ingest_stage
from pipeline.stages import maintenance
from tests.conftest import FIXTURES, SAMPLES, payload_outcomes, shared_or_skip, table_counts

F = FIXTURES / "formats"
G2 = "http://iptc.org/std/nar/2006-10-01/"
TEXT = "wire:tag:example.net,2026:text-harbour"


def article(store, key):
    return store.report.article(key)


def captions(store, key):
    a = article(store, key)
    rows = store.packages.captions_of([a["id"]])
    return [(r["text"], r["via_item"]) for r in rows]


def ingest(store, source, *paths):
    return ingest_stage.ingest_files(store, source, list(paths)).counts


# --- versions and kills ----------------------------------------------------------------------


@pytest.mark.parametrize("kill_first", [False, True])
def test_correction_then_kill_fixture_in_either_order(store, tmp_path, kill_first):
    files = [F / "g2_correction.xml", F / "g2_kill.xml"]
    if kill_first:
        files.reverse()
    for f in files:
        ingest(store, "reuters", f)
    a = article(store, "reuters:tag:example.net,2026:newsml_ZZZ01")
    assert a["killed"] and a["pub_status"] == "canceled" and a["ed_stat"] == "D"
    assert a["version"] == "154000222"  # the kill: later versionCreated, smaller number
    assert a["headline_tag"] == "CORRECTED" and a["word_count"] > 10  # the text stays
    assert a["version_count"] == 2
    assert len(store.ingest.known_versions([a["item_key"]])) == 2


@pytest.mark.parametrize("kill_first", [False, True])
def test_real_reuters_correction_then_kill(store, kill_first):
    folder = shared_or_skip(SAMPLES / "formats" / "superdesk-fixtures")
    corr = folder / "tag_reuters.com_2016_newsml_L1N14N0FF_version_978556838"
    kill = folder / "tag_reuters.com_2016_newsml_L1N14N0FF_version_1542761538"
    for f in [kill, corr] if kill_first else [corr, kill]:
        c = ingest(store, "reuters", f)
        assert c["quarantined"] == 0
    a = article(store, "reuters:tag:reuters.com,0000:newsml_L1N14N0FF")
    assert a["killed"] and a["ed_stat"] == "D" and a["version"] == "1542761538"
    assert a["headline_tag"] == "CORRECTED" and a["word_count"] > 400
    paras = store.conn.execute(
        "SELECT kind FROM paragraph WHERE article_id = %s ORDER BY ord", [a["id"]]
    ).fetchall()
    assert paras[0]["kind"] == "correction"  # "(In Jan. 3 story, corrects ...)"
    assert paras[-1]["kind"] == "trailer"  # split off the last <p> at its blank line


def test_withheld_version_keeps_the_text(store, tmp_path):
    usable = tmp_path / "v1.json"
    usable.write_text(
        '{"uri": "u-1", "version": "1", "versioncreated": "2026-01-01T10:00:00Z",'
        ' "headline": "Ferry delayed", "body_text": "The morning ferry left two hours late."}'
    )
    withheld = tmp_path / "v2.json"
    withheld.write_text(
        '{"uri": "u-1", "version": "2", "versioncreated": "2026-01-01T11:00:00Z",'
        ' "pubstatus": "withheld"}'
    )
    ingest(store, "ninjs", usable, withheld)
    a = article(store, "ninjs:u-1")
    assert a["pub_status"] == "withheld" and not a["killed"]
    assert a["word_count"] > 5 and a["version"] == "2"


def test_conflicting_content_for_one_guid_and_version_is_quarantined(store, tmp_path):
    base = (F / "g2_not_xsd_valid.xml").read_text()
    (tmp_path / "a.xml").write_text(base)
    (tmp_path / "b.xml").write_text(base.replace("June 1", "June 8"))
    c = ingest(store, "reuters", tmp_path / "a.xml", tmp_path / "b.xml")
    assert c["payloads_new"] == 2 and c["items_new"] == 1 and c["quarantined"] == 1
    q = store.ingest.open_quarantine(5)
    assert q[0]["origin"].endswith("b.xml") and "conflicting content" in q[0]["reason"]
    assert "version 1" in q[0]["reason"]
    statuses = store.conn.execute("SELECT origin, status FROM payload ORDER BY origin").fetchall()
    assert [r["status"] for r in statuses] == ["parsed", "quarantined"]


# --- packages ----------------------------------------------------------------------------------


def _split_message(tmp_path):
    """The package fixture's three items, each as its own newsMessage file."""
    root = etree.parse(str(F / "g2_package_message.xml")).getroot()
    out = {}
    for item in root.find(f"{{{G2}}}itemSet"):
        msg = etree.Element(f"{{{G2}}}newsMessage", nsmap={None: G2})
        etree.SubElement(msg, f"{{{G2}}}itemSet").append(item)
        name = item.get("guid").rsplit(":", 1)[1]
        path = tmp_path / f"{name}.xml"
        path.write_bytes(etree.tostring(msg, xml_declaration=True, encoding="UTF-8"))
        out[name] = path
    return out


EXPECTED_CAPTIONS = [
    # the picture item's own caption once it has arrived...
    (
        "Fishing boats return to Portsmouth harbour after three days of gales, March 2, "
        "2026. EXAMPLE WIRE/Sam Field",
        "wire:tag:example.net,2026:pic-harbour-1",
    ),
    # ...and for a picture that never arrived, what the package says of it
    ("Crane lifts a damaged pontoon", "wire:tag:example.net,2026:pic-harbour-2"),
]


def test_package_gives_the_text_item_its_pictures_captions(store):
    c = ingest(store, "wire", F / "g2_package_message.xml")
    assert c["quarantined"] == 0 and c["items_new"] == 2
    assert captions(store, TEXT) == EXPECTED_CAPTIONS


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["pkg-harbour", "text-harbour", "pic-harbour-1"]))
)
def test_package_captions_do_not_depend_on_arrival_order(store, tmp_path, order):
    files = _split_message(tmp_path)
    for name in order:
        ingest(store, "wire", files[name])
    assert captions(store, TEXT) == EXPECTED_CAPTIONS
    # and running it all again changes nothing, not even the article's pending flag
    store.conn.execute("UPDATE article SET pending = false")
    before = store.packages.captions_of([article(store, TEXT)["id"]])
    for name in order:
        shutil.copy(files[name], tmp_path / f"again-{name}.xml")  # new path, same bytes
        ingest(store, "wire", tmp_path / f"again-{name}.xml")
    assert store.packages.captions_of([article(store, TEXT)["id"]]) == before
    assert not article(store, TEXT)["pending"]


def test_newer_package_version_replaces_links_and_older_is_ignored(store, tmp_path):
    files = _split_message(tmp_path)
    ingest(store, "wire", files["text-harbour"], files["pkg-harbour"])
    pkg = files["pkg-harbour"].read_text()
    start = pkg.index("<itemRef", pkg.index("pic-harbour-1") - 200)
    newer = pkg.replace("2026-03-02T08:14:00Z", "2026-03-02T09:00:00Z")
    cut = newer[start : newer.index("</itemRef>", start) + len("</itemRef>")]
    (tmp_path / "pkg-v4.xml").write_text(newer.replace(cut, ""))
    ingest(store, "wire", tmp_path / "pkg-v4.xml")
    assert [v for _, v in captions(store, TEXT)] == ["wire:tag:example.net,2026:pic-harbour-2"]
    older = pkg.replace("2026-03-02T08:14:00Z", "2026-03-01T00:00:00Z")
    (tmp_path / "pkg-v1.xml").write_text(older)
    ingest(store, "wire", tmp_path / "pkg-v1.xml")
    assert [v for _, v in captions(store, TEXT)] == ["wire:tag:example.net,2026:pic-harbour-2"]


def test_real_reuters_package_and_pictures(store):
    folder = shared_or_skip(SAMPLES / "formats" / "superdesk-fixtures")
    c = ingest(store, "reuters", *sorted(folder.glob("tag_reuters.com_2014_*")))
    assert c["quarantined"] == 0
    caps = captions(store, "reuters:tag_reuters.com_2014_newsml_KBN0FL0NN")
    # three pictures, two of them the same video still: two distinct captions
    assert len(caps) == 2 and all(
        v.startswith("reuters:tag_reuters.com_2014_newsml_LYNX") for _, v in caps
    )
    assert any("al-Assad places his right hand on a Koran" in t for t, _ in caps)


# --- storage, re-runs, oversize, requeue -------------------------------------------------------


def test_every_payload_stored_verbatim_and_identical_ones_once(store, tmp_path):
    src = F / "ninjs2_text.json"
    shutil.copy(src, tmp_path / "copy-a.json")
    shutil.copy(src, tmp_path / "copy-b.json")
    (tmp_path / "bad.json").write_bytes(b'{"uri": ')
    c = ingest(
        store,
        "ninjs",
        src,
        tmp_path / "copy-a.json",
        tmp_path / "copy-b.json",
        tmp_path / "bad.json",
    )
    assert c["files"] == 4 and c["payloads_new"] == 2 and c["quarantined"] == 1
    rows = store.conn.execute(
        "SELECT sha256, size, body, status FROM payload ORDER BY id"
    ).fetchall()
    assert len(rows) == 2
    for r in rows:
        assert hashlib.sha256(bytes(r["body"])).digest() == bytes(r["sha256"])
        assert r["size"] == len(r["body"])
    by_body = {bytes(r["body"]): r["status"] for r in rows}
    assert by_body == {src.read_bytes(): "parsed", b'{"uri": ': "quarantined"}


def test_rerunning_a_folder_reads_and_stores_nothing_new(store, tmp_path):
    inbox = tmp_path / "drop"
    shutil.copytree(F, inbox)
    first = ingest_stage.ingest_files(store, "mixed", list_files(inbox)).counts
    snap = table_counts(store)
    second = ingest_stage.ingest_files(store, "mixed", list_files(inbox)).counts
    assert second["files"] == 0 and second["unchanged"] == first["files"]
    assert table_counts(store) == snap
    # a file rewritten with new content is read again; one touched without change is
    # read again but stores nothing
    (inbox / "ninjs2_text.json").write_text(
        (inbox / "ninjs2_text.json").read_text().replace("noon", "one o'clock")
    )
    os.utime(inbox / "nitf_story.xml")
    third = ingest_stage.ingest_files(store, "mixed", list_files(inbox)).counts
    assert third["files"] == 2 and third["payloads_new"] == 1 and third["items_updated"] == 0
    assert third["quarantined"] == 1  # same uri and version, different text: a conflict


def test_100mb_file_is_kept_as_evidence_and_quarantined(store, tmp_path):
    big = tmp_path / "huge.xml"
    with open(big, "wb") as fh:
        fh.write(b"<rss><channel>")
        fh.truncate(100 * 1024 * 1024)  # sparse: no 100 MB written to disk
    c = ingest(store, "xinhua", big)
    assert c["quarantined"] == 1
    row = store.conn.execute("SELECT size, length(body) AS kept, status FROM payload").fetchone()
    assert row["size"] == 100 * 1024 * 1024 and row["kept"] == 64 * 1024
    assert row["status"] == "quarantined"
    reason = store.ingest.open_quarantine(1)[0]["reason"]
    assert "104857600 bytes, over the" in reason and "first 65536 bytes were kept" in reason
    assert ingest(store, "xinhua", big)["files"] == 0  # not read again


def test_requeue_after_a_parser_fix(store, tmp_path, monkeypatch):
    f = tmp_path / "replaced.json"
    f.write_text('{"uri": "r-1", "pubstatus": "replaced", "body_text": "Text of the story."}')
    assert ingest(store, "ninjs", f)["quarantined"] == 1
    # the "fix": this parser now reads the non-standard word as usable
    real = ninjs.parse
    monkeypatch.setattr(
        ninjs,
        "parse",
        lambda body, source, name: real(body.replace(b"replaced", b"usable"), source, name),
    )
    c = maintenance.requeue(store).counts
    assert c["requeued"] == 1 and c["items_new"] == 1 and c["quarantined"] == 0
    assert article(store, "ninjs:r-1")["word_count"] == 4
    assert store.ingest.count_open_quarantine() == 0
    assert payload_outcomes(store)[0] == {"status": "parsed", "n": 1}


def test_a_payload_stored_but_never_parsed_is_parsed_by_the_next_run(store, monkeypatch):
    real = ingest_stage._apply_prepared
    monkeypatch.setattr(
        ingest_stage, "_apply_prepared", lambda *a: (_ for _ in ()).throw(SystemExit)
    )
    with pytest.raises(SystemExit):  # the process dies right after storing
        ingest(store, "ninjs", F / "ninjs2_text.json")
    monkeypatch.setattr(ingest_stage, "_apply_prepared", real)
    assert payload_outcomes(store)[0] == {"status": "new", "n": 1}
    c = ingest(store, "ninjs", F / "ninjs2_text.json")
    assert c["files"] == 0 and c["leftovers"] == 1 and c["items_new"] == 1
    assert payload_outcomes(store)[0] == {"status": "parsed", "n": 1}


def test_parse_ahead_through_the_pool_ends_as_one_group_inline(
    databases, migrated_template, monkeypatch
):
    """Versions and a kill of one item spread over many groups, parsed in worker processes
    one group ahead of the writes, end exactly as when everything is one inline group."""
    from pipeline.stages import pool
    from pipeline.store.store import Store
    from tests.conftest import SAMPLE_INBOX

    def ingest_inbox() -> list:
        r = Store.open(databases.create(template=migrated_template))
        try:
            for src in ("reuters", "xinhua", "cgtn"):
                s = ingest_stage.ingest_files(r, src, list_files(SAMPLE_INBOX / src))
                assert "leftovers" not in s.counts  # every group was parsed in its turn
            return [
                tuple(row.values())
                for row in r.conn.execute(
                    "SELECT item_key, version, killed, headline, story_text, version_count "
                    "FROM article ORDER BY item_key"
                )
            ]
        finally:
            r.close()

    inline = ingest_inbox()
    monkeypatch.setenv("NEWSDEDUP_WORKERS", "2")
    monkeypatch.setattr(pool, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(ingest_stage, "INGEST_CHUNK_BYTES", 1)  # every file its own group
    try:
        ahead = ingest_inbox()
    finally:
        pool.shutdown()
    assert ahead == inline
    assert any(row[2] for row in inline) and any(row[5] > 1 for row in inline)
