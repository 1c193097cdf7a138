"""newsdedup as an Airflow provider, for lineage only: OpenLineage names for feed URLs.

Airflow's OpenLineage provider turns an asset into an OpenLineage dataset through a
converter that some installed provider registers for the asset's URI scheme; Airflow's
providers register ``file`` and ``postgres`` but none for ``http(s)``, so the feeds an
ingest reads would be left out of its events. This module is registered (the
``apache_airflow_provider`` entry point in pyproject.toml) with such a converter and
nothing else.

Imports neither Airflow nor a driver at import time: every Airflow process reads the
provider list.
"""

from __future__ import annotations

from urllib.parse import urlsplit

FEED_SCHEMES = ("http", "https")


def get_provider_info() -> dict:
    return {
        "package-name": "newsdedup",
        "name": "newsdedup",
        "description": "OpenLineage names for the http(s) feeds newsdedup's ingest tasks read.",
        "asset-uris": [
            {
                "schemes": list(FEED_SCHEMES),
                "handler": None,  # URIs are kept as written
                "to_openlineage_converter": "pipeline.airflow_provider.feed_to_openlineage",
            }
        ],
    }


def feed_name(uri: str) -> tuple[str, str]:
    """A feed URL as an OpenLineage (namespace, name): ``scheme://host[:port]`` and the
    path with its query, the way the provider names object-store paths."""
    u = urlsplit(uri)
    path = u.path or "/"
    return f"{u.scheme}://{u.netloc}", path + (f"?{u.query}" if u.query else "")


def feed_to_openlineage(asset, lineage_context):
    """The converter Airflow's OpenLineage provider calls for an http(s) asset."""
    from openlineage.client.event_v2 import Dataset

    namespace, name = feed_name(asset.uri)
    return Dataset(namespace=namespace, name=name)
