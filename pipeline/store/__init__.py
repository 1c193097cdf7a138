"""The only package that imports psycopg: connections, migrations, named queries."""
