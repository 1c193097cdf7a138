"""Feed URLs against a local HTTP server on 127.0.0.1 (never the internet): conditional
requests, the cursor in Postgres, retries with backoff, timeouts, gzip, oversize bodies,
and the CLI."""

import contextlib
import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.config import SourceConfig
from pipeline.sources import collect
from pipeline.stages import ingest
from tests.conftest import FIXTURES, table_counts
from tests.integration.test_cli import nd

RSS = (FIXTURES / "formats" / "rss_feed.xml").read_bytes()
PAGE = (FIXTURES / "formats" / "cgtn_page.html").read_bytes()
# the fixture feed without its title-only item, which is (rightly) quarantined
CLEAN = RSS[: RSS.index(b"<item>", RSS.index(b"</item>"))] + b"</channel></rss>"


class Route:
    def __init__(
        self, body=RSS, etag=None, last_modified=None, fail=(), delay=0.0, gz=False, location=None
    ):
        self.location = location  # answer 302 to there
        self.body = body
        self.etag = etag
        self.last_modified = last_modified
        self.fail = list(fail)  # statuses to answer first, one per request
        self.delay = delay
        self.gz = gz


class Server:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                outer.log.append((self.path, dict(self.headers)))
                r = outer.routes.get(self.path)
                if r is None:
                    self.send_error(404)
                    return
                if r.location:
                    self.send_response(302)
                    self.send_header("Location", r.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if r.fail:
                    status = r.fail.pop(0)
                    self.send_response(status)
                    if status == 503:
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if r.delay:
                    time.sleep(r.delay)
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (r.etag and inm == r.etag) or (r.last_modified and ims == r.last_modified):
                    self.send_response(304)
                    self.end_headers()
                    return
                body = gzip.compress(r.body) if r.gz else r.body
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                if r.gz:
                    self.send_header("Content-Encoding", "gzip")
                if r.etag:
                    self.send_header("ETag", r.etag)
                if r.last_modified:
                    self.send_header("Last-Modified", r.last_modified)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)  # the client may have given up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, **kw) -> str:
        self.routes[path] = Route(**kw)
        return self.base + path

    def hits(self, path: str) -> list[dict]:
        return [h for p, h in self.log if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def poll(store, url, **cfg):
    src = SourceConfig(name="xinhua", urls=(url,), **{"backoff_s": 0.01, **cfg})
    return ingest.ingest_urls(store, src).counts


@pytest.mark.parametrize(
    ("validators", "header"),
    [
        ({"etag": '"v1"'}, "If-None-Match"),
        ({"last_modified": "Sat, 07 Mar 2026 01:00:00 GMT"}, "If-Modified-Since"),
    ],
)
def test_conditional_requests_fetch_nothing_twice(store, server, validators, header):
    url = server.url("/feed.xml", **validators)
    first = poll(store, url)
    assert first["payloads_new"] == 1 and first["items_new"] == 1
    snap = table_counts(store)
    second = poll(store, url)
    assert second["not_modified"] == 1 and second["files"] == 0
    assert table_counts(store) == snap
    assert header in server.hits("/feed.xml")[1]  # the cursor's validator was sent
    cur = store.collect.cursor("xinhua", url)
    assert cur["last_status"] == "304" and cur["failures"] == 0


def test_server_without_validators_sends_the_same_bytes_which_are_not_stored(store, server):
    url = server.url("/plain.xml")
    poll(store, url)
    snap = table_counts(store)
    again = poll(store, url)
    assert again["not_modified"] == 1 and again["files"] == 0
    assert table_counts(store) == snap
    # a changed feed is new
    server.routes["/plain.xml"].body = RSS.replace(b"rose 8 percent", b"rose 9 percent")
    third = poll(store, url)
    assert third["payloads_new"] == 1 and third["items_updated"] == 0
    # same guid and pubDate with new text is a conflict; the title-only item is refused again
    assert third["quarantined"] == 2


def test_retries_with_backoff_then_success(store, server):
    url = server.url("/flaky.xml", fail=[503, 502], etag='"e"')
    c = poll(store, url, retries=3)
    assert c["payloads_new"] == 1 and not c.get("fetch_failed")
    assert len(server.hits("/flaky.xml")) == 3


def test_failures_are_counted_not_raised(store, server):
    url = server.url("/down.xml", fail=[500] * 10)
    c = poll(store, url, retries=2)
    assert c["fetch_failed"] == 1 and "HTTP 500" in c["fetch_errors"][0]
    assert len(server.hits("/down.xml")) == 3  # first try + 2 retries
    missing = server.base + "/nope.xml"
    c = poll(store, missing, retries=5)
    assert c["fetch_failed"] == 1 and len(server.hits("/nope.xml")) == 1  # 404: no retry
    assert store.collect.cursor("xinhua", missing)["failures"] == 1
    assert table_counts(store)["payload"] == 0


def test_timeout_is_bounded(store, server):
    url = server.url("/slow.xml", delay=3.0)
    t0 = time.monotonic()
    c = poll(store, url, timeout_s=0.3, retries=1)
    assert time.monotonic() - t0 < 2.5
    assert c["fetch_failed"] == 1 and "timed out" in c["fetch_errors"][0]


def test_gzip_body_is_stored_decompressed(store, server):
    url = server.url("/gz.xml", gz=True)
    assert poll(store, url)["items_new"] == 1
    body = store.conn.execute("SELECT body FROM payload").fetchone()["body"]
    assert bytes(body) == RSS


def test_oversize_body_keeps_only_its_head(server):
    url = server.url("/big.xml", body=b"<rss>" + b" " * 200_000 + b"</rss>")
    f = collect.fetch(url, max_bytes=100_000)
    assert f.status == "new" and f.arrival.truncated
    assert f.arrival.size == 200_011 and len(f.arrival.body) == collect.HEAD_KEEP
    bomb = server.url("/bomb.xml", body=b"\0" * 5_000_000, gz=True)
    f = collect.fetch(bomb, max_bytes=100_000)
    assert f.arrival.truncated and len(f.arrival.body) == collect.HEAD_KEEP


def test_redirects_are_followed_to_http_only(server):
    target = server.url("/moved.xml")
    f = collect.fetch(server.url("/old.xml", location=target))
    assert f.status == "new" and f.arrival.body == RSS
    f = collect.fetch(server.url("/evil.xml", location="ftp://127.0.0.1/x"), retries=0)
    assert f.status == "failed" and "refused" in f.error


def test_only_http_urls():
    for bad in ("ftp://example.org/x", "file:///etc/passwd", "http:///nohost"):
        with pytest.raises(ValueError):
            collect.check_url(bad)


def test_cli_ingest_url_and_run_with_configured_feeds(db_url, server, tmp_path):
    feed = server.url("/cli.xml", etag='"c1"', body=CLEAN)
    r = nd("ingest", "--source", "xinhua", feed, "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    assert "1 new item(s)" in r.stdout and "feeds: 1 polled" in r.stdout
    r = nd("ingest", "--source", "xinhua", feed, "--database-url", db_url)
    assert r.returncode == 0 and "1 not modified" in r.stdout
    # `run` polls the configured URLs (and folders); a feed that fails makes it exit 1
    page = server.url("/news/2026-03-05-Pandas.html", body=PAGE)
    cfg = tmp_path / "newsdedup.toml"
    cfg.write_text(
        "[sources.xinhua]\n"
        f'urls = ["{feed}", "{server.base}/gone.xml"]\n'
        "retries = 0\n"
        "[sources.cgtn]\n"
        f'urls = ["{page}"]\n'
    )
    r = nd("run", "--config", str(cfg), "--database-url", db_url)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "configured sources xinhua, cgtn" in r.stdout
    assert "feeds: 3 polled, 1 not modified, 1 failed" in r.stdout
    assert "cannot fetch" in r.stdout and "HTTP 404" in r.stdout
    r = nd("export", "stories", "--database-url", db_url)
    assert "cgtn:2026-03-05-Pandas" in r.stdout
    # a URL the collector will not fetch, and a missing path: one line, exit 2
    for bad in ("ftp://127.0.0.1/feed", str(tmp_path / "missing")):
        r = nd("ingest", "--source", "xinhua", bad, "--database-url", db_url)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
