"""A private Postgres database for one run of the tests or of the benchmark.

Each run creates its own database on the shared server and drops it at the end, so runs
side by side never see each other's rows.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def database_url(admin_url: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the server, and as the user, of `admin_url`."""
    admin = psycopg.conninfo.conninfo_to_dict(admin_url)
    return (
        f"postgresql+psycopg://{admin.get('user', 'postgres')}@{admin.get('host', '127.0.0.1')}:"
        f"{admin.get('port', 5432)}/{name}"
    )


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    """Drop `name`, ending any connection still open to it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
