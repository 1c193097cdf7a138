"""Package links' part of the store: which pictures a package gives a text item, and the
captions the text article carries for them."""

from __future__ import annotations

from datetime import datetime

from pipeline.store.session import Part


class Packages(Part):
    FILE = "packages"

    def versions(self, package_keys: list[str]) -> dict[str, datetime | None]:
        """package key -> versionCreated of the stored version."""
        rows = self._rows("package_versions", keys=package_keys)
        return {r["package_key"]: r["version_created"] for r in rows}

    def replace_links(
        self, package_key: str, created: datetime | None, payload_id: int, links: list
    ) -> set[str]:
        """Store this package version and its links (``pipeline.sources.base.PackageLink``)
        in place of the previous ones; returns the text keys of the old and new links."""
        self._run(
            "upsert_package_version",
            package_key=package_key,
            version_created=created,
            payload_id=payload_id,
        )
        touched = {
            r["text_key"] for r in self._rows("delete_package_links", package_key=package_key)
        }
        self._many(
            "insert_package_link",
            [
                {
                    "package_key": package_key,
                    "text_key": ln.text_key,
                    "picture_key": ln.picture_key,
                    "ord": ln.ord,
                    "caption": ln.caption,
                }
                for ln in links
            ],
        )
        return touched | {ln.text_key for ln in links}

    def texts_linked_to(self, keys: list[str]) -> list[str]:
        """Text items whose package captions depend on these items (as text or picture)."""
        return [r["text_key"] for r in self._rows("texts_linked_to", keys=keys)]

    def captions_wanted(self, text_keys: list[str]) -> list[dict]:
        """(article_id, picture_key, caption) the packages give each text article, in
        package order."""
        return self._rows("package_captions_for", keys=text_keys)

    def captions_of(self, article_ids: list[int]) -> list[dict]:
        """The captions the articles carry now (article_id, ord, text, body, via_item)."""
        return self._rows("captions_of_articles", ids=article_ids)

    def replace_captions(self, article_ids: list[int], rows: list[dict]) -> None:
        """Replace the package captions of these articles and send them back to dedup."""
        self._run("delete_package_captions", ids=article_ids)
        self._many("insert_package_caption", rows)
        self._run("mark_articles_pending", ids=article_ids)
