"""Links into the Airflow UI: built from the ids a run keeps, quoted, absent without them."""

import pytest

from pipeline.dashboard import links


def test_dag_run_and_task_log_paths():
    base = "http://127.0.0.1:8080/"
    run = "scheduled__2026-06-11T14:20:00+00:00"
    assert links.dag_run(base, "newsdedup_dedup", run) == (
        "http://127.0.0.1:8080/dags/newsdedup_dedup/runs/scheduled__2026-06-11T14%3A20%3A00%2B00%3A00"
    )
    assert links.task_log("/", "newsdedup_dedup", "m1", "sign", 2) == (
        "/dags/newsdedup_dedup/runs/m1/tasks/sign/mapped/2"
    )
    assert (
        links.task_log("/airflow", "d", "r", "publish", None)
        == "/airflow/dags/d/runs/r/tasks/publish"
    )
    assert links.task_log("/", "d", "r/x", "t", -1) == "/dags/d/runs/r%2Fx/tasks/t"


@pytest.mark.parametrize(
    "args",
    [(None, "d", "r"), ("/", None, "r"), ("/", "d", None), ("/", "d", "")],
)
def test_no_link_without_an_airflow_run_or_base(args):
    assert links.dag_run(*args) is None
    assert links.task_log(*args, "t") is None
    assert links.task_log("/", "d", "r", None) is None


def test_airflow_url_option_is_checked():
    assert links.check_base("http://host:8080/") == "http://host:8080"
    assert links.check_base("/airflow/") == "/airflow"
    for bad in ("host:8080", "ftp://x", "//evil", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="--airflow-url"):
            links.check_base(bad)
