"""Verified pairs' part of the store: what verification reads, its decisions (edges with
scores, verdict and reason), and the pairs clustering and crediting read back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pipeline.model import Edge
from pipeline.store.session import Part


class Edges(Part):
    FILE = "edges"

    # --- what verification reads ---------------------------------------------------------

    def verify_inputs(self, article_ids: list[int]) -> list[dict]:
        """Per article: its body paragraphs in similarity form (``norms``) and as printed
        (``texts``), and the wire metadata that changes how similarity is judged (source,
        item_key, origin_ed_stat, origin_tag, lineage, headline, headline_tag,
        published_at, correction_note)."""
        return self._rows("body_paragraphs", ids=article_ids)

    def caption_norms(self, caption_ids: list[int]) -> dict[int, str]:
        return {r["id"]: r["norm"] for r in self._rows("caption_norms", ids=caption_ids)}

    # --- decisions -----------------------------------------------------------------------

    def write(self, batch_id: int, edges: Sequence[Edge]) -> int:
        """Insert or replace these decisions (one per pair and kind)."""
        if not edges:
            return 0
        self._exec("create_edge_stage")
        n = self._copy(
            "copy_edge_stage",
            (
                (
                    e.kind,
                    e.a,
                    e.b,
                    e.verdict,
                    e.jaccard,
                    e.containment,
                    e.fuzz,
                    e.para_overlap,
                    e.reason,
                    batch_id,
                )
                for e in edges
            ),
        )
        self._exec("upsert_edges")
        return n

    def drop_story_edges_in_range(self, since: datetime, until: datetime) -> int:
        """Story edges touching an article published in [since, until)."""
        return self._run("delete_range_story_edges", since=since, until=until)

    # --- read back -----------------------------------------------------------------------

    def duplicate_neighbours(self, article_ids: list[int]) -> list[int]:
        """Articles with a verified duplicate story edge to one of these."""
        return [r["id"] for r in self._rows("duplicate_neighbours", ids=article_ids)]

    def among(self, article_ids: list[int]) -> list[dict]:
        """Story edges between two of these articles (a, b, verdict, jaccard, containment,
        para_overlap, reason), ordered by (a, b)."""
        return self._rows("edges_among", ids=article_ids)

    def borrowing(self, article_ids: list[int]) -> list[dict]:
        """Story edges touching these articles that share at least one paragraph."""
        return self._rows("borrowing_edges", ids=article_ids)

    def caption_duplicates(self, caption_ids: list[int]) -> list[tuple[int, int]]:
        """Duplicate caption pairs touching these captions."""
        return [(r["a"], r["b"]) for r in self._rows("caption_neighbours", ids=caption_ids)]
