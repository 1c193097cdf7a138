"""Property-based fuzzing of every parser and of the real ingest path.

Hypothesis mutates real payloads (our fixtures and the bundled sample inbox: NewsML-G2,
NewsML 1, NITF, ninjs, AP JSON, RSS/Atom, CGTN text and HTML pages) with the damage wire
copy really suffers and the attacks a receiver must survive: truncation, byte flips,
inserted and deleted ranges, encoding damage (invalid UTF-8, UTF-16, Latin-1, BOMs), deep
nesting, entity declarations, huge attributes, NUL bytes, spliced formats and JSON type
confusion. For each of at least 10,000 inputs:

* ``parse_payload`` never raises, and either yields items or one-line reasons;
* every format's own ``parse`` either returns or raises ``ParseError`` (nothing else),
  whether or not the sniffer would have chosen it;
* and all inputs then go through the real ingest path into PostgreSQL: the number of
  stored payloads equals the number of distinct payloads sent, each one is either parsed
  or quarantined with an open quarantine reason, and none is left unparsed.

The run is derandomized (the same inputs every time, so CI is stable) and prints a
one-line report. ``NEWSDEDUP_FUZZ_EXAMPLES`` changes the number of inputs and
``NEWSDEDUP_FUZZ_RANDOM=1`` explores new ones (hypothesis prints a failing input).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.sources.base import Parsed, ParseError
from pipeline.sources.registry import FORMATS, parse_payload
from pipeline.stages import ingest
from tests.conftest import FIXTURES, SAMPLE_INBOX, payload_outcomes

# 13,000 examples give more than 10,000 distinct inputs (hypothesis repeats some)
EXAMPLES = int(os.environ.get("NEWSDEDUP_FUZZ_EXAMPLES", "13000"))
MIN_DISTINCT = 10_000 if "NEWSDEDUP_FUZZ_EXAMPLES" not in os.environ else 0
RANDOM = os.environ.get("NEWSDEDUP_FUZZ_RANDOM") == "1"  # explore new inputs instead
MAX_INPUT = 400_000  # bytes; big enough for nesting and huge attributes, small enough to be fast
BATCH = 500  # inputs per trip through the ingest path

EXTRA_SEEDS = {
    "page.txt": (
        "\ufeffTitle of the page\r\nUpdated 09:30, 29-Jun-2019\r\nCGTN\r\n[]\r\n"
        "First paragraph.\r\n\r\nA caption of a photo. /VCG Photo\r\n\r\n"
        "A caption of a photo. /VCG Photo\r\n\r\nRead more:\r\n\r\nAnother story\r\n"
    ).encode(),
    "dotted.txt": b"Headline\n2026.09.29 14:15 GMT+8\n\nBody text here.\n",
    "list.json": b'[{"uri": "a", "body_text": "x"}, {"guid": "b", "pubstatus": "canceled"}]',
    "bbc.json": b'{"total": 1, "item": [{"uri": "u", "type": "story", "body_html": "<p>x</p>"}]}',
}


def _seeds() -> list[tuple[str, bytes]]:
    files = sorted((FIXTURES / "formats").iterdir()) + sorted(SAMPLE_INBOX.rglob("*.*"))
    seeds = [(f.name, f.read_bytes()) for f in files if f.is_file()]
    return seeds + sorted(EXTRA_SEEDS.items())


SEEDS = _seeds()
BAD_UTF8 = [
    b"\xc3\x28",
    b"\xa0\xa1",
    b"\xe2\x28\xa1",
    b"\xf0\x28\x8c\xbc",
    b"\xed\xa0\x80",
    b"\xff",
]
TAGS = [b"newsMessage", b"newsItem", b"packageItem", b"nitf", b"NewsML", b"rss", b"feed", b"html"]


# --- mutations: each takes hypothesis' draw and the bytes, returns new bytes ---------------


def _pos(draw, body: bytes) -> int:
    return draw(st.integers(0, len(body))) if body else 0


def truncate(draw, body):
    return body[: _pos(draw, body)]


def flip(draw, body):
    if not body:
        return body
    out = bytearray(body)
    for _ in range(draw(st.integers(1, 20))):
        i = draw(st.integers(0, len(out) - 1))
        out[i] ^= draw(st.integers(1, 255))
    return bytes(out)


def insert(draw, body):
    p = _pos(draw, body)
    junk = draw(
        st.one_of(
            st.binary(min_size=1, max_size=64),
            st.sampled_from(
                [b"<", b">", b"&", b"&amp;", b"]]>", b"<![CDATA[", b'"', b"\\", b"\x00"]
            ),
            st.sampled_from(BAD_UTF8),
        )
    )
    return body[:p] + junk + body[p:]


def delete(draw, body):
    a, b = sorted((_pos(draw, body), _pos(draw, body)))
    return body[:a] + body[b:]


def duplicate(draw, body):
    a, b = sorted((_pos(draw, body), _pos(draw, body)))
    return body[:b] + body[a:b] * draw(st.integers(1, 50)) + body[b:]


def reencode(draw, body):
    text = body.decode("utf-8", errors="replace")
    codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252", "gbk"]))
    out = text.encode(codec, errors="replace")
    if draw(st.booleans()):
        out = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b""])) + out
    return out


def bad_utf8(draw, body):
    out = body
    for _ in range(draw(st.integers(1, 10))):
        p = _pos(draw, out)
        out = out[:p] + draw(st.sampled_from(BAD_UTF8)) + out[p:]
    return out


def nest(draw, body):
    n = draw(st.integers(10, 5000))
    if body.lstrip()[:1] in (b"{", b"["):
        return b"[" * n + body + b"]" * draw(st.integers(0, n))
    tag = draw(st.sampled_from([b"p", b"div", b"block", b"a"]))
    p = body.find(b">", body.find(b"<body") if b"<body" in body else 0) + 1
    return body[:p] + b"<%s>" % tag * n + b"</%s>" % tag * draw(st.integers(0, n)) + body[p:]


def entities(draw, body):
    decl = draw(
        st.sampled_from(
            [
                b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
                b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
                b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>',
                b'<!DOCTYPE nitf SYSTEM "http://127.0.0.1:9/nitf.dtd">',
                b"<!DOCTYPE html>",
            ]
        )
    )
    out = re.sub(rb"^\s*(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + decl, body, count=1)
    if draw(st.booleans()):
        p = _pos(draw, out)
        out = (
            out[:p] + draw(st.sampled_from([b"&a;", b"&b;", b"&e;", b"&nbsp;", b"&#0;"])) + out[p:]
        )
    return out


def huge_attribute(draw, body):
    size = draw(st.integers(1_000, 300_000))
    m = re.search(rb"<[A-Za-z][\w:.-]*", body)
    if not m:
        return body + b'{"x": "' + b"a" * size + b'"}'
    return body[: m.end()] + b' big="' + b"x" * size + b'"' + body[m.end() :]


def swap_root(draw, body):
    return re.sub(
        rb"(</?)(?:[\w.-]+:)?(newsMessage|newsItem|nitf|NewsML|rss|feed|html|item|entry)\b",
        lambda m: m.group(1) + draw(st.sampled_from(TAGS)),
        body,
        count=draw(st.integers(1, 3)),
    )


def splice(draw, body):
    _, other = draw(st.sampled_from(SEEDS))
    return body[: _pos(draw, body)] + other[_pos(draw, other) :]


def json_confusion(draw, body):
    repl = draw(
        st.sampled_from([b"[]", b"{}", b"null", b"5", b"true", b'"x"', b"1" * 5000, b"1e999"])
    )
    return re.sub(rb'"[^"\\]{0,200}"(?=\s*[,}\]])', repl, body, count=draw(st.integers(1, 20)))


def line_endings(draw, body):
    return body.replace(b"\n", draw(st.sampled_from([b"\r\n", b"\r", b"\n\n", b"\x85", b""])))


def nul(draw, body):
    p = _pos(draw, body)
    return body[:p] + b"\x00" * draw(st.integers(1, 100)) + body[p:]


# Structure-aware mutations keep the document well-formed, so the parsers' logic (not only
# their error path) meets missing fields, wrong types, odd values and reshuffled trees.
KEYS = [
    "uri", "guid", "id", "type", "version", "versioncreated", "versionCreated", "firstcreated",
    "pubstatus", "pubStatus", "headline", "headlines", "headline_main", "bodies", "body_html",
    "body_text", "body_nitf", "associations", "altids", "altIds", "descriptions",
    "description_caption", "description_text", "data", "item", "items", "signals", "value",
    "role", "contenttype", "eventDetails", "renditions",
]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["<p>x</p>", "usable", "canceled", "withheld", "picture", "text", "2026-01-01T00:00:00Z", "20260101T000000+0100", ""]),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), c, max_size=4),
    max_leaves=12,
)  # fmt: skip
ATTRS = [b"guid", b"version", b"qcode", b"rel", b"residref", b"href", b"role", b"idref", b"root",
         b"id-string", b"management-status", b"FormalName", b"contenttype", b"class", b"id"]  # fmt: skip


def _paths(obj, path=(), out=None, depth=0):
    out = [] if out is None else out
    out.append(path)
    if depth < 6:
        if isinstance(obj, dict):
            for k, v in obj.items():
                _paths(v, (*path, k), out, depth + 1)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                _paths(v, (*path, i), out, depth + 1)
    return out


def json_tree(draw, body):
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # the harness's own json, not the code under test
        return flip(draw, body)
    for _ in range(draw(st.integers(1, 6))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            doc = draw(JSON_VALUES)
            continue
        path = draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(JSON_VALUES)
    try:
        return json.dumps(doc, allow_nan=True).encode()
    except RecursionError:
        return body


def xml_tree(draw, body):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError):
        return flip(draw, body)
    if root is None:
        return flip(draw, body)
    for _ in range(draw(st.integers(1, 6))):
        els = [e for e in root.iter() if isinstance(e.tag, str)]
        el = draw(st.sampled_from(els))
        action = draw(st.sampled_from(["delete", "dup", "text", "attr", "move", "clear"]))
        parent = el.getparent()
        if action == "delete" and parent is not None:
            parent.remove(el)
        elif action == "dup" and parent is not None:
            parent.insert(parent.index(el), copy.deepcopy(el))
        elif action == "text":
            el.text = draw(
                st.text(max_size=40).map(
                    lambda t: re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd]", "", t)
                )
            )
        elif action == "attr":
            name = draw(st.sampled_from(ATTRS)).decode()
            value = draw(
                st.sampled_from(
                    [
                        "",
                        "x",
                        "stat:canceled",
                        "edStat:D",
                        "irel:derivedFrom",
                        "icls:picture",
                        "ninat:text",
                        "root",
                        "main",
                        "999999999999999999999",
                        "2026-13-45T99:99:99Z",
                    ]
                )
            )
            el.set(name, value)
        elif action == "move" and parent is not None:
            target = draw(st.sampled_from(els))
            if el not in target.iterancestors() and target is not el:
                target.append(el)
        elif action == "clear":
            el.clear()
    return etree.tostring(root)


MUTATIONS = [
    json_tree,
    json_tree,
    json_tree,
    xml_tree,
    xml_tree,
    xml_tree,
    truncate,
    flip,
    insert,
    delete,
    duplicate,
    reencode,
    bad_utf8,
    nest,
    entities,
    huge_attribute,
    swap_root,
    splice,
    json_confusion,
    line_endings,
    nul,
]


@st.composite
def malformed(draw):
    name, body = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        body = draw(st.sampled_from(MUTATIONS))(draw, body)[:MAX_INPUT]
    source = draw(st.sampled_from(["reuters", "xinhua", "cgtn", "ap"]))
    return name, source, body


def _check_parsed(p: Parsed, source: str) -> None:
    assert isinstance(p, Parsed)
    for it in p.items:
        assert it.source == source and isinstance(it.item_id, str) and it.item_id
        assert all(isinstance(x, str) and x for x in it.paragraphs)
        assert all(isinstance(x, str) for x in it.captions)
        assert isinstance(it.version, str)
    for prob in p.problems:
        assert isinstance(prob.reason, str) and prob.reason


@pytest.mark.slow  # about a minute; it still runs in `make test`
def test_fuzz_every_parser_and_the_ingest_path(store, capsys):
    stats = Counter()
    sent: list[tuple[str, bytes]] = []
    shas: set[bytes] = set()
    slowest: list = [0.0, ""]  # one input through every parser: a hang would show here
    t0 = time.perf_counter()

    def flush() -> None:
        # through the real ingest path, a batch at a time (memory stays small)
        by_source: dict[str, list[tuple[str, bytes]]] = {}
        for origin, body in sent:
            by_source.setdefault(origin.split("/", 1)[0], []).append((origin, body))
        for source, payloads in by_source.items():
            s = ingest.ingest_payloads(store, source, payloads)
            stats["ingest_quarantined_items"] += s.counts["quarantined"]
        sent.clear()

    @settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(malformed())
    def check(case):
        name, source, body = case
        stats["inputs"] += 1
        started = time.perf_counter()
        parsed = parse_payload(body, source, name)  # must not raise
        _check_parsed(parsed, source)
        for it in parsed.items:  # and what it returns can be stored
            for text in (it.item_id, it.headline, it.version, *it.paragraphs, *it.captions):
                assert "\x00" not in text
                text.encode("utf-8")
        assert parsed.items or parsed.problems or parsed.link_versions
        assert all("\n" not in x.reason and len(x.reason) <= 500 for x in parsed.problems)
        if parsed.items or parsed.link_versions:
            stats["parsed"] += 1
        else:
            stats["quarantined"] += 1
        for fmt in FORMATS:  # every parser, not only the one the sniffer picked
            try:
                _check_parsed(fmt.parse(body, source, name), source)
            except ParseError as e:
                assert str(e) and "\n" not in " ".join(str(e).split())
            stats["parser_calls"] += 1
        took = time.perf_counter() - started
        if took > slowest[0]:
            slowest[:] = [took, f"{name} ({len(body)} bytes)"]
        sent.append((f"{source}/fuzz-{stats['inputs']}-{name}", body))
        shas.add(hashlib.sha256(body).digest())
        if len(sent) >= BATCH:
            flush()

    check()
    flush()
    seconds = time.perf_counter() - t0

    assert len(shas) >= MIN_DISTINCT, len(shas)
    outcomes = {r["status"]: r["n"] for r in payload_outcomes(store)}
    stored = sum(outcomes.values())
    assert stored == len(shas), (stored, len(shas))  # every distinct payload sent, stored once
    assert set(outcomes) <= {"parsed", "quarantined"}  # none left unparsed
    without_reason = store.conn.execute(
        "SELECT count(*) AS n FROM payload p WHERE status = 'quarantined' AND NOT EXISTS "
        "(SELECT 1 FROM quarantine q WHERE q.payload_id = p.id AND q.resolved_at IS NULL)"
    ).fetchone()["n"]
    assert without_reason == 0
    # generous: a shared CI machine can stall a process for seconds; a hang takes longer
    assert slowest[0] < 30, slowest
    line = (
        f"fuzz: {stats['inputs']} inputs ({len(shas)} distinct) x {len(FORMATS)} parsers "
        f"({stats['parser_calls']} parser calls): parsed {stats['parsed']}, "
        f"quarantined {stats['quarantined']}, crashes 0; ingest stored {stored} payloads = "
        f"{len(shas)} distinct sent (parsed {outcomes.get('parsed', 0)}, quarantined "
        f"{outcomes.get('quarantined', 0)}) in {seconds:.1f}s, slowest input {slowest[0]:.2f}s: {slowest[1]}"
    )
    with capsys.disabled():
        print("\n" + line)
    Path(os.environ.get("NEWSDEDUP_FUZZ_REPORT", "/dev/null")).write_text(line + "\n")
