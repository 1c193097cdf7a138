"""Human and machine views of the store: the run report, the story export, ``explain``."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.evaluate import Report, misses
from pipeline.merge.record import CONTRIBUTION
from pipeline.store.store import Store

# the stage a quarantine entry names, by the summary that counted it
STAGE_NAMES = {"ingest": "parse", "requeue": "parse", "cluster_merge": "merge"}

STAGE_ORDER = (
    "ingest",
    "requeue",
    "open_batch",
    "sign",
    "candidates",
    "verify",
    "cluster_merge",
    "publish",
)


def render_report(store: Store, summaries) -> tuple[str, int]:
    """The end-of-run report and the number of items quarantined during this run."""
    lines = []
    ingests = [s for s in summaries if s.stage.startswith("ingest:")]
    # ingest quarantines what it cannot read; a dedup stage, an article it cannot process
    quarantined = sum(s.counts.get("quarantined", 0) for s in summaries)
    if ingests:
        lines.append(
            f"{'source':<10}{'files':>7}{'new':>6}{'updated':>9}{'killed':>8}{'quarantined':>13}"
        )
        for s in ingests:
            c = s.counts
            lines.append(
                f"{s.stage.split(':', 1)[1]:<10}{c.get('files', 0):>7}"
                f"{c.get('items_new', 0):>6}{c.get('items_updated', 0):>9}"
                f"{c.get('killed', 0):>8}{c.get('quarantined', 0):>13}"
            )
    t = store.report.story_totals()
    caption_groups = store.report.repeated_caption_groups()
    per_source = store.report.articles_per_source()
    lines.append("")
    lines.append(
        "articles in store: "
        + ", ".join(
            f"{r['source']} {r['articles']}" + (f" ({r['killed']} killed)" if r["killed"] else "")
            for r in per_source
        )
    )
    lines.append(
        f"stories: {t['stories']} ({t['multi']} with more than one copy), "
        f"duplicates linked: {t['duplicates']}, repeated caption groups: "
        f"{caption_groups}"
    )
    timings: dict[str, float] = defaultdict(float)
    for s in summaries:
        timings[s.stage.split(":", 1)[0]] += s.seconds
    lines.append(
        "time per stage: "
        + ", ".join(f"{k} {timings[k]:.2f}s" for k in STAGE_ORDER if k in timings)
    )
    if quarantined:
        stages = Counter()
        for x in summaries:
            if x.counts.get("quarantined"):
                stages[x.stage.split(":", 1)[0]] += x.counts["quarantined"]
        lines.append(
            f"quarantined: {quarantined} item(s) or file(s) ("
            + ", ".join(f"{STAGE_NAMES.get(k, k)} {n}" for k, n in stages.items())
            + "); see `newsdedup quarantine` for the reasons"
        )
    elif ingests:
        lines.append("quarantined: 0")
    else:
        # dedup alone ingests nothing, so it quarantines nothing: say what is still open
        still = store.ingest.count_open_quarantine()
        lines.append(
            "quarantined: none by this run"
            + (
                f"; {still} open entr{'y' if still == 1 else 'ies'} from earlier ingests, "
                "see `newsdedup quarantine`"
                if still
                else ""
            )
        )
    polled = sum(s.counts.get("fetched", 0) for s in ingests)
    if polled:
        failed = sum(s.counts.get("fetch_failed", 0) for s in ingests)
        lines.append(
            f"feeds: {polled} polled, "
            f"{sum(s.counts.get('not_modified', 0) for s in ingests)} not modified, "
            f"{failed} failed"
        )
        errors = [e for s in ingests for e in s.counts.get("fetch_errors", [])]
        lines.extend(f"  cannot fetch {e}" for e in errors)
    return "\n".join(lines), quarantined


def export_stories(store: Store) -> Iterator[dict]:
    """One record per live story in the contract format of DESIGN.md."""
    captions: dict[int, list[dict]] = defaultdict(list)
    seen: dict[int, set[str]] = defaultdict(set)
    for r in store.report.story_captions():
        key = r["text"]
        if key in seen[r["story_id"]]:
            continue
        seen[r["story_id"]].add(key)
        captions[r["story_id"]].append(
            {"text": r["text"], "group": f"g{r['group_id']}" if r["group_id"] is not None else None}
        )
    records: dict[int, list[dict]] = defaultdict(list)
    lent: dict[int, list[dict]] = defaultdict(list)
    for r in store.report.story_records():
        entry = {"text": r["text"], "credit": r["credit"], "kind": _record_kind(r)}
        if entry["kind"] == CONTRIBUTION:
            lent[r["story_id"]].append({"text": r["text"], "credit": r["credit"]})
        else:
            records[r["story_id"]].append(entry)
    for r in store.report.stories():
        if not r["members"]:
            continue
        yield {
            "story_id": f"s{r['story_id']}",
            "canonical": r["canonical"],
            "headline": r["headline"],
            "members": list(r["members"]),
            "contributors": list(r["contributors"]),
            "captions": captions.get(r["story_id"], []),
            "record": records.get(r["story_id"], []),
            "contributions": lent.get(r["story_id"], []),
            # every member killed: nothing of the story may be used
            "killed": r["canonical"] is None,
            "killed_members": list(r["killed_members"]),
        }


def _record_kind(row: dict) -> str:
    """canonical / added / caption / contribution, as the export names a record entry."""
    if row["kind"] == "paragraph":
        return "canonical" if row["in_canonical"] else "added"
    return row["kind"]


_STORY_REF = re.compile(r"^[s#](\d{1,18})$", re.I)
# what may stand before a bare id inside an item key (newsml_L1N3CU0QQ, cgtn:2026-06-11-X)
_KEY_SEPARATORS = frozenset(":_/-,.=")


def resolve_item(store: Store, ref: str) -> str:
    """What a person types for an item -> its full key: the key itself, a story (``s6``:
    its canonical) or a bare id that ends one key (``L1N3CU0QQ``). Anything else, or a
    bare id that ends several keys, is a one-line ConfigError that says what to type."""
    ref = ref.strip()
    if store.report.article(ref) is not None:
        return ref
    m = _STORY_REF.match(ref)
    if m:
        # a story merged into another is told through the story that holds it now
        live = store.overrides.live_story(int(m.group(1)))
        key = store.report.story_canonical_key(live) if live is not None else None
        if key is None:
            raise ConfigError(f"there is no story {ref}")
        return key
    if ref and ":" not in ref:
        keys = [
            k
            for k in store.report.keys_ending_with(ref)
            if len(k) > len(ref) and k[-len(ref) - 1] in _KEY_SEPARATORS
        ]
        if len(keys) == 1:
            return keys[0]
        if keys:
            raise ConfigError(
                f"{ref!r} ends {len(keys)}{'+' if len(keys) >= 20 else ''} item keys; "
                "give the whole key: " + ", ".join(keys[:3]) + (" ..." if len(keys) > 3 else "")
            )
    raise ConfigError(
        f"no item {ref!r} in the store (give an item key such as "
        "reuters:tag:reuters.com,2026:newsml_L1N3CU0QQ, its id L1N3CU0QQ, or a story s6)"
    )


def next_steps(store: Store, cmd: str = "newsdedup", flags: str = "") -> str:
    """What to try after a run: ``cmd`` as it was called, the same database ``flags``."""
    out = ["next:"]
    big = store.report.largest_story()
    if big is not None:
        out.append(
            f"  {cmd} explain s{big['story_id']}{flags}    "
            f"# why its {big['member_count']} copies are one story"
        )
    out.append(f"  {cmd} export stories{flags}    # every story as JSON Lines")
    out.append(f"  {cmd} dashboard{flags}    # browse, split and merge on http://127.0.0.1:8090/")
    return "\n".join(out)


def explain(store: Store, key: str) -> str | None:
    a = store.report.article(key)
    if a is None:
        return None
    out = [
        f"{key}",
        f"  headline: {a['headline']}" + (f"  [{a['headline_tag']}]" if a["headline_tag"] else ""),
        f"  source {a['source']}, format {a['format']}, first created "
        f"{a['first_created']}, {a['word_count']} words" + (", KILLED" if a["killed"] else ""),
    ]
    if a["killed"] or a["pub_status"] == "withheld":
        out.append("  killed: true - do not use; its text is in no merged record")
    versions = store.report.versions(key)
    out.append(f"  versions received: {len(versions)}")
    for v in versions:
        out.append(
            f"    v{v['version'] or '-'} {v['version_created']} {v['pub_status']}"
            f"{' edStat ' + v['ed_stat'] if v['ed_stat'] else ''}  ({v['origin']})"
        )
    if a["attributions"]:
        out.append("  credits: with input from " + ", ".join(a["attributions"]))
    m = store.report.membership(a["id"])
    if m is None:
        out.append("  story: none yet (waiting for the next dedup batch)")
    else:
        n = m["member_count"]
        out.append(
            f"  story s{m['story_id']} ({n} member{'' if n == 1 else 's'}), role "
            + ("killed" if a["killed"] else m["role"])
            + (", killed: true (every member killed)" if m["canonical_key"] is None else "")
        )
        out.append(f"    why: {m['reason']}")
        if m["canonical_key"] and m["canonical_key"] != key:
            out.append(f'    canonical: {m["canonical_key"]} "{m["canonical_headline"]}"')
        for mm in store.report.story_members(m["story_id"]):
            # a member without a verified edge (operator merge, alone) has no score
            sim = (
                f"{mm['similarity']:.2f}"
                if mm["similarity"] or mm["role"] == "canonical"
                else "   -"
            )
            who = "killed" if mm["killed"] else mm["role"]
            out.append(f"      {who:<11} {sim} {mm['item_key']}")
            if mm["role"] != "canonical":
                # the member's own evidence: its edge to the canonical, or to most members
                why = mm["reason"] if len(mm["reason"]) <= 150 else mm["reason"][:147] + "..."
                out.append(f"        {why}")
        prov = store.report.story_provenance(m["story_id"])
        own = [p for p in prov if p["kind"] != CONTRIBUTION]
        lent = [p for p in prov if p["kind"] == CONTRIBUTION]
        if own:
            out.append(
                "    merged record (each paragraph and caption credited to the earliest item "
                "with its wording; + = not in the canonical text):"
            )
            out += [_record_line(p, "+" if not p["in_canonical"] else " ") for p in own]
        if lent:
            out.append("    lent by articles of other stories (credited, not merged):")
            out += [_record_line(p, " ") for p in lent]
    edges = store.report.edges_of(a["id"])
    if edges:
        out.append(f"  verified pairs: {len(edges)}")
        for e in edges[:20]:
            out.append(f"    {e['verdict']:<11} {e['other']}\n      {e['reason']}")
    else:
        out.append("  verified pairs: none (no LSH candidate shared enough bands)")
    return "\n".join(out)


def _record_line(p: dict, mark: str) -> str:
    snippet = p["text"] if len(p["text"]) <= 60 else p["text"][:57] + "..."
    return f"     {mark}{p['kind'][0]}{p['ord']:<3} {snippet:<60}  <- {p['item_key']}"


def read_jsonl(path: Path, required: tuple[str, ...] = ()) -> Iterator[dict]:
    """JSON Lines records; a bad file is a one-line ConfigError naming the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}:{n}: not JSON ({e.msg})") from None
        if not isinstance(rec, dict) or any(k not in rec for k in required):
            raise ConfigError(f"{path}:{n}: each line needs {', '.join(required)}")
        yield rec


