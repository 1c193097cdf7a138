"""newsdedup: one canonical article per news story, with provenance, in PostgreSQL."""

__version__ = "0.1.0"
