"""Package links: the captions a NewsML-G2 package gives the text item it packages.

A package (``packageItem``) arrives on its own and names, by guid, a text item and the
pictures that go with it; any of the three may arrive first. The links are stored
(``package_link``, the latest package version wins) and the text item's article carries
the pictures' captions as captions of its own, marked ``via_item`` = the picture's key:
the picture item's own caption once it has arrived, else what the package says of it.
Whenever a text item, a picture or a package of a batch changes, the affected articles'
package captions are recomputed; only a real difference rewrites them and sends the
article back to dedup, so re-running ingest changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.sources.base import Parsed
from pipeline.store.store import Store
from pipeline.text.captions import caption_body, caption_tokens, split_credit
from pipeline.text.normalize import clean


def apply_links(store: Store, payload_id: int, parsed: Parsed) -> set[str]:
    """Store the links of the package versions in ``parsed`` that are not older than the
    stored ones; return the text keys whose package captions may have changed."""
    if not parsed.link_versions:
        return set()
    stored = store.packages.versions(sorted(parsed.link_versions))
    touched: set[str] = set()
    for key, created in parsed.link_versions.items():
        if key in stored and _older(created, stored[key]):
            continue  # a late copy of an older package version changes nothing
        links = [ln for ln in parsed.links if ln.package_key == key]
        touched |= store.packages.replace_links(key, created, payload_id, links)
    return touched


def _older(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and a < b


def refresh_captions(store: Store, item_keys: set[str], text_keys: set[str]) -> int:
    """Recompute the package captions of the text articles linked to ``item_keys`` (as
    text or picture) and of ``text_keys``; return how many articles changed."""
    keys = set(text_keys)
    if item_keys:
        keys.update(store.packages.texts_linked_to(sorted(item_keys)))
    if not keys:
        return 0
    articles = store.ingest.article_ids(sorted(keys))
    if not articles:
        return 0
    want: dict[int, list[tuple[str, str]]] = {aid: [] for aid in articles.values()}
    for r in store.packages.captions_wanted(sorted(articles)):
        if r["caption"]:
            want[r["article_id"]].append((r["picture_key"], r["caption"]))
    have: dict[int, list[dict]] = {aid: [] for aid in want}
    for r in store.packages.captions_of(sorted(want)):
        have[r["article_id"]].append(r)
    changed: list[int] = []
    rows: list[dict] = []
    for aid in sorted(want):
        own = [c for c in have[aid] if c["via_item"] is None]
        current = [(c["via_item"], c["text"]) for c in have[aid] if c["via_item"] is not None]
        seen = {c["body"].lower() for c in own}
        desired: list[tuple[str, str, str]] = []
        for picture, raw in want[aid]:
            text = clean(raw)
            body = caption_body(text) if text else ""
            if not body or body.lower() in seen:
                continue  # the article prints this caption already, or it is empty
            seen.add(body.lower())
            desired.append((picture, text, body))
        if [(p, t) for p, t, _ in desired] == current:
            continue
        changed.append(aid)
        start = max((c["ord"] for c in own), default=-1) + 1
        for i, (picture, text, body) in enumerate(desired):
            split = split_credit(text)
            rows.append(
                {
                    "article_id": aid,
                    "ord": start + i,
                    "text": text,
                    "body": body,
                    "credit": split[1] if split else "",
                    "norm": " ".join(caption_tokens(text)),
                    "via_item": picture,
                }
            )
    if changed:
        store.packages.replace_captions(changed, rows)
    return len(changed)
