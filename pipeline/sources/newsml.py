"""IPTC NewsML-G2: a ``newsMessage`` holding ``newsItem``s and ``packageItem``s, or one bare
item.

Read per ``newsItem``: ``guid``; ``version`` (opaque: Reuters sends numbers like 978556838,
so versions are ordered by ``versionCreated``, the number only breaks ties);
``firstCreated``; ``pubStatus`` (usable / withheld / canceled = a kill); ``signal edStat``
(N, U, C, D; D = deleted is a kill even when pubStatus says usable); ``link rel`` lineage
(derivedFrom, evolvedFrom, processedFrom); the main headline (its ``UPDATE 1-`` /
``CORRECTED-`` / ``REFILE-`` / ``REPEAT-`` prefix is split off later, by
``pipeline.text``); the body paragraphs of XHTML or NITF inline content (``inlineXML``) or
plain text (``inlineData``), the correction note ``(In Jan. 3 story, corrects ...)``
included as the first paragraph, which ``pipeline.text`` recognises; ``rightsInfo``,
``located``, ``dateline``, ``slugline`` and ``by`` are kept as facts of the item.

Picture, graphic, video and audio items carry no article text: their caption
(``description role=...caption``, else a summary-like description, else the headline) is
their content. A text item's ``descRole:caption`` description is not a photo caption:
Reuters fills it with ``SLUG:HEADLINE`` and TT with the lead, so it is read only when it
is neither.

A ``packageItem`` (Reuters' ``icls:composite``) has no text of its own; it says which
pictures go with which text item. Each picture ``itemRef`` becomes a ``PackageLink`` to the
text items of its group (or, in a group without text, to the package's first text item);
ingest then gives the text item's article the picture's caption. A later version of the
package replaces its links; a canceled package removes them.

``conceptItem``, ``planningItem``, ``knowledgeItem`` and catalogs are not news and are
refused with that reason; so are bare fragments (a lone ``contentSet`` or ``contentMeta``).
Nothing here validates against the XSD: real items fail it on small details.
"""

from __future__ import annotations

import re

from pipeline.model import CANCELED, USABLE, WireItem
from pipeline.sources import nitf
from pipeline.sources.base import (
    MAX_ITEMS_PER_PAYLOAD,
    PackageLink,
    Parsed,
    ParseError,
    Problem,
    parse_iso,
    pub_status,
)
from pipeline.sources.html_text import paragraphs_from_html
from pipeline.sources.xmlsafe import attr, kid, kids, local, parse_xml, path, root_tag, text

NAME = "newsml-g2"

G2_NS = "http://iptc.org/std/nar/2006-10-01/"
_ITEMS = {"newsItem", "packageItem"}
_NOT_NEWS = {
    "conceptItem": "a concept item (a person, place or topic)",
    "planningItem": "a planning item (coverage planned, not a story)",
    "knowledgeItem": "a knowledge item (a set of concepts)",
    "catalog": "a catalog of controlled vocabularies",
    "catalogItem": "a catalog of controlled vocabularies",
    "conceptSet": "a set of concepts",
}
_FRAGMENTS = {"contentSet", "contentMeta", "itemMeta", "groupSet", "itemSet", "rightsInfo"}
_MEDIA = ("picture", "graphic", "video", "audio", "photo", "image")
_LINEAGE = ("derivedfrom", "evolvedfrom", "processedfrom")
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "blockquote", "hl2", "block"}
_BLANK_LINE = re.compile(r"\n\s*\n")
_SUMMARY_ROLES = ("summary", "synthe", "abstract", "headline", "description")
MAX_GROUP_DEPTH = 32


