"""The operator dashboard: a FastAPI app (``app.create_app``) that runs standalone
(``newsdedup dashboard``) or mounted inside the Airflow UI by ``plugin.NewsdedupPlugin``."""