def explain_errors(store: Store, report: Report, truth: dict, show: int) -> str:
    """The evaluation report: metrics, targets, and the worst errors with the decision the
    pipeline stored for each (why it merged, or why it did not)."""
    c = report.clustering
    out = [
        f"items {report.items} (scored, not killed: {report.scored})",
        f"pairwise   P={c.precision:.4f} R={c.recall:.4f} F1={c.f1:.4f} "
        f"(true pairs {c.true_pairs}, predicted {c.pred_pairs}, correct {c.correct_pairs})",
        f"ARI        {c.ari:.4f}   B-cubed F1 {c.bcubed_f1:.4f}",
    ]
    if report.caption_f1 is not None:
        out.append(f"captions   caption-group pairwise F1 {report.caption_f1:.4f}")
    if report.contributor_recall is not None:
        out.append(f"contributors recall {report.contributor_recall:.4f}")
    out.append(f"killed canonicals {report.killed_canonical}")
    if report.hard_negatives:
        out.append(
            "hard negatives merged: "
            + "  ".join(f"{t}={m}/{n}" for t, (m, n) in report.hard_negatives.items())
        )
    missed = misses(report)
    out.append("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    keys = {k for m in report.false_merges[:show] for part in m["parts"].values() for k in part}
    keys |= {k for m in report.false_splits[:show] for piece in m["pieces"] for k in piece}
    ids = store.ingest.article_ids(sorted(keys))
    edges = {}
    if ids:
        for e in store.edges.among(sorted(ids.values())):
            edges[frozenset((e["a"], e["b"]))] = e
    out.append(f"\nfalse merges: {len(report.false_merges)} clusters; worst:")
    for m in report.false_merges[:show]:
        out.append(
            f"  story {m['story_id']}: {m['false_pairs']} false pairs, truth stories "
            + ", ".join(f"{s} x{len(v)}" for s, v in m["parts"].items())
        )
        parts = list(m["parts"].values())
        for i, a_part in enumerate(parts):
            for b_part in parts[i + 1 :]:
                for x in a_part:
                    for y in b_part:
                        e = edges.get(frozenset((ids.get(x), ids.get(y))))
                        if e and e["verdict"] == "duplicate":
                            out.append(f"    {x}\n    ~ {y}\n      {e['reason']}")
    out.append(f"\nfalse splits: {len(report.false_splits)} stories; worst:")
    for m in report.false_splits[:show]:
        out.append(
            f"  truth story {m['story']}: {m['missed_pairs']} missed pairs in "
            f"{len(m['pieces'])} pieces"
        )
        lead = m["pieces"][0]
        for piece in m["pieces"][1:]:
            found = [
                (x, y, edges.get(frozenset((ids.get(x), ids.get(y))))) for x in lead for y in piece
            ]
            found = [f for f in found if f[2] is not None]
            if not found:
                out.append(
                    f"    {piece[0]} (+{len(piece) - 1}): never proposed as a candidate "
                    "of the other piece"
                )
                continue
            x, y, e = max(found, key=lambda f: f[2]["jaccard"])
            out.append(f"    {x}\n    / {y}\n      {e['verdict']}: {e['reason']}")
    return "\n".join(out)
