"""Build a large wire inbox at run time from the research corpora in ``../shared/corpora``.

The base texts are Reuters-21578 and the BBC News corpus (research use only: they are read
here, at run time, and never committed). Each base article becomes a *story* first published
by one agency and then reused the way wire copy is reused:

* Reuters versions under the same guid (``UPDATE 1-``: a new lead paragraph) and kills,
* Reuters ``CORRECTED-`` copies under a new guid (one figure changed, a correction note),
* Xinhua rewrites (new dateline, first 50-90 % of paragraphs, ``pct`` -> ``percent``,
  ``mln`` -> ``million``, a few synonym swaps, a dropped sentence),
* CGTN pages (edited title, paragraphs dropped/reordered, 1-3 photo captions each printed
  twice, a ``Read more:`` block naming another story, ``(With input from ...)``),
* abridged reprints (the first 2-4 paragraphs).

There are about 21,000 usable base articles and a 100,000-article corpus needs ~58,000
stories, so bases are reused in *epochs*: from the second epoch on every word is mapped
through a seeded permutation of the corpus vocabulary. The text keeps real word lengths,
frequencies, numbers and paragraphing (what MinHash, Postgres and the parsers see) but
shares no shingles with the other epochs, so stories of different epochs are not
duplicates of each other.

The inbox is written in the three formats the pipeline reads (NewsML-G2 files, RSS feed
files of 50 items, CGTN page text) under a cache folder and reused by later runs::

    python -m bench.make_corpus --articles 100000      # prints the inbox path
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

VERSION = 4  # bump when the generated corpus changes, so caches are rebuilt
ROOT = Path(__file__).resolve().parents[1]
# NEWSDEDUP_CORPORA, else corpora/ of the shared material (NEWSDEDUP_SHARED_DIR, else the
# shared/ folder beside the checkout)
CORPORA = Path(
    os.environ.get("NEWSDEDUP_CORPORA")
    or Path(os.environ.get("NEWSDEDUP_SHARED_DIR") or ROOT.parent / "shared") / "corpora"
)
CACHE = Path(
    os.environ.get("NEWSDEDUP_BENCH_CACHE", Path.home() / ".cache" / "newsdedup-bench")
).expanduser()
START = datetime(2019, 6, 17, tzinfo=UTC)


@dataclass
class Base:
    title: str
    paragraphs: list[str]
    city: str


# ------------------------------------------------------------------------------------------
# reading the corpora
# ------------------------------------------------------------------------------------------

_REUTERS = re.compile(r"<REUTERS.*?</REUTERS>", re.S)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_DATELINE = re.compile(r"<DATELINE>\s*([A-Z][A-Z .'-]+?)\s*,", re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_SGML_ENTITY = re.compile(r"&#\d+;")


def _reuters_bases() -> list[Base]:
    out = []
    for f in sorted((CORPORA / "reuters21578").glob("reut2-*.sgm")):
        raw = f.read_bytes().decode("latin-1")
        for doc in _REUTERS.findall(raw):
            b, t = _BODY.search(doc), _TITLE.search(doc)
            if not b or not t:
                continue
            # Reuters-21578 marks company names as <Name>; a page would not show the brackets
            body = _SGML_ENTITY.sub("", html.unescape(b.group(1))).replace("<", "").replace(">", "")
            body = re.sub(r"\s*Reuter\s*$", "", body.strip())
            paras = [" ".join(p.split()) for p in re.split(r"\n\s{3,}", body)]
            paras = [p for p in paras if len(p.split()) >= 4]
            if sum(len(p.split()) for p in paras) < 40:
                continue
            d = _DATELINE.search(doc)
            city = d.group(1).strip().title() if d else "London"
            title = " ".join(html.unescape(t.group(1)).replace("<", "").replace(">", "").split())
            title = title.title()
            out.append(Base(title, paras, city))
    return out


def _bbc_bases() -> list[Base]:
    out = []
    for f in sorted((CORPORA / "bbc").glob("*/*.txt")):
        text = f.read_bytes().decode("latin-1")
        blocks = [" ".join(b.split()) for b in text.split("\n\n")]
        blocks = [b for b in blocks if b]
        if len(blocks) < 3:
            continue
        out.append(Base(blocks[0], blocks[1:], "London"))
    return out


def load_bases() -> list[Base]:
    bases = _reuters_bases() + _bbc_bases()
    if not bases:
        sys.exit(f"no base articles found under {CORPORA}")
    return bases


# ------------------------------------------------------------------------------------------
# text variation
# ------------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z]+")


class Cipher:
    """A seeded permutation of the corpus vocabulary, one per epoch (epoch 0: identity)."""

    def __init__(self, bases: list[Base], epoch: int):
        self.map: dict[str, str] = {}
        if epoch == 0:
            return
        vocab = sorted(
            {w.lower() for b in bases for p in (b.title, *b.paragraphs) for w in _WORD.findall(p)}
        )
        shuffled = vocab[:]
        random.Random(7919 * epoch).shuffle(shuffled)
        self.map = dict(zip(vocab, shuffled, strict=True))

    def __call__(self, text: str) -> str:
        if not self.map:
            return text

        def sub(m: re.Match) -> str:
            w = m.group(0)
            r = self.map.get(w.lower(), w)
            if w.isupper() and len(w) > 1:
                return r.upper()
            if w[0].isupper():
                return r[:1].upper() + r[1:]
            return r

        return _WORD.sub(sub, text)


SYNONYMS = {
    "said": "stated",
    "largest": "biggest",
    "talks": "negotiations",
    "rose": "increased",
    "fell": "declined",
    "company": "firm",
    "government": "authorities",
    "expected": "anticipated",
    "about": "around",
    "also": "additionally",
}
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")


def xinhua_style(p: str, rng: random.Random) -> str:
    p = re.sub(r"\bpct\b", "percent", p)
    p = re.sub(r"\bmln\b", "million", p)
    p = re.sub(r"\bbln\b", "billion", p)
    p = re.sub(r"\bdlrs\b", "U.S. dollars", p)
    words = p.split(" ")
    for i, w in enumerate(words):
        if w in SYNONYMS and rng.random() < 0.5:
            words[i] = SYNONYMS[w]
    return " ".join(words)


def drop_sentence(paras: list[str], rng: random.Random) -> list[str]:
    idx = [i for i, p in enumerate(paras) if len(_SENT.split(p)) > 1]
    if not idx:
        return paras
    i = rng.choice(idx)
    sents = _SENT.split(paras[i])
    del sents[rng.randrange(len(sents))]
    return [*paras[:i], " ".join(sents), *paras[i + 1 :]]


def change_figure(paras: list[str], rng: random.Random) -> list[str]:
    for i, p in enumerate(paras):
        m = re.search(r"\d+", p)
        if m:
            n = int(m.group(0)) + rng.randint(1, 9)
            return [*paras[:i], p[: m.start()] + str(n) + p[m.end() :], *paras[i + 1 :]]
    return paras


# ------------------------------------------------------------------------------------------
# the corpus model
# ------------------------------------------------------------------------------------------


@dataclass
class Item:
    source: str  # reuters | xinhua | cgtn
    key_id: str  # guid / rss guid / file stem
    title: str
    paragraphs: list[str]
    at: datetime
    version: int = 1
    killed: bool = False
    extra: dict = field(default_factory=dict)


def _guid(n: int) -> str:
    return f"tag:reuters.com,2019:newsml_B{n:08d}"


def generate(n_articles: int, seed: int = 1) -> tuple[list[Item], dict]:
    """Items (versions included) whose distinct keys number ``n_articles``."""
    rng = random.Random(seed)
    bases = load_bases()
    order = list(range(len(bases)))
    rng.shuffle(order)
    ciphers: dict[int, Cipher] = {}
    items: list[Item] = []
    keys = 0
    story = 0
    counts = dict(
        stories=0, versions_same_guid=0, kills=0, corrected=0, rewrites=0, cgtn=0, abridged=0
    )
    span = timedelta(days=max(20, n_articles // 2500))  # ~2,500 articles a day
    n_stories_est = max(1, int(n_articles / 1.73))
    while keys < n_articles:
        epoch, pos = divmod(story, len(bases))
        if epoch not in ciphers:
            ciphers[epoch] = Cipher(bases, epoch)
        ci = ciphers[epoch]
        base = bases[order[pos]]
        title = ci(base.title)
        paras = [ci(p) for p in base.paragraphs]
        city = base.city.upper()
        t0 = START + span * (story / n_stories_est) + timedelta(seconds=rng.randint(0, 600))
        story += 1
        counts["stories"] += 1
        r = rng.random()
        origin = "reuters" if r < 0.5 else "xinhua" if r < 0.8 else "cgtn"
        sid = story

        def emit(it: Item) -> None:
            nonlocal keys
            if it.version == 1:
                keys += 1
            items.append(it)

        if origin == "reuters":
            lead = f"{city} (Reuters) - {paras[0]}"
            emit(
                Item(
                    "reuters",
                    _guid(sid),
                    title,
                    [lead, *paras[1:], "(Reporting by Ann Lee; Editing by Tom Hale)"],
                    t0,
                )
            )
            if rng.random() < 0.15:
                counts["versions_same_guid"] += 1
                new_lead = f"{city} (Reuters) - {ci(rng.choice(bases).paragraphs[0])}"
                emit(
                    Item(
                        "reuters",
                        _guid(sid),
                        "UPDATE 1-" + title,
                        [new_lead, paras[0], *paras[1:]],
                        t0 + timedelta(hours=2),
                        version=2,
                    )
                )
            if rng.random() < 0.01:
                counts["kills"] += 1
                emit(
                    Item(
                        "reuters",
                        _guid(sid),
                        "KILL-" + title,
                        [],
                        t0 + timedelta(hours=3),
                        version=3,
                        killed=True,
                    )
                )
            if rng.random() < 0.12:
                counts["corrected"] += 1
                fixed = change_figure([lead, *paras[1:]], rng)
                emit(
                    Item(
                        "reuters",
                        _guid(10_000_000 + sid),
                        "CORRECTED-" + title,
                        [*fixed, "(Corrects figure in paragraph 1)"],
                        t0 + timedelta(hours=4),
                    )
                )
        elif origin == "xinhua":
            emit(
                Item(
                    "xinhua",
                    f"http://www.xinhuanet.com/english/2019/c_{sid}.htm",
                    title,
                    [
                        f"{city}, June 17 (Xinhua) -- {xinhua_style(paras[0], rng)}",
                        *(xinhua_style(p, rng) for p in paras[1:]),
                    ],
                    t0,
                )
            )
        else:
            emit(
                Item(
                    "cgtn",
                    f"c{sid:08d}",
                    title,
                    list(paras),
                    t0,
                    extra={"captions": _captions(rng, bases, ci), "read_more": None},
                )
            )
        if origin != "xinhua" and rng.random() < 0.30:
            counts["rewrites"] += 1
            keep = max(1, round(len(paras) * rng.uniform(0.5, 0.9)))
            body = drop_sentence([xinhua_style(p, rng) for p in paras[:keep]], rng)
            body[0] = f"{city.title()}, June 18 (Xinhua) -- {body[0]}"
            emit(
                Item(
                    "xinhua",
                    f"http://www.xinhuanet.com/english/2019/r_{sid}.htm",
                    title,
                    body,
                    t0 + timedelta(hours=rng.randint(1, 20)),
                )
            )
        if origin != "cgtn" and rng.random() < 0.25:
            counts["cgtn"] += 1
            body = list(paras)
            if len(body) > 3 and rng.random() < 0.5:
                del body[rng.randrange(1, len(body))]
            if len(body) > 3 and rng.random() < 0.3:
                i = rng.randrange(1, len(body) - 1)
                body[i], body[i + 1] = body[i + 1], body[i]
            other = ci(rng.choice(bases).title)
            emit(
                Item(
                    "cgtn",
                    f"r{sid:08d}",
                    "Explainer: " + title,
                    body,
                    t0 + timedelta(hours=rng.randint(2, 30)),
                    extra={
                        "captions": _captions(rng, bases, ci),
                        "read_more": other,
                        "with_input": "Reuters" if origin == "reuters" else "Xinhua",
                    },
                )
            )
        if rng.random() < 0.12:
            counts["abridged"] += 1
            k = min(len(paras), rng.randint(2, 4))
            src = rng.choice(["xinhua", "cgtn"])
            at = t0 + timedelta(hours=rng.randint(3, 40))
            if src == "xinhua":
                body = [xinhua_style(p, rng) for p in paras[:k]]
                body[0] = f"{city.title()}, June 19 (Xinhua) -- {body[0]}"
                emit(
                    Item(
                        "xinhua",
                        f"http://www.xinhuanet.com/english/2019/a_{sid}.htm",
                        title,
                        body,
                        at,
                    )
                )
            else:
                emit(
                    Item(
                        "cgtn",
                        f"a{sid:08d}",
                        title,
                        paras[:k],
                        at,
                        extra={"captions": [], "read_more": None},
                    )
                )
    # the last story may overshoot by a few keys; that is fine for a benchmark
    items.sort(key=lambda it: it.at)
    counts["articles"] = keys
    counts["items"] = len(items)
    return items, counts


def _captions(rng: random.Random, bases: list[Base], ci: Cipher) -> list[str]:
    out = []
    for _ in range(rng.randint(1, 3)):
        b = rng.choice(bases)
        sent = _SENT.split(b.paragraphs[-1])[0]
        out.append(ci(sent) + rng.choice([" /VCG Photo", " /Reuters Photo", " /CFP"]))
    return out


# ------------------------------------------------------------------------------------------
# writers
# ------------------------------------------------------------------------------------------


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


_STD = 'conformance="power" standard="NewsML-G2" standardversion="2.10"'


def newsml(it: Item) -> str:
    first = it.at if it.version == 1 else it.at - timedelta(hours=2)
    status = "stat:canceled" if it.killed else "stat:usable"
    ed = "D" if it.killed else ("N" if it.version == 1 else "U")
    ps = "\n".join(f"              <p>{escape(p)}</p>" for p in it.paragraphs)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/" xmlns:rtr="http://www.reuters.com/ns/2003/08/content">
  <header>
    <sent>{_iso(it.at)}</sent>
    <sender>reuters.com</sender>
    <transmitId>{escape(it.key_id)}:{it.version}</transmitId>
  </header>
  <itemSet>
    <newsItem {_STD} guid="{escape(it.key_id)}" version="{it.version}" xml:lang="en">
      <itemMeta>
        <itemClass qcode="icls:text"/>
        <provider literal="reuters.com"/>
        <versionCreated>{_iso(it.at)}</versionCreated>
        <firstCreated>{_iso(first)}</firstCreated>
        <pubStatus qcode="{status}"/>
        <signal qcode="edStat:{ed}"/>
      </itemMeta>
      <contentMeta>
        <headline>{escape(it.title)}</headline>
      </contentMeta>
      <contentSet>
        <inlineXML contenttype="application/xhtml+html">
          <html xmlns="http://www.w3.org/1999/xhtml">
            <body>
{ps}
            </body>
          </html>
        </inlineXML>
      </contentSet>
    </newsItem>
  </itemSet>
</newsMessage>
"""


