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
from pipeline.store.connect import connect, sql_dir
from pipeline.store.queries import Queries, parse
from pipeline.store.store import Store

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


class BenchDb:
    """The bench's own statements (sql/bench/dashboard_scale.sql, not the pipeline's
    queries) on a connection of their own."""

    def __init__(self, url: str):
        Store.open(url).close()  # migrated
        text = (sql_dir() / "bench" / "dashboard_scale.sql").read_text(encoding="utf-8")
        self.q = Queries(parse(text, "dashboard_scale.sql"))
        self.conn = connect(url, autocommit=True)

    def one(self, name: str, **params) -> dict:
        return self.conn.execute(getattr(self.q, name), params).fetchone()

    def run(self, name: str, **params) -> None:
        self.conn.execute(getattr(self.q, name), params)

    def close(self) -> None:
        self.conn.close()


def generate(url: str, articles: int) -> None:
    db = BenchDb(url)
    if db.one("scale_has_articles")["yes"]:
        sys.exit("bench: the database already has articles; --generate needs an empty one")
    config_id = db.one("scale_config")["id"]
    for step in STEPS:
        t0 = time.perf_counter()
        with db.conn.transaction():
            db.run(step, articles=articles, config_id=config_id)
        print(f"generate.{step}_s={time.perf_counter() - t0:.1f}", flush=True)
    t0 = time.perf_counter()
    db.run("scale_analyze")
    print(f"generate.analyze_s={time.perf_counter() - t0:.1f}")
    for k, v in db.one("scale_counts").items():
        print(f"rows.{k}={v}")
    db.close()


def pages(client, db: BenchDb) -> dict[str, str]:
    pick = db.one("pick_pages")
    big, small, group = pick["big"], pick["small"], pick["grp"]
    member = db.one("pick_member", story_id=big)["article_id"]
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
    db = BenchDb(args.database_url)
    with TestClient(app) as client:
        for name, path in pages(client, db).items():
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
    db.close()
    app.state.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
