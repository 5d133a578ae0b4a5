"""The models and the migrations describe the same schema, on Postgres and on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Insert, create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from devtools.database import create_database, database_url, drop_database
from tests.conftest import ADMIN_URL
from workers.batch.models import Batch
from workers.db.base import utcnow
from workers.db.engine import get_engine
from workers.db.migrate import alembic_config, upgrade
from workers.db.models import Base
from workers.job.models import Job, JobEvent
from workers.webhook.models import WebhookAttempt, WebhookDelivery


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
                conn.execute(_job(job_id, result={"image": image}))
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


class TestBatchWebhooksMigration:
    """2026_12_02_0900: a delivery belongs to a job or to a batch; the rebuild of the table
    (SQLite) keeps every delivery and attempt, and the way back drops batches' deliveries."""

    BEFORE = "b4e2d7a1c958"

    def test_rows_survive_both_ways_and_the_subject_is_checked(self, fresh_url: str) -> None:
        config = alembic_config(fresh_url)
        command.upgrade(config, self.BEFORE)
        job_id, batch_id, delivery_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        engine = create_engine(fresh_url)
        try:
            with engine.begin() as conn:
                conn.execute(_job(job_id))
                conn.execute(_delivery(id=delivery_id, job_id=job_id, event_seq=1))
                conn.execute(
                    insert(WebhookAttempt).values(
                        delivery_id=delivery_id, number=1, started_at=utcnow(), latency_ms=1.0
                    )
                )
            command.upgrade(config, "head")
            with engine.begin() as conn:
                assert conn.execute(select(WebhookAttempt.delivery_id)).scalar_one() == delivery_id
                conn.execute(
                    insert(Batch).values(id=batch_id, owner="o", request_hash="h", item_count=1)
                )
                conn.execute(_delivery(batch_id=batch_id))
            refused: list[dict[str, Any]] = [
                {"batch_id": batch_id},  # the batch's `completed` a second time
                {"batch_id": batch_id, "event": "started", "job_id": job_id, "event_seq": 2},
                {"batch_id": batch_id, "event": "started", "event_seq": 2},  # a batch's seq
                {"event": "started"},  # about nothing
            ]
            for subject in refused:
                with pytest.raises(IntegrityError), engine.begin() as conn:
                    conn.execute(_delivery(**subject))
            command.downgrade(config, self.BEFORE)
            with engine.connect() as conn:
                kept = conn.execute(
                    select(WebhookDelivery.id, WebhookDelivery.job_id)  # batch_id is gone
                ).all()
                assert kept == [(delivery_id, job_id)]
                assert conn.execute(select(WebhookAttempt.delivery_id)).scalar_one() == delivery_id
        finally:
            engine.dispose()


def _job(job_id: uuid.UUID, **values: Any) -> Insert:
    """A succeeded job's row, in the columns every revision since the first has."""
    row = {"model": "local/image", "kind": "image", "input": {"prompt": "x"}}
    row |= {"status": "succeeded", "request_hash": "h" * 64}
    return insert(Job).values(id=job_id, **(row | values))


def _delivery(**values: Any) -> Insert:
    row = {"id": uuid.uuid4(), "event": "completed", "url": "https://example.com/h"}
    row |= {"signer": "owner:o", "body": "{}", "state": "pending", "attempts": 1}
    return insert(WebhookDelivery).values(**(row | values))
