"""The ``newsdedup`` command.

Exit codes: 0 ok; 1 the run finished but items were quarantined (the count is printed);
2 usage, configuration or database error (one line on stderr); 3 an internal error (one
line; ``--debug`` shows the traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import logging
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline import __version__
from pipeline.config import Settings, load_settings
from pipeline.errors import ConfigError, UserError

SAMPLE_INBOX = Path(__file__).resolve().parent / "samples" / "inbox"

EXIT_OK, EXIT_QUARANTINED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


# a database wait that hit its [database] limit: a one-line error, not an internal one
_TIMEOUTS = {
    "55P03": "gave up waiting for a database lock after lock_timeout_s",
    "25P03": "the session sat idle in a transaction past idle_in_transaction_timeout_s",
}


class UsageError(Exception):
    pass


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)$")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other user mistake
        m = _INVALID_CHOICE.search(message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2)) or m.group(2).split(", ")
            close = difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
        raise UsageError(f"{self.prog}: {message}")


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("database and configuration")
    g.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL URL (default: $NEWSDEDUP_DATABASE_URL, else an embedded "
        "server in the data directory)",
    )
    g.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the embedded PostgreSQL lives (default: $NEWSDEDUP_DATA_DIR or "
        "~/.local/share/newsdedup)",
    )
    g.add_argument(
        "--config", metavar="FILE", help="newsdedup.toml with [dedup] and [sources.*] settings"
    )
    g.add_argument("-v", "--verbose", action="store_true", help="log each stage")
    g.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="newsdedup", description="News wire deduplication and merge pipeline.")
    ap.add_argument("--version", action="version", version=f"newsdedup {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "run",
        help="ingest an inbox and the configured sources (folders, feed URLs), then dedup "
        "and merge; print a report",
    )
    p.add_argument(
        "--inbox",
        metavar="DIR",
        help="folder with reuters/, xinhua/ and cgtn/ subfolders (default: the configured "
        "[sources.*]; without any, the bundled sample inbox)",
    )
    _common(p)

    p = sub.add_parser(
        "ingest", help="ingest files, folders or feed URLs for one source (no dedup)"
    )
    p.add_argument(
        "--source",
        required=True,
        metavar="NAME",
        help="a configured [sources.NAME] or any label (reuters, xinhua, cgtn, ...)",
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH_OR_URL",
        help="files, folders or http(s) feed URLs; none: the source's configured ones",
    )
    _common(p)

    p = sub.add_parser("dedup", help="sign, verify, cluster and publish pending articles")
    _common(p)

    p = sub.add_parser("export", help="export results as JSON Lines")
    p.add_argument("what", choices=["stories"], help="what to export")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    _common(p)

    p = sub.add_parser("explain", help="tell the story of one item: versions, edges, merge")
    p.add_argument(
        "item_key",
        metavar="ITEM",
        help="an item key (reuters:tag:reuters.com,2026:newsml_L1N3CU0QQ), its bare id "
        "(L1N3CU0QQ) or a story (s6: its canonical)",
    )
    _common(p)

    p = sub.add_parser("quarantine", help="list quarantined payloads and items with reasons")
    p.add_argument(
        "--limit", type=int, default=50, metavar="N", help="show at most N (default: %(default)s)"
    )
    _common(p)

    p = sub.add_parser("requeue", help="re-parse quarantined payloads (after a parser fix)")
    p.add_argument("--payload", type=int, metavar="ID", help="only this payload id")
    _common(p)

    p = sub.add_parser(
        "eval", help="run the pipeline on a labelled inbox and score it against its truth"
    )
    p.add_argument("--inbox", metavar="DIR", help="labelled inbox folder")
    p.add_argument("--truth", metavar="FILE", help="truth.jsonl of the inbox")
    p.add_argument(
        "--record-only",
        action="store_true",
        help="only check the merged records of the database as it is (no inbox, no labels)",
    )
    p.add_argument(
        "--negatives",
        metavar="FILE",
        help="hard negatives (default: negatives.jsonl next to the truth file)",
    )
    p.add_argument("--pred-out", metavar="FILE", help="also write the exported stories here")
    p.add_argument(
        "--show",
        type=int,
        default=5,
        metavar="N",
        help="how many worst false merges and splits to explain (default 5)",
    )
    _common(p)

    p = sub.add_parser("migrate", help="apply database migrations and exit")
    _common(p)

    p = sub.add_parser("db", help="print where the database is (and its URL)")
    _common(p)

    p = sub.add_parser(
        "dashboard", help="serve the operator dashboard in a browser (no Airflow needed)"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument("--port", type=int, default=8090, help="port (default: %(default)s)")
    p.add_argument(
        "--root-path",
        default="",
        metavar="PATH",
        help="URL prefix a proxy serves the dashboard under (and strips), e.g. /dedup",
    )
    p.add_argument("--user", help="name recorded with operator actions (default: your login name)")
    p.add_argument(
        "--read-only", action="store_true", help="show everything, allow no split/merge/re-queue"
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a name this dashboard is reached by besides 127.0.0.1/localhost (repeatable); "
        "requests for any other Host are refused",
    )
    p.add_argument(
        "--airflow-url",
        metavar="URL",
        help="the Airflow UI whose DAG runs and task logs batches and stages link to, "
        "e.g. http://127.0.0.1:8080",
    )
    _common(p)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if not args.command:
            build_parser().print_help(sys.stderr)
            return EXIT_USAGE
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        settings = load_settings(
            database_url=args.database_url, data_dir=args.data_dir, config_file=args.config
        )
        from pipeline.sources.prepare import configure_limits
        from pipeline.store.connect import configure

        configure(settings.database)
        configure_limits(settings.limits)
        return COMMANDS[args.command](args, settings)
    except UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("newsdedup: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except UserError as e:
        print(f"newsdedup: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # the one place that turns unexpected errors into an exit code
        from pipeline.store.connect import lost_connection

        if lost_connection(e):
            print(
                "newsdedup: error: lost the database connection (server restarted or "
                f"stopped?): {str(e).strip().splitlines()[0] if str(e).strip() else e!r}; "
                "a re-run continues where this one stopped",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if getattr(e, "sqlstate", None) in _TIMEOUTS:
            print(
                f"newsdedup: error: {_TIMEOUTS[e.sqlstate]} ([database] in newsdedup.toml): "
                + str(e).splitlines()[0],
                file=sys.stderr,
            )
            return EXIT_USAGE
        if debug:
            raise
        print(
            f"newsdedup: internal error: {type(e).__name__}: {e}".splitlines()[0]
            + " (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


# --- commands --------------------------------------------------------------------------------


def _open(settings: Settings):
    from pipeline.store.connect import resolve_url
    from pipeline.store.store import Store

    url = resolve_url(settings)
    return Store.open(url), url


def _where(settings: Settings, url: str) -> str:
    from pipeline.store.connect import describe

    if settings.database_url:
        return describe(url)
    return f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}"


class _Progress:
    """Progress lines on stderr for long work: at most every 5 s, only for big jobs."""

    def __init__(self, min_total: int = 2000):
        self.min_total = min_total
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if total < self.min_total:
            return
        now = time.monotonic()
        if done < total and now - self.last < 5:
            return
        self.last = now
        print(f"  {stage}: {done}/{total} ({100 * done // max(total, 1)}%)", file=sys.stderr)


def cmd_run(args, settings: Settings) -> int:
    from pipeline.config import with_inbox
    from pipeline.stages import run

    sources = tuple(s for s in settings.sources if s.folders or s.urls)
    if args.inbox or not sources:
        inbox = Path(args.inbox).expanduser() if args.inbox else SAMPLE_INBOX
        if inbox.exists() and not inbox.is_dir():
            raise ConfigError(
                f"{inbox} is not a folder: --inbox takes a folder with reuters/, xinhua/ "
                "or cgtn/ subfolders"
            )
        if not inbox.is_dir():
            raise ConfigError(f"inbox folder not found: {inbox}")
        if not any((inbox / s).is_dir() for s in ("reuters", "xinhua", "cgtn")):
            raise ConfigError(f"{inbox} has none of the reuters/, xinhua/, cgtn/ subfolders")
        sources = with_inbox(sources, inbox)
        what = str(inbox) + (" and the configured sources" if settings.sources else "")
    else:
        what = "configured sources " + ", ".join(s.name for s in sources)
    store, url = _open(settings)
    with store:
        print(f"newsdedup run: {what} -> {_where(settings, url)}")
        summaries = run.sources(store, sources, settings.dedup, progress=_Progress())
        code = _report(store, summaries)
        from pipeline.report import next_steps

        print(next_steps(store, _prog(), _db_flags(args)))
        return code


def _prog() -> str:
    """How the person called us, for commands we suggest (.venv/bin/newsdedup...)."""
    argv0 = Path(sys.argv[0])
    if argv0.name != "newsdedup":
        return "newsdedup"
    with contextlib.suppress(ValueError):
        return os.path.relpath(argv0) if argv0.resolve().is_relative_to(Path.cwd()) else argv0.name
    return argv0.name


def _db_flags(args) -> str:
    """The database options given, repeated in suggested commands."""
    flags = ""
    for opt, value in (("--database-url", args.database_url), ("--data-dir", args.data_dir)):
        if value:
            flags += f" {opt} {shlex.quote(value)}"
    return flags


def _report(store, summaries) -> int:
    from pipeline.report import render_report

    text, quarantined = render_report(store, summaries)
    print(text)
    failed = sum(s.counts.get("fetch_failed", 0) for s in summaries)
    return EXIT_QUARANTINED if quarantined or failed else EXIT_OK


def cmd_ingest(args, settings: Settings) -> int:
    from pipeline.config import SourceConfig
    from pipeline.sources import collect
    from pipeline.stages import ingest

    source = settings.source(args.source) or SourceConfig(name=args.source)
    paths: list[Path] = []
    urls: list[str] = []
    for raw in args.paths:
        if collect.is_url(raw):
            try:
                collect.check_url(raw)
            except ValueError as e:
                raise ConfigError(str(e)) from None
            urls.append(raw)
            continue
        p = Path(raw).expanduser()
        if not (p.is_dir() or p.is_file()):
            raise ConfigError(f"no such file or folder: {raw}")
        paths.append(p)
    if not args.paths and not (source.folders or source.urls):
        raise ConfigError(
            f"nothing to ingest for {args.source}: give files, folders or URLs, or configure "
            f"[sources.{args.source}] folders/urls"
        )
    if args.paths:  # what the command line names, with the source's fetch settings
        source = SourceConfig(
            name=source.name,
            timeout_s=source.timeout_s,
            retries=source.retries,
            backoff_s=source.backoff_s,
        )
    store, _url = _open(settings)
    with store:
        s = ingest.ingest_source(store, source, paths, urls, progress=_Progress())
        c = s.counts
        unchanged = c.get("unchanged", 0)
        print(
            f"ingested {c['files']} payload(s) for {args.source}: {c['payloads_new']} new "
            f"payload(s), {c['items_new']} new item(s), {c['items_updated']} updated, "
            f"{c['killed']} killed, {c['quarantined']} quarantined"
            + (f"; {unchanged} file(s) unchanged since last time" if unchanged else "")
        )
        if c.get("fetched"):
            print(
                f"feeds: {c['fetched']} polled, {c.get('not_modified', 0)} not modified, "
                f"{c.get('fetch_failed', 0)} failed"
            )
        for err in c.get("fetch_errors", []):
            print(f"  cannot fetch {err}", file=sys.stderr)
        code = EXIT_OK
        if c["quarantined"]:
            print(f"{c['quarantined']} quarantined: see `newsdedup quarantine` for the reasons")
            code = EXIT_QUARANTINED
        if c.get("fetch_failed"):
            code = EXIT_QUARANTINED
    return code


def cmd_dedup(args, settings: Settings) -> int:
    from pipeline.stages import run

    store, _ = _open(settings)
    with store:
        return _report(store, run.dedup(store, settings.dedup, progress=_Progress()))


def cmd_export(args, settings: Settings) -> int:
    from pipeline.report import export_stories

    store, _ = _open(settings)
    with store, contextlib.ExitStack() as stack:
        out = (
            stack.enter_context(open(args.output, "w", encoding="utf-8"))
            if args.output
            else sys.stdout
        )
        n = 0
        for rec in export_stories(store):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    if args.output:
        print(f"wrote {n} stories to {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_explain(args, settings: Settings) -> int:
    from pipeline.report import explain, resolve_item

    store, _ = _open(settings)
    with store:
        text = explain(store, resolve_item(store, args.item_key))
    if text is None:
        raise ConfigError(f"no item {args.item_key!r} in the store")
    print(text)
    return EXIT_OK


def cmd_quarantine(args, settings: Settings) -> int:
    store, _ = _open(settings)
    with store:
        rows = store.ingest.open_quarantine(args.limit)
        total = store.ingest.count_open_quarantine()
    if not rows:
        print("nothing is quarantined")
        return EXIT_OK
    print(
        f"{total} open quarantine entr{'y' if total == 1 else 'ies'}"
        + (f" (showing {len(rows)}; `--limit N` shows more)" if total > len(rows) else "")
    )
    for r in rows:
        what = r["item_key"] or "whole payload"
        print(
            f"  #{r['payload_id']} {r['source']} {r['origin']}\n"
            f"      at {r['stage']}, {what}: {r['reason']}"
        )
    print(
        "after a fix, `newsdedup requeue` (or `--payload ID`) parses a payload again, or puts "
        "an article a dedup stage quarantined back in the queue of the next batch"
    )
    return EXIT_OK


def cmd_requeue(args, settings: Settings) -> int:
    from pipeline.stages import maintenance

    store, _ = _open(settings)
    with store:
        c = maintenance.requeue(store, args.payload).counts
        print(
            f"requeued {c['requeued']} quarantined payload(s); re-parsed {c['payloads']}: "
            f"{c['items_new']} new item(s), {c['items_updated']} updated, "
            f"{c['quarantined']} quarantined again"
        )
        if c["paths_reread"]:
            print(
                f"read {c['paths_reread']} unreadable file(s) or folder(s) again from disk"
                + (f"; {c['paths_gone']} no longer there" if c["paths_gone"] else "")
            )
        if c["articles_pending"]:
            print(
                f"{c['articles_pending']} article(s) a dedup stage quarantined are pending "
                "again: `newsdedup dedup` processes them"
            )
        return EXIT_QUARANTINED if c["quarantined"] else EXIT_OK


def cmd_eval(args, settings: Settings) -> int:
    """Run on a throwaway embedded database (unless --database-url), score, explain."""
    import dataclasses
    import shutil
    import tempfile

    from pipeline.evaluate import evaluate
    from pipeline.report import explain_errors, export_stories, read_jsonl
    from pipeline.stages import run
    from pipeline.store.connect import stop_embedded

    if args.record_only:
        return _record_only(settings)
    if not (args.inbox and args.truth):
        raise UsageError("newsdedup eval: needs --inbox and --truth (or --record-only)")
    inbox, truth_path = Path(args.inbox).expanduser(), Path(args.truth).expanduser()
    if not inbox.is_dir():
        raise ConfigError(f"inbox folder not found: {inbox}")
    truth = {r["item"]: r for r in read_jsonl(truth_path, required=("item", "story"))}
    neg_path = Path(args.negatives) if args.negatives else truth_path.parent / "negatives.jsonl"
    negatives = list(read_jsonl(neg_path)) if (args.negatives or neg_path.exists()) else []
    scratch = None
    if not settings.database_url:
        scratch = Path(tempfile.mkdtemp(prefix="nd-eval-"))
        settings = dataclasses.replace(settings, data_dir=scratch)
    try:
        store, url = _open(settings)
        with store:
            print(f"newsdedup eval: {inbox} -> {_where(settings, url)}", file=sys.stderr)
            summaries = run.inbox(store, inbox, settings.dedup, progress=_Progress())
            stories = list(export_stories(store))
            if args.pred_out:
                with open(args.pred_out, "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in stories)
            report = evaluate(truth, stories, negatives)
            print(explain_errors(store, report, truth, args.show))
            _print_record_check(store, stories)
            seconds = sum(s.seconds for s in summaries)
            print(f"pipeline time {seconds:.1f}s")
            print(report.summary())
    finally:
        if scratch is not None:
            stop_embedded(scratch)
            shutil.rmtree(scratch, ignore_errors=True)
    return EXIT_OK


def _print_record_check(store, stories: list[dict]) -> None:
    from pipeline.evaluate import record_check, record_misses

    check = record_check(stories, store.report.record_members())
    print("\n".join(check.lines()))
    missed = record_misses(check)
    print("record targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))


def _record_only(settings: Settings) -> int:
    from pipeline.report import export_stories

    store, url = _open(settings)
    with store:
        print(f"newsdedup eval --record-only: {_where(settings, url)}", file=sys.stderr)
        _print_record_check(store, list(export_stories(store)))
    return EXIT_OK


def cmd_migrate(args, settings: Settings) -> int:
    from pipeline.store import migrate
    from pipeline.store.connect import connect, resolve_url

    url = resolve_url(settings)
    with connect(url) as conn:
        done = migrate.migrate(conn)
    print(
        f"{_where(settings, url)}: applied {len(done)} migration(s)"
        + (": " + ", ".join(m.path.name for m in done) if done else "; schema is current")
    )
    return EXIT_OK


def cmd_db(args, settings: Settings) -> int:
    from pipeline.store.connect import resolve_url

    url = resolve_url(settings)
    print(_where(settings, url))
    print(url)
    return EXIT_OK


def cmd_dashboard(args, settings: Settings) -> int:
    import socket

    import uvicorn

    from pipeline.dashboard.app import create_app
    from pipeline.dashboard.auth import LocalAuth, login_name
    from pipeline.dashboard.guard import HostOriginGuard
    from pipeline.store.connect import resolve_url

    if not 0 < args.port < 65536:
        raise UsageError(f"newsdedup dashboard: --port must be 1-65535, not {args.port}")
    root = args.root_path.rstrip("/")
    if root and not root.startswith("/"):
        raise UsageError("newsdedup dashboard: --root-path must start with /")
    # fail now, in one line, rather than on the first page view
    url = resolve_url(settings)
    store, _ = _open(settings)
    store.close()
    with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, args.port))
        except OSError as e:
            raise ConfigError(f"cannot listen on {args.host}:{args.port}: {e.strerror}") from None
    airflow_url = None
    if args.airflow_url:
        from pipeline.dashboard.links import check_base

        try:
            airflow_url = check_base(args.airflow_url)
        except ValueError as e:
            raise UsageError(f"newsdedup dashboard: {e}") from None
    user = args.user or login_name()
    auth = LocalAuth(user, can_edit=not args.read_only)
    app = create_app(settings, auth=auth, airflow_url=airflow_url)
    listening = [] if args.host in ("0.0.0.0", "::", "") else [args.host]
    app.add_middleware(HostOriginGuard, allowed_hosts=[*listening, *args.allow_host])
    print(
        f"newsdedup dashboard: {_where(settings, url)}\n"
        f"  http://{args.host}:{args.port}{root}/  (actions recorded as {user!r}"
        + (", read-only" if args.read_only else "")
        + "; Ctrl-C stops it)",
        flush=True,
    )
    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.read_only:
        print(
            "  warning: no sign-in here: anyone who can reach this address can split and "
            "merge stories as that user (use --read-only, or the Airflow plugin)",
            file=sys.stderr,
        )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        root_path=root,
        log_level="info" if args.verbose else "warning",
        access_log=args.verbose,
    )
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "ingest": cmd_ingest,
    "dedup": cmd_dedup,
    "export": cmd_export,
    "explain": cmd_explain,
    "quarantine": cmd_quarantine,
    "requeue": cmd_requeue,
    "eval": cmd_eval,
    "migrate": cmd_migrate,
    "db": cmd_db,
    "dashboard": cmd_dashboard,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
