"""Links from the dashboard into the Airflow UI: a batch to its DAG run, a stage run to its
task's log. Pure: builds paths of Airflow 3's UI from the ids a run row keeps (migration
0008) and the Airflow base URL; None when the run did not come from Airflow or no base is
known (the standalone dashboard without ``--airflow-url``)."""

from __future__ import annotations

from urllib.parse import quote


def _part(value: object) -> str:
    return quote(str(value), safe="")


def _base(base: str | None) -> str | None:
    if base is None:
        return None
    return base.rstrip("/")


def dag_run(base: str | None, dag_id: str | None, dag_run_id: str | None) -> str | None:
    """The DAG run's page: ``{base}/dags/{dag_id}/runs/{run_id}``."""
    root = _base(base)
    if root is None or not dag_id or not dag_run_id:
        return None
    return f"{root}/dags/{_part(dag_id)}/runs/{_part(dag_run_id)}"


def task_log(
    base: str | None,
    dag_id: str | None,
    dag_run_id: str | None,
    task_id: str | None,
    map_index: int | None = None,
) -> str | None:
    """The task instance's page, which opens on its log (a mapped task: its map index)."""
    run = dag_run(base, dag_id, dag_run_id)
    if run is None or not task_id:
        return None
    url = f"{run}/tasks/{_part(task_id)}"
    if map_index is not None and map_index >= 0:
        url += f"/mapped/{int(map_index)}"
    return url


def check_base(url: str) -> str:
    """An ``--airflow-url`` as given: http(s)://host[:port][/path] or a /path; raises
    ValueError with a one-line reason otherwise."""
    url = url.strip()
    if url.startswith("/") and not url.startswith("//"):
        return url.rstrip("/") or "/"
    if url.startswith(("http://", "https://")) and "://" in url and len(url.split("://", 1)[1]) > 0:
        return url.rstrip("/")
    raise ValueError(f"--airflow-url must be http(s)://host[:port][/path], not {url[:80]!r}")