def rss(items: list[Item]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
        "<title>Xinhua | English</title>\n<link>http://www.xinhuanet.com/english/</link>\n"
        "<description>Xinhua English news</description>\n<language>en</language>\n"
    ]
    for it in items:
        desc = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in it.paragraphs)
        t = it.at.astimezone(UTC) + timedelta(hours=8)
        out.append(
            f"<item>\n<title>{escape(it.title)}</title>\n<link>{it.key_id}</link>\n"
            f"<description>{escape(desc)}</description>\n"
            f"<pubDate>{t.strftime('%a, %d %b %Y %H:%M:%S')} +0800</pubDate>\n"
            f'<guid isPermaLink="true">{it.key_id}</guid>\n</item>\n'
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def cgtn(it: Item) -> str:
    t = it.at.astimezone(UTC) + timedelta(hours=8)
    blocks = [it.title, f"Updated {t.strftime('%H:%M, %d-%b-%Y')}\nCGTN\n[]"]
    body = list(it.paragraphs)
    caps = it.extra.get("captions") or []
    for c in caps:
        at = min(len(body), 1 + len(c) % 3)  # deterministic, unlike hash()
        body[at:at] = [c, c]
    if it.extra.get("read_more"):
        body[len(body) // 2 : len(body) // 2] = ["Read more:", it.extra["read_more"]]
    if it.extra.get("with_input"):
        body.append(f"(With input from {it.extra['with_input']})")
    return "\n\n".join(blocks + body) + "\n"


def write_inbox(items: list[Item], inbox: Path) -> None:
    for s in ("reuters", "xinhua", "cgtn"):
        (inbox / s).mkdir(parents=True, exist_ok=True)
    feed: list[Item] = []
    nfeed = 0
    for it in items:
        if it.source == "reuters":
            name = f"{it.at.strftime('%Y-%m-%dT%H%M%SZ')}_{it.version}_{it.key_id[-9:]}.xml"
            (inbox / "reuters" / name).write_text(newsml(it), encoding="utf-8")
        elif it.source == "cgtn":
            (inbox / "cgtn" / f"{it.key_id}.txt").write_text(cgtn(it), encoding="utf-8")
        else:
            feed.append(it)
            if len(feed) == 50:
                nfeed += 1
                (inbox / "xinhua" / f"feed-{nfeed:05d}.xml").write_text(rss(feed), "utf-8")
                feed = []
    if feed:
        nfeed += 1
        (inbox / "xinhua" / f"feed-{nfeed:05d}.xml").write_text(rss(feed), "utf-8")


def inbox_for(n_articles: int, seed: int = 1) -> Path:
    """The cached inbox of ``n_articles`` articles, generated on first use."""
    root = CACHE / f"corpus-v{VERSION}-{n_articles}-s{seed}"
    inbox = root / "inbox"
    done = root / "manifest.json"
    if done.exists():
        return inbox
    if root.exists():
        shutil.rmtree(root)
    items, counts = generate(n_articles, seed)
    tmp = root.with_suffix(".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    write_inbox(items, tmp / "inbox")
    (tmp / "manifest.json").write_text(json.dumps(counts, indent=1))
    tmp.rename(root)
    return inbox


def inbox_pair(n_old: int, n_new: int, seed: int = 1) -> tuple[Path, Path]:
    """Two inboxes cut from one generated corpus at a point in time: the first
    ``n_old`` articles, then the next ~``n_new`` (later rewrites, versions and reprints of
    earlier stories among them, as in a live feed)."""
    root = CACHE / f"pair-v{VERSION}-{n_old}-{n_new}-s{seed}"
    old, new = root / "old", root / "new"
    if (root / "manifest.json").exists():
        return old, new
    if root.exists():
        shutil.rmtree(root)
    items, _ = generate(n_old + n_new, seed)
    seen: set[tuple[str, str]] = set()
    cut = len(items)
    for i, it in enumerate(items):
        seen.add((it.source, it.key_id))
        if len(seen) > n_old:
            cut = i
            break
    write_inbox(items[:cut], old)
    write_inbox(items[cut:], new)
    (root / "manifest.json").write_text(
        json.dumps({"old_items": cut, "new_items": len(items) - cut})
    )
    return old, new


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    inbox = inbox_for(args.articles, args.seed)
    print(inbox)
    print((inbox.parent / "manifest.json").read_text(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
