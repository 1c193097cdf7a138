"""docker/: checked statically (no Docker engine runs where this is developed)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

yaml = pytest.importorskip("yaml")

DOCKER = ROOT / "docker"
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))


def _pinned_airflow() -> str:
    lock = (ROOT / "requirements" / "all.lock").read_text(encoding="utf-8")
    return re.search(r"^apache-airflow==(\S+)$", lock, re.M).group(1)


def test_dockerfile_builds_on_the_pinned_official_image():
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms == [f"apache/airflow:{_pinned_airflow()}"]
    # everything it copies exists, and the .dockerignore lets it through
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    for line in re.findall(r"^COPY\s+(?:--\S+\s+)*(.+)$", text, re.M):
        *sources, _dest = line.split()
        for src in sources:
            assert (ROOT / src).exists(), src
            assert f"!{src}" in ignore or f"!{src}/**" in ignore, src
    assert 'pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}"' in text
    assert "NEWSDEDUP_SQL_DIR=/opt/newsdedup/sql" in text
    assert "/opt/airflow/dags" in text


def test_compose_has_the_services_of_a_celery_deployment(compose):
    services = compose["services"]
    assert set(services) >= {
        "postgres",
        "newsdedup-db",
        "redis",
        "airflow-init",
        *AIRFLOW_SERVICES,
    }
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["newsdedup-db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name, command in AIRFLOW_SERVICES.items():
        svc = services[name]
        assert svc["command"] == command, name
        assert svc["build"]["dockerfile"] == "docker/Dockerfile", name
        assert (DOCKER / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file()
        assert "healthcheck" in svc, name
        deps = svc["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        for dep in deps:
            assert dep in services, (name, dep)
    assert services["airflow-worker"]["deploy"]["replicas"] >= 2


def test_compose_wires_executor_broker_databases_and_inbox(compose):
    services = compose["services"]
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:@redis:6379"), name
        assert "@postgres/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert "@postgres/airflow" in env["AIRFLOW__CELERY__RESULT_BACKEND"], name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith(
            "http://airflow-apiserver:8080/"
        ), name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"], name  # one secret for every component
        assert "@newsdedup-db:5432/newsdedup" in env["AIRFLOW_CONN_NEWSDEDUP_DB"], name
        assert env["NEWSDEDUP_INBOX"] == "/data/inbox", name
        mounts = services[name]["volumes"]
        assert any(m.endswith(":/data/inbox:ro") for m in mounts), name
    # the default inbox mount is the sample inbox of this checkout
    inbox = next(m for m in services["airflow-worker"]["volumes"] if ":/data/inbox" in m)
    default = re.match(r"\$\{NEWSDEDUP_INBOX_DIR:-([^}]+)\}", inbox).group(1)
    assert (DOCKER / default / "reuters").is_dir()
    init_env = services["airflow-init"]["environment"]
    assert init_env["_AIRFLOW_DB_MIGRATE"] == "true"
    # the pipeline's schema and pool, once, through the connection (tasks only check it)
    assert "python -m pipeline.airflow_db init --pool" in " ".join(
        services["airflow-init"]["command"]
    )
    assert set(compose["volumes"]) >= {"airflow-db", "newsdedup-db"}


def test_every_service_gets_the_same_connection_and_none_can_fall_back(compose):
    """One database: every service that runs the image (tasks, the dashboard inside the
    api-server, init) resolves the same connection newsdedup_db, and none is given a way
    to another database: no NEWSDEDUP_DATABASE_URL / NEWSDEDUP_DATA_DIR anywhere."""
    services = compose["services"]
    image_services = [n for n, svc in services.items() if "build" in svc]
    assert set(image_services) >= {*AIRFLOW_SERVICES, "airflow-init", "flower"}
    conns = {services[n]["environment"].get("AIRFLOW_CONN_NEWSDEDUP_DB") for n in image_services}
    assert len(conns) == 1 and None not in conns
    (conn,) = conns
    assert conn.startswith("postgresql://") and "@newsdedup-db:5432/newsdedup" in conn
    for name, svc in services.items():
        env = svc.get("environment") or {}
        assert not {"NEWSDEDUP_DATABASE_URL", "NEWSDEDUP_DATA_DIR"} & set(env), name
    # and the code inside Airflow has no fallback to fall back to: it resolves the
    # connection only (the embedded server is the standalone CLI's)
    inside = [ROOT / "pipeline" / "airflow_db.py", ROOT / "pipeline" / "dashboard" / "plugin.py"]
    inside += sorted((ROOT / "dags").glob("*.py"))
    for f in inside:
        text = f.read_text(encoding="utf-8")
        for word in ("resolve_url", "embedded_url", "NEWSDEDUP_DATABASE_URL", "pgserver"):
            assert word not in text, (f.name, word)


def test_docker_compose_config_when_the_client_can():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the docker client has no compose plugin here")
    got = subprocess.run(
        [docker, "compose", "-f", str(DOCKER / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert got.returncode == 0, got.stderr
