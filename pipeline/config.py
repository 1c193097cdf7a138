"""Settings from the environment and the frozen dedup configuration.

Two kinds of configuration live here and they are kept apart on purpose:

* ``Settings``: where things are (database URL, data directory, config file). Changing them
  never changes a result.
* ``DedupConfig``: every knob that changes which articles end up in which story. It is
  frozen and has a ``fingerprint``; signatures and band hashes are stored under the
  fingerprint that produced them, so a config change can never silently mix two schemes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ConfigError

ENV_PREFIX = "NEWSDEDUP_"

# Bumped whenever text normalisation changes what goes into a signature: the fingerprint
# then changes and stale signatures are recomputed instead of being compared with new ones.
TEXT_PIPELINE_VERSION = "text-3"


# The rules pipeline.merge.canonical knows (its RULES), by name: a configuration names them
# without importing the merge code, which sits above it. The default uses all but the last.
DEFAULT_CANONICAL_RULES = (
    "not_killed",
    "original_source",
    # a correction fixes what the item it corrects got wrong, even when it is shorter
    "corrections_first",
    "complete",
    "latest_version",
    "earliest_first_created",
)
CANONICAL_RULES = (*DEFAULT_CANONICAL_RULES, "most_words")


@dataclass(frozen=True)
class DedupConfig:
    # MinHash (datasketch affine32 scheme; see pipeline.dedup.minhash)
    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 3  # words per story shingle
    bands: int = 42
    rows: int = 3
    # Words of the lead indexed as a signature of their own (0: off). Off by default since
    # paragraph-level bands find abridged reprints too (dev set: identical scores, a third
    # fewer LSH keys per article).
    lead_words: int = 0
    lead_bands: int = 42
    lead_rows: int = 3
    # Paragraph-level bands find a paragraph borrowed by another story (composites)
    para_bands: int = 4
    para_rows: int = 4
    para_min_tokens: int = 12  # shorter paragraphs are not indexed (too generic)
    para_max_df: int = 50  # a paragraph band carried by more articles is boilerplate
    # Slot values (figures, dates, the headline's symbols and words) as a set of their own:
    # a reformatted or corrected item whose wording changed still meets its original.
    slot_bands: int = 16
    slot_rows: int = 4
    # Captions are short: word unigrams+bigrams, a low-threshold banding, exact verification
    caption_bands: int = 32
    caption_rows: int = 4
    # Candidate window: history older/newer than this is not compared
    window_days: int = 30
    # Verification thresholds (chosen on the labelled dev set; see docs in README)
    jaccard_min: float = 0.5  # story text shingle Jaccard that alone makes a duplicate
    containment_min: float = 0.7  # share of the shorter text found in the longer
    para_match_min: float = 0.6  # share of the shorter text's paragraphs matched
    fuzz_min: float = 80.0  # rapidfuzz token_set_ratio floor for a containment match
    contributor_min_paragraphs: int = 1  # borrowed paragraphs that credit another story
    caption_jaccard_min: float = 0.6  # token Jaccard of two caption bodies
    coherence_min: float = 0.5  # two groups join only if this much of one is in the other
    # Items of one template published this far apart are two editions of a recurring
    # report unless their slots agree (a re-send): daily reports come a day apart, the
    # re-issues of a running report within one trading day.
    edition_gap_hours: float = 18.0
    # A re-send with no figures to compare (a news story sent again with a new dateline)
    # comes within this many hours; later, the same text is the next edition.
    resend_hours: float = 72.0
    # Canonical choice, first rule first; see pipeline.merge.canonical for the rule names
    canonical_rules: tuple[str, ...] = DEFAULT_CANONICAL_RULES

    def __post_init__(self) -> None:
        if self.num_perm < 8:
            raise ConfigError(f"num_perm must be at least 8, got {self.num_perm}")
        if self.bands * self.rows > self.num_perm:
            raise ConfigError(
                f"bands*rows ({self.bands}*{self.rows}) exceeds num_perm ({self.num_perm})"
            )
        if self.caption_bands * self.caption_rows > self.num_perm:
            raise ConfigError("caption_bands*caption_rows exceeds num_perm")
        if self.lead_words and self.lead_bands * self.lead_rows > self.num_perm:
            raise ConfigError("lead_bands*lead_rows exceeds num_perm")
        if self.para_bands * self.para_rows > self.num_perm:
            raise ConfigError("para_bands*para_rows exceeds num_perm")
        if self.slot_bands * self.slot_rows > self.num_perm:
            raise ConfigError("slot_bands*slot_rows exceeds num_perm")
        if self.shingle_size < 1:
            raise ConfigError("shingle_size must be >= 1")
        if self.window_days < 1:
            raise ConfigError("window_days must be >= 1")
        for name in (
            "jaccard_min",
            "containment_min",
            "para_match_min",
            "caption_jaccard_min",
            "coherence_min",
        ):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise ConfigError(f"{name} must be in (0, 1], got {v}")
        unknown = [r for r in self.canonical_rules if r not in CANONICAL_RULES]
        if unknown:
            raise ConfigError(
                f"unknown canonical rule(s) {unknown}; known: {', '.join(sorted(CANONICAL_RULES))}"
            )

    @property
    def signature_fields(self) -> dict:
        """The fields that change a stored signature or band hash."""
        return {
            "num_perm": self.num_perm,
            "seed": self.seed,
            "shingle_size": self.shingle_size,
            "bands": self.bands,
            "rows": self.rows,
            "lead_words": self.lead_words,
            "lead_bands": self.lead_bands,
            "lead_rows": self.lead_rows,
            "para_bands": self.para_bands,
            "para_rows": self.para_rows,
            "para_min_tokens": self.para_min_tokens,
            "slot_bands": self.slot_bands,
            "slot_rows": self.slot_rows,
            "caption_bands": self.caption_bands,
            "caption_rows": self.caption_rows,
            "text": TEXT_PIPELINE_VERSION,
        }

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.signature_fields, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["canonical_rules"] = list(self.canonical_rules)
        d["fingerprint"] = self.fingerprint
        return d

    @classmethod
    def from_mapping(cls, data: dict) -> DedupConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown [dedup] setting(s): {', '.join(unknown)}")
        kwargs = dict(data)
        if "canonical_rules" in kwargs:
            kwargs["canonical_rules"] = tuple(kwargs["canonical_rules"])
        try:
            return cls(**kwargs)
        except TypeError as e:  # wrong types from TOML
            raise ConfigError(f"bad [dedup] setting: {e}") from None


@dataclass(frozen=True)
class SourceConfig:
    """One configured wire source: folders to watch and feed URLs to poll.

    ``timeout_s`` bounds each HTTP request, ``retries`` is how many times a failed poll
    is retried (connection errors, timeouts, 408/429/5xx), waiting ``backoff_s`` seconds
    and doubling each time."""

    name: str
    folders: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    schedule: str = "*/5 * * * *"
    timeout_s: float = 20.0
    retries: int = 3
    backoff_s: float = 1.0

    def __post_init__(self) -> None:
        if not self.name or not all(ch.isalnum() or ch in "-_." for ch in self.name):
            raise ConfigError(f"source name {self.name!r}: use letters, digits, '-', '_' or '.'")
        for u in self.urls:
            if not isinstance(u, str) or not u.lower().startswith(("http://", "https://")):
                raise ConfigError(f"[sources.{self.name}] urls: not an http(s) URL: {u!r}")
        for f in self.folders:
            if not isinstance(f, str) or not f:
                raise ConfigError(f"[sources.{self.name}] folders: not a path: {f!r}")
        if not (isinstance(self.timeout_s, int | float) and self.timeout_s > 0):
            raise ConfigError(f"[sources.{self.name}] timeout_s must be a positive number")
        if not (isinstance(self.retries, int) and 0 <= self.retries <= 20):
            raise ConfigError(f"[sources.{self.name}] retries must be an integer 0..20")
        if not (isinstance(self.backoff_s, int | float) and self.backoff_s >= 0):
            raise ConfigError(f"[sources.{self.name}] backoff_s must be a number >= 0")


DEFAULT_SOURCES = ("reuters", "xinhua", "cgtn")


def _known_settings(section: str, cls: type, data: object) -> dict:
    """A config table's settings, refused in one line when it is not a table or names a
    setting ``cls`` does not have."""
    if not isinstance(data, dict):
        raise ConfigError(f"[{section}] must be a table")
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ConfigError(f"unknown [{section}] setting(s): {', '.join(unknown)}")
    return data


@dataclass(frozen=True)
class Limits:
    """What one item may carry (``[limits]``); an item over a limit is quarantined at ingest
    with the limit as its reason, before it costs memory and time in every later stage (and
    before its headline reaches a search vector, which PostgreSQL caps at 1 MB)."""

    headline_chars: int = 2000
    paragraphs: int = 5000
    text_bytes: int = 4_000_000

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"[limits] {f.name} must be a positive integer")

    @classmethod
    def from_mapping(cls, data: dict) -> Limits:
        return cls(**_known_settings("limits", cls, data))


@dataclass(frozen=True)
class DatabaseSettings:
    """How long anything waits on the database (``[database]`` in newsdedup.toml).

    ``lock_timeout_s``: a statement waiting longer for a row or table lock fails (the run
    exits 2 and says so) instead of hanging. ``idle_in_transaction_timeout_s``: the server
    ends a session idle inside a transaction this long, so an orphaned transaction cannot
    hold its locks for ever. ``stage_lock_wait_s``: how long a run waits for another run's
    stage lock (saying whose) before giving up. 0 turns a limit off."""

    lock_timeout_s: float = 300.0
    idle_in_transaction_timeout_s: float = 600.0
    stage_lock_wait_s: float = 3600.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise ConfigError(f"[database] {f.name} must be a number of seconds >= 0")

    @classmethod
    def from_mapping(cls, data: dict) -> DatabaseSettings:
        return cls(**_known_settings("database", cls, data))


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    config_file: Path | None = None
    dedup: DedupConfig = field(default_factory=DedupConfig)
    sources: tuple[SourceConfig, ...] = ()
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    limits: Limits = field(default_factory=Limits)

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)


# Every top-level key and section of newsdedup.toml: a misspelt one ([dedupe]) is an error,
# never silently ignored.
TOP_LEVEL = frozenset({"database_url", "data_dir", "database", "dedup", "limits", "sources"})


def default_data_dir() -> Path:
    """Per-user data directory (XDG on Linux) where the embedded PostgreSQL lives."""
    env = os.environ.get(ENV_PREFIX + "DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "newsdedup"


def load_settings(
    database_url: str | None = None,
    data_dir: str | os.PathLike | None = None,
    config_file: str | os.PathLike | None = None,
    inbox: str | os.PathLike | None = None,
) -> Settings:
    """Explicit arguments win over NEWSDEDUP_* variables, which win over the TOML file."""
    env = os.environ
    cfg_path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if cfg_path is None and Path("newsdedup.toml").is_file():
        cfg_path = "newsdedup.toml"
    data: dict = {}
    if cfg_path:
        p = Path(cfg_path).expanduser()
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {p} is not valid TOML: {e}") from None
    unknown = sorted(set(data) - TOP_LEVEL)
    if unknown:
        raise ConfigError(
            f"unknown setting(s) or section(s) in {cfg_path}: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(TOP_LEVEL))})"
        )
    db = database_url or env.get(ENV_PREFIX + "DATABASE_URL") or data.get("database_url")
    ddir = data_dir or env.get(ENV_PREFIX + "DATA_DIR") or data.get("data_dir")
    dedup = DedupConfig.from_mapping(data.get("dedup", {}))
    sources = _sources(data.get("sources", {}), inbox or env.get(ENV_PREFIX + "INBOX"))
    return Settings(
        database_url=db or None,
        data_dir=Path(ddir).expanduser() if ddir else default_data_dir(),
        config_file=Path(cfg_path) if cfg_path else None,
        dedup=dedup,
        sources=sources,
        database=DatabaseSettings.from_mapping(data.get("database", {})),
        limits=Limits.from_mapping(data.get("limits", {})),
    )


def _sources(table: dict, inbox: str | os.PathLike | None) -> tuple[SourceConfig, ...]:
    """Configured sources (TOML, then ``NEWSDEDUP_SOURCE_<NAME>_FOLDERS`` / ``_URLS``
    variables, whitespace-separated, which add to them); an inbox adds its per-source
    folders to the default three."""
    out: dict[str, SourceConfig] = {}
    known = {f.name for f in dataclasses.fields(SourceConfig)} - {"name"}
    if not isinstance(table, dict):
        raise ConfigError("[sources] must be a table of [sources.NAME] tables")
    for name, raw in table.items():
        if not isinstance(raw, dict):
            raise ConfigError(f"[sources.{name}] must be a table")
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) in [sources.{name}]: {', '.join(unknown)}")
        vals = dict(raw)
        for k in ("folders", "urls"):
            if k in vals:
                if isinstance(vals[k], str) or not isinstance(vals[k], list):
                    raise ConfigError(f"[sources.{name}] {k} must be a list of strings")
                vals[k] = tuple(vals[k])
        try:
            out[name] = SourceConfig(name=name, **vals)
        except TypeError as e:
            raise ConfigError(f"bad [sources.{name}] setting: {e}") from None
    for key, value in sorted(os.environ.items()):
        if not key.startswith(ENV_PREFIX + "SOURCE_"):
            continue
        rest = key[len(ENV_PREFIX + "SOURCE_") :]
        for kind in ("FOLDERS", "URLS"):
            if rest.endswith("_" + kind) and len(rest) > len(kind) + 1:
                name = rest[: -len(kind) - 1].lower()
                cur = out.get(name) or SourceConfig(name=name)
                field_ = kind.lower()
                extra = tuple(v for v in value.split() if v not in getattr(cur, field_))
                out[name] = dataclasses.replace(cur, **{field_: (*getattr(cur, field_), *extra)})
    return with_inbox(tuple(out.values()), inbox)


def with_inbox(
    sources: tuple[SourceConfig, ...], inbox: str | os.PathLike | None
) -> tuple[SourceConfig, ...]:
    """``sources`` plus the inbox layout: ``INBOX/reuters``, ``INBOX/xinhua``, ``INBOX/cgtn``."""
    out = {s.name: s for s in sources}
    if inbox:
        for name in DEFAULT_SOURCES:
            folder = str(Path(inbox) / name)
            cur = out.get(name, SourceConfig(name=name))
            if folder not in cur.folders:
                cur = dataclasses.replace(cur, folders=(*cur.folders, folder))
            out[name] = cur
    return tuple(out.values())
