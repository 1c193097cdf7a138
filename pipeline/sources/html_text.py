"""HTML fragments (RSS descriptions, ninjs ``body_html``) -> plain-text paragraphs."""

from __future__ import annotations

import re

from lxml import etree, html

_BLOCK = {
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "figcaption",
    "pre",
    "td",
    "dd",
    "dt",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "tr",
}
_DROP = {"script", "style", "noscript", "iframe", "object", "embed", "template", "svg", "head"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BR_SPLIT = re.compile(r"\s*\n\s*\n\s*|\u2029")


def paragraphs_from_html(fragment: str) -> list[str]:
    """Block-level text of an HTML fragment, in document order, one string per block.

    ``<br><br>`` and blank lines split paragraphs inside a block; ``<img alt>`` and
    ``<figcaption>`` text is kept because that is where captions live in feed HTML."""
    if not fragment or not fragment.strip():
        return []
    # C0 controls (and NULs) are not text, and lxml refuses to handle them
    fragment = _CONTROL.sub("", fragment)
    if "<" not in fragment:
        return [p.strip() for p in _BR_SPLIT.split(fragment) if p.strip()]
    try:
        root = html.fromstring(f"<div>{fragment}</div>")
    except (etree.ParserError, ValueError):
        return [p.strip() for p in _BR_SPLIT.split(re.sub(r"<[^>]+>", " ", fragment)) if p.strip()]
    for bad in [e for e in root.iter() if isinstance(e.tag, str) and e.tag.lower() in _DROP]:
        bad.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n\n" + (br.tail or "")
    out: list[str] = []
    _walk(root, out)
    return [p for p in (" ".join(x.split()) for x in out) if p]


def _walk(el, out: list[str]) -> None:
    """Collect text: a block element starts a new paragraph; inline text joins the current."""
    buf: list[str] = []

    def flush() -> None:
        if buf:
            out.extend(p for p in _BR_SPLIT.split("".join(buf)) if p.strip())
            buf.clear()

    if el.text:
        buf.append(el.text)
    for child in el:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag in _BLOCK:
            flush()
            _walk(child, out)
        elif tag == "img":
            alt = child.get("alt") or ""
            if alt.strip():
                flush()
                out.append(alt)
        else:
            buf.append(child.text_content() if tag else "")
        if child.tail:
            buf.append(child.tail)
    flush()
