"""One module per stage of the data flow, each ``run(store, batch, config) -> Summary``
(ingest: per source), plus maintenance, operator overrides, the worker pool and whole runs."""