def sniff(head: bytes, filename: str) -> int:
    root = root_tag(head)
    if root is None:
        return 0
    name, ns = root
    if name in _ITEMS or name == "newsMessage":
        return 95 if ns.rstrip("/") == G2_NS.rstrip("/") else 85
    if ns.rstrip("/") == G2_NS.rstrip("/") and (name in _NOT_NEWS or name in _FRAGMENTS):
        return 80  # ours to refuse, with the reason
    if name in _FRAGMENTS:
        return 40
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    root = parse_xml(body)
    name = local(root)
    if name == "newsMessage":
        item_set = kid(root, "itemSet")
        if item_set is None:
            raise ParseError("NewsML-G2 newsMessage without an itemSet")
        items = [c for c in item_set if local(c)]
    elif name in _ITEMS:
        items = [root]
    elif name in _NOT_NEWS:
        raise ParseError(f"NewsML-G2 {name}: {_NOT_NEWS[name]}, not a news item")
    elif name in _FRAGMENTS:
        raise ParseError(
            f"a NewsML-G2 fragment (root <{name}>), not a complete item: no guid, no version"
        )
    else:
        raise ParseError(f"not a NewsML-G2 document: root element is <{name}>")
    if not items:
        raise ParseError("NewsML-G2 message without any item")
    if len(items) > MAX_ITEMS_PER_PAYLOAD:
        raise ParseError(f"{len(items)} items in one message, over the limit")
    out = Parsed(format=NAME)
    # classes of the items in this message: a package's itemRefs often omit them
    classes = {attr(el, "guid").strip(): _item_class(el) for el in items if local(el) == "newsItem"}
    skipped = []
    for i, el in enumerate(items, 1):
        kind = local(el)
        guid = attr(el, "guid").strip()
        if kind not in _ITEMS:
            skipped.append(kind)
            continue
        if not guid:
            out.problems.append(Problem(f"#{i}", f"{kind} without a guid"))
            continue
        key = f"{source}:{guid}"
        try:
            if kind == "packageItem":
                _package(el, key, source, classes, out)
            else:
                out.items.append(_news_item(el, guid, source))
        except ParseError as e:
            out.problems.append(Problem(key, str(e)))
    if skipped and not out.items and not out.problems and not out.links:
        what = ", ".join(sorted(set(skipped)))
        raise ParseError(f"NewsML-G2 message holds only {what}: not news")
    return out


def _item_class(el) -> str:
    q = attr(path(el, "itemMeta", "itemClass"), "qcode")
    return q.rsplit(":", 1)[-1].lower()


def _news_item(el, guid: str, source: str) -> WireItem:
    meta = kid(el, "itemMeta")
    cmeta = kid(el, "contentMeta")
    item_class = _item_class(el)
    status_q = attr(kid(meta, "pubStatus") if meta is not None else None, "qcode", "stat:usable")
    status = pub_status(status_q)
    if status is None:
        raise ParseError(f"unknown pubStatus {status_q!r}")
    ed_stat = ""
    lineage: list[tuple[str, str]] = []
    if meta is not None:
        for s in kids(meta, "signal"):
            q = attr(s, "qcode")
            if q.lower().startswith("edstat:"):
                ed_stat = q.split(":", 1)[1].strip().upper()[:8]
        for ln in kids(meta, "link"):
            rel = attr(ln, "rel").rsplit(":", 1)[-1]
            target = attr(ln, "residref") or attr(ln, "href")
            if rel.lower() in _LINEAGE and target:
                lineage.append((rel, target))
    if ed_stat == "D":
        status = CANCELED  # "deleted": Reuters' kill signal, whatever pubStatus says
    headline = ""
    descriptions: list[tuple[str, str]] = []
    facts: list[tuple[str, str]] = [("item_class", item_class)]
    language = attr(el, "lang")
    if cmeta is not None:
        heads = kids(cmeta, "headline")
        main = [h for h in heads if attr(h, "role").rsplit(":", 1)[-1] in ("", "main")]
        headline = text((main or heads)[0]) if heads else ""
        for d in kids(cmeta, "description"):
            t = text(d)
            if t:
                descriptions.append((attr(d, "role").rsplit(":", 1)[-1].lower(), t))
        language = language or attr(kid(cmeta, "language"), "tag")
        facts.extend(_content_facts(cmeta))
    facts.extend(_rights(kid(el, "rightsInfo")))
    is_media = item_class.endswith(_MEDIA)
    if is_media:
        paragraphs: list[str] = []
        captions = _media_captions(descriptions, headline)
        if status == USABLE and not captions:
            raise ParseError(f"{item_class} item has no caption")
    else:
        paragraphs, nitf_captions = _body(el)
        if paragraphs and headline and _squash(paragraphs[0]) == _squash(headline):
            paragraphs = paragraphs[1:]  # an XHTML body that starts with its own <h1>
        captions = nitf_captions + _text_item_captions(descriptions, headline, paragraphs)
        if status == USABLE and not paragraphs:
            raise ParseError(f"{item_class or 'text'} item has no body text")
    if meta is not None:
        embargo = _text_of(meta, "embargoed")
        if embargo:
            facts.append(("embargoed", embargo))
    return WireItem(
        source=source,
        item_id=guid,
        format=NAME,
        headline=headline,
        paragraphs=tuple(paragraphs),
        version=attr(el, "version").strip(),
        version_created=parse_iso(_text_of(meta, "versionCreated")),
        first_created=parse_iso(_text_of(meta, "firstCreated")),
        pub_status=status,
        ed_stat=ed_stat,
        captions=tuple(captions),
        lineage=tuple(lineage),
        language=language,
        extra=tuple(facts),
    )


