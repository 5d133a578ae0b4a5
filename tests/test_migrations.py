"""The models and the migrations describe the same schema, on Postgres and on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from workers.db.engine import get_engine
from workers.db.migrate import upgrade
from workers.db.models import Base


def pending_diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


class TestMigrations:
    def test_postgres_schema_matches_models(self, database: str) -> None:
        assert pending_diff(database) == []

    def test_sqlite_schema_matches_models(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
        upgrade(url)
        assert pending_diff(url) == []

    @pytest.mark.parametrize("table", ["jobs", "job_phases", "job_events"])
    def test_tables_exist(self, table: str) -> None:
        assert table in inspect(get_engine()).get_table_names()
