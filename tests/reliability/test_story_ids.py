"""Story and caption-group ids are what operators, links and exports name: a publish that
dies after taking its ids (a kill, a lost connection) must leave no gap, so that its
re-run publishes the very ids an undisturbed run publishes, not the next ones."""

from __future__ import annotations

import psycopg
import pytest

from pipeline import cli
from pipeline.store.stories import Stories
from tests.conftest import SAMPLE_INBOX
from tests.reliability.common import export


@pytest.fixture(autouse=True)
def _default_limits():
    from pipeline.config import Limits
    from pipeline.sources.prepare import configure_limits

    yield
    configure_limits(Limits())  # a run in this process set them from its configuration


def test_a_publish_that_dies_after_taking_its_ids_leaves_no_gap(
    databases, migrated_template, db_url, monkeypatch, capsys
):
    clean = databases.create(template=migrated_template)
    assert cli.main(["run", "--inbox", str(SAMPLE_INBOX), "--database-url", clean]) == 0
    want = export(clean)
    assert any('"group": "g' in line for line in want)  # caption groups are compared too

    real = Stories.publish

    def dies_after_writing(self, batch_id, layout):
        real(self, batch_id, layout)  # every id taken, every row written ...
        # ... then the connection is lost: the transaction is rolled back
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Stories, "publish", dies_after_writing)
    code = cli.main(["run", "--inbox", str(SAMPLE_INBOX), "--database-url", db_url])
    assert code not in (cli.EXIT_OK, cli.EXIT_QUARANTINED)
    assert "server closed the connection" in capsys.readouterr().err
    assert export(db_url) == []

    monkeypatch.undo()
    assert cli.main(["dedup", "--database-url", db_url]) == cli.EXIT_OK
    assert export(db_url) == want  # the same stories under the same ids