def _media_captions(descriptions: list[tuple[str, str]], headline: str) -> list[str]:
    caps = [t for role, t in descriptions if "caption" in role]
    if not caps:
        caps = [t for role, t in descriptions if role.endswith(_SUMMARY_ROLES) or not role][:1]
    if not caps and headline:
        caps = [headline]
    return caps


def _text_item_captions(
    descriptions: list[tuple[str, str]], headline: str, paragraphs: list[str]
) -> list[str]:
    """A caption-role description of a text item, unless it is the slug+headline summary
    (Reuters) or the lead paragraph again (TT)."""
    out = []
    lead = _squash(paragraphs[0])[:60] if paragraphs else ""
    h = _squash(headline)
    for role, t in descriptions:
        if "caption" not in role:
            continue
        s = _squash(t)
        if (h and h in s) or (lead and (s[:60] == lead or lead.startswith(s[:60]))):
            continue
        out.append(t)
    return out


def _squash(s: str) -> str:
    return " ".join(s.lower().split())


def _content_facts(cmeta) -> list[tuple[str, str]]:
    facts = []
    located = kid(cmeta, "located")
    if located is not None:
        where = text(kid(located, "name")) or attr(located, "literal") or attr(located, "qcode")
        if where:
            facts.append(("located", where))
    for name in ("dateline", "slugline", "by", "creditline"):
        t = text(kid(cmeta, name))
        if t:
            facts.append((name, t))
    return facts


def _rights(rights) -> list[tuple[str, str]]:
    if rights is None:
        return []
    out = []
    holder = kid(rights, "copyrightHolder")
    if holder is not None:
        who = text(kid(holder, "name")) or attr(holder, "literal") or attr(holder, "uri")
        if who:
            out.append(("copyright_holder", who))
    for name, fact in (("copyrightNotice", "copyright_notice"), ("usageTerms", "usage_terms")):
        t = text(kid(rights, name))
        if t:
            out.append((fact, t))
    return out


def _text_of(parent, name: str) -> str:
    if parent is None:
        return ""
    return text(kid(parent, name))


def _body(item) -> tuple[list[str], list[str]]:
    """(paragraphs, captions) of the first content rendition that has text."""
    cset = kid(item, "contentSet")
    if cset is None:
        return [], []
    for content in cset:
        name = local(content)
        paragraphs: list[str] = []
        captions: list[str] = []
        if name == "inlineXML":
            nitf_el = next((d for d in content.iter() if local(d).lower() == "nitf"), None)
            if nitf_el is not None:
                _, paragraphs, captions, _ = nitf.read_nitf(nitf_el)
            else:
                paragraphs = _xhtml_blocks(content)
        elif name == "inlineData":
            raw = content.text or ""
            ctype = attr(content, "contenttype").lower()
            if "html" in ctype:
                paragraphs = paragraphs_from_html(raw)
            else:
                paragraphs = _plain_paragraphs(raw)
        if paragraphs:
            return paragraphs, captions
    return [], []


