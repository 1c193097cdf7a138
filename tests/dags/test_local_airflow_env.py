"""What ``make airflow`` hands every Airflow process (OpenLineage only when asked for) and
the dashboard address it prints (the plugin's page in Airflow's UI)."""

from __future__ import annotations

import json

import pytest

from pipeline.local_airflow import DASHBOARD_PATH, MENU_ENTRY, airflow_env, build_parser

URL = "postgresql://postgres@127.0.0.1:5432/newsdedup"


def test_no_lineage_transport_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", '{"type": "console"}')
    env = airflow_env(tmp_path, 8080, tmp_path, URL)
    assert not any(k.startswith("AIRFLOW__OPENLINEAGE__") for k in env)


def test_lineage_file_is_a_file_transport_appending_json_lines(tmp_path):
    events = tmp_path / "lineage" / "events.jsonl"
    args = build_parser().parse_args(["--lineage-file", str(events)])
    env = airflow_env(tmp_path, 8080, tmp_path, URL, lineage_file=args.lineage_file)
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport == {"type": "file", "log_file_path": str(events), "append": True}
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "newsdedup"


def test_the_printed_dashboard_is_the_plugins_page_and_menu_entry():
    pytest.importorskip("airflow", reason="the airflow extra is not installed")
    from pipeline.dashboard.plugin import UI_PAGE, NewsdedupPlugin

    (view,) = NewsdedupPlugin.external_views
    assert DASHBOARD_PATH == f"/plugin/{UI_PAGE}" == f"/plugin/{view['url_route']}"
    assert view["name"] == MENU_ENTRY


def test_a_first_airflow_cfg_holds_one_fernet_key_for_every_component(tmp_path):
    """The api-server starts beside the set-up, so neither may generate its own key."""
    import configparser

    from cryptography.fernet import Fernet

    from pipeline.local_airflow import _config

    _config(tmp_path)
    cfg = configparser.ConfigParser()
    cfg.read(tmp_path / "airflow.cfg")
    key = cfg["core"]["fernet_key"]
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    _config(tmp_path)  # an existing file (and its key) is kept
    cfg.read(tmp_path / "airflow.cfg")
    assert cfg["core"]["fernet_key"] == key
