"""Article pages saved as HTML: CGTN (news.cgtn.com) and Xinhua (xinhuanet.com, news.cn).

Read: the headline (``og:title``, else the first ``<h1>``, else ``<title>`` without the
site name); the time (``article:published_time`` and similar meta tags, else a date line
printed on the page: CGTN's ``Updated 09:30, 29-Jun-2019`` or ``2026.09.29 14:15 GMT+8``,
Xinhua's ``2019-06-29 09:30:00``, read as Beijing time when no zone is given); the body
(the article container both sites use: ``#cmsMainContent``, ``#detail``,
``#detailContent``, ``#p-detail``, ``<article>``..., else the element holding the most
paragraph text) as paragraphs; photo captions (``<figcaption>`` and elements whose class
says caption or picture description) as captions, not as body text. Scripts, styles,
navigation, headers, footers and forms are dropped first.

The item id is the page's canonical URL for Xinhua pages (the same id the story has in
Xinhua's RSS feed), and the file stem otherwise (the ``cgtn:<file stem>`` contract of the
CGTN text pages).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath
from urllib.parse import urlsplit

from lxml import etree, html

from pipeline.model import WireItem
from pipeline.sources.base import (
    MAX_PAYLOAD_BYTES,
    Parsed,
    ParseError,
    decode_text,
    parse_iso,
    tz_offset,
)
from pipeline.sources.cgtn_text import parse_date_line
from pipeline.sources.rss import normalise_guid
from pipeline.sources.xmlsafe import root_tag

NAME = "article-html"

BEIJING = tz_offset(8)
_DROP = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "select",
    "template",
    "object",
    "embed",
)
_CONTAINER = re.compile(
    r"^(?:cmsMainContent|news-?content|content-?text|text-?content|article-?content|"
    r"article-?body|articleBody|detailContent|p-detail|detail|main-aticle|TRS_Editor|"
    r"news-text|story-body)$",
    re.I,
)
_CAPTION_CLASS = re.compile(
    r"caption|(?:^|[-_])des(?:c|cription)?(?:$|[-_])|picture-?des|img-?des|photo-?des|"
    r"pic-?info|cmsImageDes|image-?text",
    re.I,
)
_BLOCKS = {"p", "h2", "h3", "h4", "h5", "li", "blockquote", "pre"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)
_XINHUA_TIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*(?:GMT|UTC)\s*"
    r"([+-]\d{1,2}))?"
)
_SITE_SUFFIX = re.compile(
    r"\s*[-|_\u2013\u2014]\s*(?:CGTN|Xinhua|xinhuanet|news\.cn|english\.news\.cn)\b.*$", re.I
)
_META_TIME = (
    "article:published_time",
    "article:modified_time",
    "og:published_time",
    "pubdate",
    "publishdate",
    "publish-date",
    "date",
    "og:updated_time",
)
_XINHUA_HOSTS = ("xinhuanet.com", "news.cn")


def sniff(head: bytes, filename: str) -> int:
    low = head[:4096].lower()
    root = root_tag(head)
    if (root and root[0].lower() == "html") or b"<!doctype html" in low:
        return 70
    if b"<body" in low and b"<p" in low:
        return 40
    return 0


def parse(body: bytes, source: str, filename: str) -> Parsed:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise ParseError(f"payload is {len(body)} bytes, over the {MAX_PAYLOAD_BYTES} byte limit")
    m = _CHARSET.search(body[:4096])
    text = decode_text(body, m.group(1).decode("ascii", "replace") if m else None)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input declaring one
    if "\x00" in text:
        raise ParseError("binary data in an HTML page (NUL bytes)")
    # lxml refuses to set text holding C0 controls (dropping a tree does): remove them first
    text = _CONTROL.sub("", text)
    parser = html.HTMLParser(
        remove_comments=True, remove_pis=True, no_network=True, huge_tree=False
    )
    try:
        doc = html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise ParseError(f"not a readable HTML page: {' '.join(str(e).split())[:200]}") from None
    metas = _metas(doc)
    for bad in [e for e in doc.iter() if isinstance(e.tag, str) and e.tag.lower() in _DROP]:
        bad.drop_tree()
    body_el = doc.find("body")
    if body_el is None:
        raise ParseError("HTML page without a body")
    headline = _headline(doc, metas)
    when = _when(doc, metas)
    container = _container(body_el)
    if container is None:
        raise ParseError("HTML page has no article text")
    paragraphs, captions = _read(container)
    if headline:
        paragraphs = [p for p in paragraphs if p != headline]
    if not paragraphs:
        raise ParseError("HTML page has no article text")
    item_id = _item_id(doc, metas, filename)
    if not item_id:
        raise ParseError("HTML page without a canonical URL or a file name to key it by")
    return Parsed(
        format=NAME,
        items=[
            WireItem(
                source=source,
                item_id=item_id,
                format=NAME,
                headline=headline,
                paragraphs=tuple(paragraphs),
                version=when.isoformat() if when else "",
                version_created=when,
                first_created=when,
                captions=tuple(captions),
                language=(doc.get("lang") or "")[:20],
            )
        ],
    )


def _metas(doc) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in doc.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        val = (m.get("content") or "").strip()
        if key and val and key not in out:
            out[key] = val
    for ln in doc.iter("link"):
        if (ln.get("rel") or "").lower() == "canonical" and ln.get("href"):
            out.setdefault("canonical", ln.get("href").strip())
    return out


def _text(el) -> str:
    return " ".join(el.text_content().split())


def _headline(doc, metas: dict[str, str]) -> str:
    h = metas.get("og:title", "")
    if not h:
        h1 = next(iter(doc.iter("h1")), None)
        h = _text(h1) if h1 is not None else ""
    if not h:
        t = doc.find(".//title")
        h = _text(t) if t is not None else ""
    return _SITE_SUFFIX.sub("", " ".join(h.split()))


def _when(doc, metas: dict[str, str]) -> datetime | None:
    for k in _META_TIME:
        if k in metas:
            dt = parse_iso(metas[k]) or _page_time(metas[k])
            if dt:
                return dt
    n = 0
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        n += 1
        if n > 5000:  # the date sits near the top of the page
            break
        t = " ".join((el.text or "").split())
        if 8 <= len(t) <= 60:
            dt = _page_time(t) or parse_date_line(t)
            if dt:
                return dt
    return None


def _page_time(t: str) -> datetime | None:
    m = _XINHUA_TIME.search(t)
    if not m:
        return None
    y, mo, d, h, mi, sec, zone = m.groups()
    tz = tz_offset(int(zone)) if zone else BEIJING
    try:
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0), tzinfo=tz)
    except ValueError:
        return None


def _container(body):
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        ident = (el.get("id") or "") + " " + (el.get("class") or "")
        if any(_CONTAINER.match(w) for w in ident.split()) and _p_text(el) > 0:
            return el
    art = next((a for a in body.iter("article") if _p_text(a) > 0), None)
    if art is not None:
        return art
    best, best_len = None, 0
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        n = sum(len(_text(p)) for p in el if isinstance(p.tag, str) and p.tag == "p")
        if n > best_len:
            best, best_len = el, n
    return best if best is not None else (body if _text(body) else None)


def _p_text(el) -> int:
    return sum(len(_text(p)) for p in el.iter("p"))


def _is_caption(el) -> bool:
    if el.tag == "figcaption":
        return True
    return bool(_CAPTION_CLASS.search(el.get("class") or ""))


def _read(container) -> tuple[list[str], list[str]]:
    """Leaf blocks as paragraphs, outermost captions as captions. Two linear passes, so a
    page nested thousands deep or wide costs no more than its size."""
    els = [el for el in container.iter() if isinstance(el.tag, str)]
    # bottom-up (reverse document order visits children first): has a block below it?
    block_below: dict = {}
    for el in reversed(els):
        block_below[el] = any(
            isinstance(k.tag, str) and (k.tag in _BLOCKS or block_below[k]) for k in el
        )
    # top-down: inside a caption? (the container's own ancestors count too)
    inside: dict = {container: any(_is_caption(a) for a in container.iterancestors())}
    paragraphs: list[str] = []
    captions: list[str] = []
    seen_captions: set[str] = set()
    for el in els:
        if el is not container:
            parent = el.getparent()
            inside[el] = inside[parent] or _is_caption(parent)
        if inside[el]:
            continue
        if _is_caption(el):
            t = _text(el)
            if t and t not in seen_captions:
                seen_captions.add(t)
                captions.append(t)
            continue
        if el.tag not in _BLOCKS or block_below[el]:
            continue
        t = _text(el)
        if t:
            paragraphs.append(t)
    if not paragraphs:
        t = _text(container)
        if t:
            paragraphs.append(t)
    return paragraphs, captions


def _item_id(doc, metas: dict[str, str], filename: str) -> str:
    url = metas.get("canonical") or metas.get("og:url", "")
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:  # a malformed URL is no id
        url, host = "", ""
    if host.endswith(_XINHUA_HOSTS):
        return normalise_guid(url)
    stem = PurePath(filename).stem if filename else ""
    if stem and stem.lower() not in ("index", "page", "article", "detail", "content"):
        return stem
    return normalise_guid(url) if url else stem
