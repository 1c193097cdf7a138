"""The command guides a person: what to type next, what a count means, what they meant."""

import shlex
import shutil

import pytest

from pipeline.cli import main
from tests.conftest import ROOT, SAMPLE_INBOX

pytestmark = pytest.mark.integration
COPPER = "reuters:tag:reuters.com,2026:newsml_L1N3CU0QQ"


def nd(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sample(db_url, capsys):
    code, out, _ = nd(capsys, "run", "--inbox", str(SAMPLE_INBOX), "--database-url", db_url)
    assert code == 0
    return db_url, out


def test_run_report_suggests_next_steps_with_the_same_database(sample, capsys):
    db_url, out = sample
    steps = out.split("next:", 1)[1]
    assert "explain s" in steps and "export stories" in steps and "dashboard" in steps
    assert steps.count(f"--database-url {shlex.quote(db_url)}") == 3
    # the suggested explain works as printed
    sid = steps.split("explain s", 1)[1].split()[0]
    code, text, _ = nd(capsys, "explain", f"s{sid}", "--database-url", db_url)
    assert code == 0 and text.startswith(COPPER) and "4 members" in text


@pytest.mark.parametrize("ref", ["s{sid}", "L1N3CU0QQ", COPPER])
def test_explain_takes_a_story_or_a_bare_id(sample, capsys, ref):
    db_url, out = sample
    sid = out.split("explain s", 1)[1].split()[0]
    code, text, err = nd(capsys, "explain", ref.format(sid=sid), "--database-url", db_url)
    assert code == 0, err
    assert text.splitlines()[0] == COPPER


def test_explain_refuses_unknown_and_ambiguous_refs_in_one_line(sample, capsys):
    db_url, _ = sample
    for ref, said in (("s99999", "no story s99999"), ("ZZZ404", "its id L1N3CU0QQ")):
        code, _, err = nd(capsys, "explain", ref, "--database-url", db_url)
        assert code == 2 and said in err and len(err.strip().splitlines()) == 1
    # "TK" ends both Japan power items' keys only as part of a longer id: no match at all
    code, _, err = nd(capsys, "explain", "0TK", "--database-url", db_url)
    assert code == 2 and "no item" in err


def test_dedup_after_a_quarantining_ingest_says_what_its_zero_means(db_url, tmp_path, capsys):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INBOX / "xinhua", inbox)
    (inbox / "bad.xml").write_bytes(b"<rss><channel><item>")
    code, out, _ = nd(capsys, "ingest", "--source", "xinhua", str(inbox), "--database-url", db_url)
    assert code == 1 and "1 quarantined" in out
    code, out, _ = nd(capsys, "dedup", "--database-url", db_url)
    assert code == 0
    assert "quarantined: none by this run" in out
    assert "1 open entry from earlier ingests" in out and "newsdedup quarantine" in out


def test_quarantine_names_the_limit_option(db_url, tmp_path, capsys):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(3):
        (inbox / f"bad{n}.xml").write_bytes(b"<rss><channel><item>%d" % n)
    nd(capsys, "ingest", "--source", "xinhua", str(inbox), "--database-url", db_url)
    code, out, _ = nd(capsys, "quarantine", "--limit", "2", "--database-url", db_url)
    assert code == 0 and "3 open quarantine entries (showing 2; `--limit N` shows more)" in out


def test_a_mistyped_command_gets_a_suggestion(capsys):
    code, _, err = nd(capsys, "expalin", "s6")
    assert code == 2 and "did you mean 'explain'?" in err
    code, _, err = nd(capsys, "zzzz")
    assert code == 2 and "did you mean" not in err


def test_inbox_that_is_a_file_is_not_a_folder(db_url, capsys):
    code, _, err = nd(capsys, "run", "--inbox", str(ROOT / "README.md"), "--database-url", db_url)
    assert code == 2 and "is not a folder" in err and "not found" not in err


def test_dashboard_refuses_a_malformed_airflow_url(db_url, capsys):
    code, _, err = nd(capsys, "dashboard", "--airflow-url", "host:8080", "--database-url", db_url)
    assert code == 2 and "--airflow-url must be http(s)://" in err


def test_explain_a_story_merged_into_another_tells_the_one_that_holds_it(sample, capsys):
    from pipeline.config import load_settings
    from pipeline.stages import overrides
    from pipeline.store.store import Store

    db_url, _ = sample
    with Store.open(db_url) as store:
        one, two = (
            store.dashboard.story_of_article_key(k)
            for k in (
                "reuters:tag:reuters.com,2026:newsml_L4N3CV0TK",
                "reuters:tag:reuters.com,2026:newsml_L4N3CY0TK",
            )
        )
        out = overrides.merge(store, load_settings().dedup, one, two, "desk", "one report")
    gone = two if out.story_id == one else one
    code, text, err = nd(capsys, "explain", f"s{gone}", "--database-url", db_url)
    assert code == 0, err
    assert f"story s{out.story_id} (3 members)" in text