def _xhtml_blocks(content) -> list[str]:
    out: list[str] = []
    for b in content.iter():
        name = local(b)
        if name not in _BLOCKS:
            continue
        # innermost blocks only, so a <blockquote><p> is not read twice
        if any(local(x) in _BLOCKS for x in b.iterdescendants()):
            continue
        # a blank line inside one <p> separates two paragraphs (Reuters puts the
        # "(Reporting by ...)" trailer in the last body paragraph that way)
        raw = "".join(b.itertext())
        out.extend(t for t in (" ".join(p.split()) for p in _BLANK_LINE.split(raw)) if t)
    if not out:
        t = text(content)
        if t:
            out.append(t)
    return out


def _plain_paragraphs(raw: str) -> list[str]:
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    parts = _BLANK_LINE.split(raw) if _BLANK_LINE.search(raw) else raw.split("\n")
    return [" ".join(p.split()) for p in parts if p.strip()]


# --- packages --------------------------------------------------------------------------------


def _package(el, key: str, source: str, classes: dict[str, str], out: Parsed) -> None:
    meta = kid(el, "itemMeta")
    status = pub_status(attr(kid(meta, "pubStatus"), "qcode", "stat:usable"))
    out.link_versions[key] = parse_iso(_text_of(meta, "versionCreated"))
    if status == CANCELED:
        return  # a canceled package links nothing any more
    refs_by_group = _groups(el)
    ordered = [r for _, refs in refs_by_group for r in refs]
    if not ordered:
        return
    kinds = {id(r): _ref_class(r, classes) for r in ordered}
    texts = [r for r in ordered if kinds[id(r)] == "text"]
    if not texts:
        return
    main = texts[0]
    n = 0
    for _, refs in refs_by_group:
        own_texts = [r for r in refs if kinds[id(r)] == "text"] or [main]
        for r in refs:
            if kinds[id(r)] not in _MEDIA:
                continue
            pic = attr(r, "residref").strip()
            if not pic:
                continue
            caption = _ref_caption(r)
            for t in own_texts:
                target = attr(t, "residref").strip()
                if target and target != pic:
                    out.links.append(
                        PackageLink(key, f"{source}:{target}", f"{source}:{pic}", n, caption)
                    )
                    n += 1


def _groups(pkg) -> list[tuple[str, list]]:
    """itemRefs per group, walking the group tree from the root group (document order for
    groups the tree does not reach)."""
    gset = kid(pkg, "groupSet")
    if gset is None:
        refs = [r for r in pkg.iter() if local(r) == "itemRef"]
        return [("", refs)] if refs else []
    groups = {attr(g, "id"): g for g in kids(gset, "group")}
    order: list[str] = []

    def visit(gid: str, depth: int) -> None:
        if gid in order or gid not in groups or depth > MAX_GROUP_DEPTH:
            return
        order.append(gid)
        for child in groups[gid]:
            if local(child) == "groupRef":
                visit(attr(child, "idref"), depth + 1)

    visit(attr(gset, "root"), 0)
    order.extend(g for g in groups if g not in order)
    return [(g, [r for r in groups[g] if local(r) == "itemRef"]) for g in order]


def _ref_class(ref, classes: dict[str, str]) -> str:
    q = attr(kid(ref, "itemClass"), "qcode")
    if q:
        return q.rsplit(":", 1)[-1].lower()
    ctype = attr(ref, "contenttype").lower()
    if ctype.startswith("image/"):
        return "picture"
    if ctype.startswith(("video/", "audio/")):
        return ctype.split("/", 1)[0]
    known = classes.get(attr(ref, "residref").strip(), "")
    if known.endswith(_MEDIA):
        return next(m for m in _MEDIA if known.endswith(m))
    return known


def _ref_caption(ref) -> str:
    for d in kids(ref, "description"):
        if "caption" in attr(d, "role").lower() and text(d):
            return text(d)
    return text(kid(ref, "headline"))
