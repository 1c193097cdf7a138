"""Collecting's part of the store: the folder files already taken and the feed cursors."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.store.session import Part


class Collect(Part):
    FILE = "collect"

    def seen_files(self, source: str, paths: list[str]) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of the files of ``paths`` already taken."""
        rows = self._rows("seen_files", source=source, paths=paths)
        return {r["path"]: (r["size"], r["mtime_ns"]) for r in rows}

    def mark_seen(self, source: str, files: Sequence[tuple[str, int, int, bytes]]) -> None:
        """(path, size, mtime_ns, sha256) of files now taken."""
        self._many(
            "upsert_seen_file",
            [
                {"source": source, "path": p, "size": size, "mtime_ns": mt, "sha256": sha}
                for p, size, mt, sha in files
            ],
        )

    def cursor(self, source: str, url: str) -> dict | None:
        """What the last poll of a feed URL answered (etag, last_modified, last_sha256...)."""
        return self._one("get_cursor", source=source, url=url)

    def save_cursor(
        self,
        source: str,
        url: str,
        etag: str | None,
        last_modified: str | None,
        last_sha256: bytes | None,
        last_status: str,
    ) -> None:
        """After a successful poll (200 or 304): the validators to send next time."""
        self._run(
            "save_cursor",
            source=source,
            url=url,
            etag=etag,
            last_modified=last_modified,
            last_sha256=last_sha256,
            last_status=last_status,
        )

    def cursor_failed(self, source: str, url: str, status: str, error: str) -> None:
        self._run(
            "cursor_failed", source=source, url=url, last_status=status, last_error=error[:500]
        )
