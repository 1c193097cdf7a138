import pytest

from pipeline.config import DedupConfig, load_settings
from pipeline.errors import ConfigError


def test_fingerprint_tracks_signature_fields_only():
    base = DedupConfig()
    assert DedupConfig(jaccard_min=0.6).fingerprint == base.fingerprint
    assert DedupConfig(num_perm=256, bands=64, rows=4).fingerprint != base.fingerprint


def test_eager_validation():
    with pytest.raises(ConfigError):
        DedupConfig(bands=50, rows=3)
    with pytest.raises(ConfigError):
        DedupConfig(canonical_rules=("not_killed", "coin_flip"))
    with pytest.raises(ConfigError):
        DedupConfig(jaccard_min=1.5)


def test_settings_from_env_and_toml(tmp_path, monkeypatch):
    toml = tmp_path / "newsdedup.toml"
    toml.write_text('[dedup]\nwindow_days = 7\n[sources.reuters]\nurls = ["http://127.0.0.1/x"]\n')
    monkeypatch.setenv("NEWSDEDUP_DATA_DIR", str(tmp_path / "data"))
    s = load_settings(config_file=toml)
    assert s.dedup.window_days == 7
    assert s.data_dir == tmp_path / "data"
    assert s.source("reuters").urls == ("http://127.0.0.1/x",)
    bad = tmp_path / "bad.toml"
    bad.write_text("[dedup]\nnum_perms = 3\n")
    with pytest.raises(ConfigError, match="num_perms"):
        load_settings(config_file=bad)


def test_sources_from_env_and_their_validation(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDEDUP_SOURCE_XINHUA_URLS", "http://127.0.0.1/a  http://127.0.0.1/b")
    monkeypatch.setenv("NEWSDEDUP_SOURCE_AP_FOLDERS", str(tmp_path))
    s = load_settings(config_file=None)
    assert s.source("xinhua").urls == ("http://127.0.0.1/a", "http://127.0.0.1/b")
    assert s.source("ap").folders == (str(tmp_path),)
    monkeypatch.delenv("NEWSDEDUP_SOURCE_XINHUA_URLS")
    monkeypatch.delenv("NEWSDEDUP_SOURCE_AP_FOLDERS")
    for body, needle in (
        ('[sources.x]\nurls = ["ftp://h/feed"]\n', "not an http\\(s\\) URL"),
        ('[sources.x]\nurls = "http://h/feed"\n', "must be a list"),
        ("[sources.x]\nretries = -1\n", "retries"),
        ("[sources.x]\ntimeout_s = 0\n", "timeout_s"),
        ("[sources.x]\nproxy = 1\n", "unknown setting"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(body)
        with pytest.raises(ConfigError, match=needle):
            load_settings(config_file=bad)


def test_the_configuration_knows_every_canonical_rule_by_name():
    from pipeline.config import CANONICAL_RULES
    from pipeline.merge.canonical import RULES

    assert set(CANONICAL_RULES) == set(RULES)


def test_a_misspelt_section_is_an_error_not_ignored(tmp_path):
    toml = tmp_path / "newsdedup.toml"
    toml.write_text("[dedupe]\nwindow_days = 7\n")
    with pytest.raises(ConfigError, match=r"dedupe"):
        load_settings(config_file=toml)
