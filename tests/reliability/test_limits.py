"""B4: an item over a limit (a 1.2 MB headline, a million paragraphs) is quarantined at
ingest with the limit as its reason; the batch and every later run go on."""

from __future__ import annotations

import random
import shutil

import pytest

from pipeline.config import Limits
from pipeline.sources.prepare import prepare_payload
from tests.conftest import SAMPLE_INBOX
from tests.reliability.common import export, nd

CGTN = "{headline}\nUpdated 23:40, 11-Jun-2026\nCGTN\n[]\n{body}\n"
RSS = (
    '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Xinhua</title>'
    "<item><title>{headline}</title><link>http://english.news.cn/2026-06/14/c_{n}.htm</link>"
    "<description>&lt;p&gt;{body}&lt;/p&gt;</description>"
    "<pubDate>Sun, 14 Jun 2026 04:40:00 +0800</pubDate><guid>c_{n}</guid></item>"
    "</channel></rss>"
)


def _words(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return " ".join(f"w{rng.getrandbits(40):x}" for _ in range(n))


def test_b4_a_huge_headline_is_quarantined_and_later_runs_publish(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX, inbox)
    headline = _words(100_000)  # ~1.2 MB of distinct words: over the tsvector limit
    body = "Copper output at the mines fell in May, the commission said on Thursday. " * 3
    (inbox / "xinhua" / "feed-huge.xml").write_text(RSS.format(headline=headline, body=body, n=1))
    r = nd("run", "--inbox", str(inbox), "--database-url", db_url)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "quarantined: 1" in r.stdout
    q = nd("quarantine", "--database-url", db_url)
    assert "over the limit of 2000 ([limits] headline_chars)" in q.stdout
    # nothing stays blocked: a later run over more news publishes it
    (inbox / "xinhua" / "feed-small.xml").write_text(
        RSS.format(headline="Copper mines reopen after the rain", body=body, n=2)
    )
    r = nd("run", "--inbox", str(inbox), "--database-url", db_url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert any("Copper mines reopen" in line for line in export(db_url))


@pytest.mark.slow
def test_b4_a_million_tiny_paragraphs_are_refused_within_300_mb(tmp_path):
    """Parsed in a child process whose peak memory is measured."""
    import subprocess
    import sys

    from tests.reliability.common import env

    f = tmp_path / "many.txt"
    f.write_text(CGTN.format(headline="Many", body="\n\n".join(["a b."] * 1_000_000)))
    script = (
        "import sys\n"
        "from pipeline.sources.prepare import prepare_payload\n"
        "body = open(sys.argv[1], 'rb').read()\n"
        "pp = prepare_payload(1, body, 'cgtn', sys.argv[1])\n"
        "print(len(pp.items), pp.problems[0].reason if pp.problems else '')\n"
        # VmHWM: this program's peak (ru_maxrss would count the forked test process too)
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) // 1024)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", script, str(f)],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    verdict, peak_mb = r.stdout.splitlines()
    assert verdict.startswith("0 ") and "([limits] paragraphs)" in verdict, verdict
    assert int(peak_mb) < 300, f"peak {peak_mb} MB"


def test_limits_are_configurable():
    body = CGTN.format(headline="A headline of some length", body="One. Two.\n\nThree.")
    pp = prepare_payload(1, body.encode(), "cgtn", "x.txt", limits=Limits(headline_chars=10))
    assert not pp.items and "headline of 25 characters" in pp.problems[0].reason
