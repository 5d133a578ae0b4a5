"""The models and the migrations describe the same schema, on Postgres and on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select

from devtools.database import create_database, database_url, drop_database
from tests.conftest import ADMIN_URL
from workers.db.engine import get_engine
from workers.db.migrate import alembic_config, upgrade
from workers.db.models import Base
from workers.job.models import Job, JobEvent


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


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"aq_mig_{uuid.uuid4().hex[:10]}"
    create_database(ADMIN_URL, name)
    yield database_url(ADMIN_URL, name)
    drop_database(ADMIN_URL, name)


class TestImagesListMigration:
    """2026_12_01_1000: stored results of one image become `images`, a list (and back)."""

    def test_rewrites_results_and_logged_events(self, fresh_url: str) -> None:
        url = fresh_url
        upgrade(url)
        config = alembic_config(url)
        command.downgrade(config, "8440e9826c07")  # data only: the schema is the same
        image = {"url": "http://x/media/a.png", "width": 64, "height": 64}
        job_id = uuid.uuid4()
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(Job).values(
                        id=job_id,
                        model="local/image",
                        kind="image",
                        input={"prompt": "x"},
                        status="succeeded",
                        request_hash="h" * 64,
                        result={"image": image},
                    )
                )
                conn.execute(
                    insert(JobEvent).values(
                        job_id=job_id, seq=1, type="succeeded", payload={"result": {"image": image}}
                    )
                )
            command.upgrade(config, "head")
            with engine.connect() as conn:
                assert conn.execute(select(Job.result)).scalar_one() == {"images": [image]}
                payload = conn.execute(select(JobEvent.payload)).scalar_one()
                assert payload == {"result": {"images": [image]}}
            command.downgrade(config, "8440e9826c07")
            with engine.connect() as conn:
                assert conn.execute(select(Job.result)).scalar_one() == {"image": image}
        finally:
            engine.dispose()
