import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def data_dir():
    """A data directory for an embedded server: a short path (its Unix socket path must stay
    under ~100 bytes) that the server's own system user may enter when tests run as root."""
    d = Path(tempfile.mkdtemp(prefix="ndr-"))
    yield d / "d"
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def generated_inbox(tmp_path_factory):
    """A generated wire inbox of a thousand articles (big enough that a run takes seconds
    and parses in worker processes), from the shared corpora."""
    from tests.conftest import SHARED, shared_or_skip

    shared_or_skip(SHARED / "corpora")
    from bench.make_corpus import generate, write_inbox

    inbox = tmp_path_factory.mktemp("gen") / "inbox"
    items, _ = generate(1000, 7)
    write_inbox(items, inbox)
    return inbox


@pytest.fixture(scope="session")
def clean_export(generated_inbox, databases, migrated_template) -> list[str]:
    """The stories of one undisturbed run over the generated inbox, exported."""
    from tests.reliability.common import export, nd

    db = databases.create(template=migrated_template)
    r = nd("run", "--inbox", str(generated_inbox), "--database-url", db)
    assert r.returncode == 0, r.stdout + r.stderr
    return export(db)
