"""The only package that imports psycopg or names a query: connections, migrations, and
``store.Store``, one part per aggregate, each owning its sql/queries/<part>.sql."""
