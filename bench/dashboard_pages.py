"""Dashboard page timings on a large database.

    python -m bench.dashboard_pages --database-url URL --generate [--articles 1000000]
    python -m bench.dashboard_pages --database-url URL            # time the pages again

``--generate`` fills an EMPTY scratch database with a synthetic year of wire copy
(sql/bench/dashboard_scale.sql: articles, versions, stories, paragraphs, captions, pairs,
provenance, a run log, quarantine) and ANALYZEs it. The pages are then requested through
the app in-process (queries + rendering, no network); prints ``name=value`` lines:
median and worst milliseconds per page over ``--repeat`` requests after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

from pipeline.config import load_settings
from pipeline.dashboard.app import create_app
from pipeline.dashboard.auth import LocalAuth
from pipeline.store.connect import sql_dir
from pipeline.store.queries import Queries, parse
from pipeline.store.repository import Repository

STEPS = (
    "scale_stories",
    "scale_trim",
    "scale_batches",
    "scale_payloads",
    "scale_raw_items",
    "scale_articles",
    "scale_paragraphs",
    "scale_caption_groups",
    "scale_captions",
    "scale_story_rows",
    "scale_members",
    "scale_edges",
    "scale_provenance",
    "scale_runs",
    "scale_quarantine",
    "scale_events",
    "scale_sequences",
    "scale_drop_helper",
)


def bench_repo(url: str) -> Repository:
    """A repository whose named queries are the bench's own (sql/bench/)."""
    base = Repository.open(url)  # migrates
    text = (sql_dir() / "bench" / "dashboard_scale.sql").read_text(encoding="utf-8")
    return Repository(base.conn, Queries(parse(text, "dashboard_scale.sql")), url)


def generate(url: str, articles: int) -> None:
    repo = bench_repo(url)
    if repo.one("scale_has_articles")["yes"]:
        sys.exit("bench: the database already has articles; --generate needs an empty one")
    config_id = repo.one("scale_config")["id"]
    for step in STEPS:
        t0 = time.perf_counter()
        with repo.transaction():
            repo.run_sql(step, articles=articles, config_id=config_id)
        print(f"generate.{step}_s={time.perf_counter() - t0:.1f}", flush=True)
    t0 = time.perf_counter()
    repo.run_sql("scale_analyze")
    print(f"generate.analyze_s={time.perf_counter() - t0:.1f}")
    for k, v in repo.one("scale_counts").items():
        print(f"rows.{k}={v}")
    repo.close()


def pages(client, repo: Repository) -> dict[str, str]:
    pick = repo.one("pick_pages")
    big, small, group = pick["big"], pick["small"], pick["grp"]
    member = repo.one("pick_member", story_id=big)["article_id"]
    first = client.get("/stories").text
    older = first.split('href="/stories?after=', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return {
        "overview_7d": "/",
        "overview_30d": "/?days=30",
        "stories_first_page": "/stories",
        "stories_second_page": "/stories?after=" + older,
        "stories_search_common_word": "/stories?q=copper",
        "stories_search_two_words": "/stories?q=satellite+launch",
        "stories_search_no_match": "/stories?q=zzzz",
        "stories_source_cgtn": "/stories?source=cgtn",
        "stories_has_kill": "/stories?kill=yes",
        "stories_min_5_members": "/stories?min=5",
        "stories_one_day": "/stories?from=2026-03-01&to=2026-03-01",
        "stories_first_day_of_the_year": "/stories?from=2025-06-21&to=2025-06-21",
        "stories_min_50_members": "/stories?min=50",
        "stories_filters_matching_nothing": "/stories?kill=yes&min=12&source=cgtn&q=budget",
        "story_12_members": f"/stories/{big}",
        "story_1_member": f"/stories/{small}",
        "diff": f"/stories/{big}/diff/{member}",
        "captions_7d": "/captions",
        "captions_30d": "/captions?days=30",
        "caption_group": f"/captions/{group}",
        "quarantine": "/quarantine",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--generate", action="store_true")
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    if args.generate:
        generate(args.database_url, args.articles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    app = create_app(load_settings(database_url=args.database_url), auth=LocalAuth("bench"))
    with TestClient(app) as client, bench_repo(args.database_url) as repo:
        for name, path in pages(client, repo).items():
            client.get(path)  # warm-up (and cache)
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                r = client.get(path, headers={"Accept": "text/html"})
                times.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    sys.exit(f"bench: {path} answered {r.status_code}")
            print(f"page.{name}.median_ms={statistics.median(times):.1f}")
            print(f"page.{name}.max_ms={max(times):.1f}")
    app.state.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
