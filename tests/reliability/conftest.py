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
