"""Usage and spend per owner, summed by Postgres, against the jobs they sum.

Local models are free: these tests price them through MODEL_PRICES_USD so that spend
moves, and run their jobs in-process. Some jobs are moved back in time by editing
`created_at`, the one way to have jobs of other days without waiting for them.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Connection

from workers.cli.main import main
from workers.db.engine import get_engine, session_scope
from workers.job import producer
from workers.job.models import DEFAULT_OWNER, Job
from workers.job.reader import read_job
from workers.job.schemas import JobCreate, UsageRow
from workers.job.tasks import generate
from workers.job.usage import BadWindow, reserved_and_spent, usage, window
from workers.key.caller import Caller
from workers.settings import PriceOverride, get_settings

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def priced_local(monkeypatch: pytest.MonkeyPatch) -> None:
    prices = {
        "local/video": PriceOverride(unit="second", usd=0.1),
        "local/image": PriceOverride(unit="image", usd=0.02),
    }
    monkeypatch.setattr(get_settings(), "model_prices_usd", prices)


def submit(
    model: str = "local/video", owner: str = DEFAULT_OWNER, cache: bool = False, **input_: Any
) -> producer.Accepted:
    request = JobCreate(model=model, input={"prompt": "a red fox in snow", **input_}, cache=cache)
    return producer.submit(request, caller=Caller(owner))


def run(model: str = "local/video", **input_: Any) -> uuid.UUID:
    job_id = submit(model, **input_).id
    generate.run(str(job_id))
    return job_id


def created_at(job_id: uuid.UUID, when: datetime) -> None:
    with session_scope() as session:
        session.execute(update(Job).where(Job.id == job_id).values(created_at=when))


@pytest.fixture
def jobs() -> dict[str, list[uuid.UUID]]:
    """Today: two videos (1 s, 2 s), a cache hit of the 2 s one, a queued and a canceled
    Veo job. Yesterday: an image and a canceled video. Also a video 40 days ago and one of
    another owner, which no usage of this owner counts."""
    today = [run(duration=1), run(duration=2)]
    hit = producer.submit(
        JobCreate(model="local/video", input={"prompt": "a red fox in snow", "duration": 2})
    )
    assert hit.cache_hit
    today.append(hit.id)
    today.append(submit("veo-3.1", duration=8).id)  # queued: 3.20 reserved
    canceled = submit("veo-3.1", duration=4).id
    producer.cancel(canceled)
    today.append(canceled)
    dropped = submit(duration=3).id
    producer.cancel(dropped)
    yesterday = [run("local/image"), dropped]
    old, other = run(duration=4), submit(owner="someone-else", duration=5).id
    for job_id in today:
        created_at(job_id, NOW - timedelta(hours=1))
    for job_id in yesterday:
        created_at(job_id, NOW - timedelta(days=1))
    created_at(old, NOW - timedelta(days=40))
    created_at(other, NOW - timedelta(hours=1))
    return {"today": today, "yesterday": yesterday, "outside": [old, other]}


def window_usage(group_by: str) -> list[UsageRow]:
    with session_scope() as session:
        report = usage(
            session,
            owner=DEFAULT_OWNER,
            start=NOW - timedelta(days=30),
            end=NOW,
            group_by=group_by,  # type: ignore[arg-type]
        )
    return [*report.rows, report.total]


class TestUsage:
    def test_grouped_by_model(self, jobs: dict[str, list[uuid.UUID]]) -> None:
        image, video, veo, total = window_usage("model")
        assert video == UsageRow(
            key="local/video",
            jobs=4,
            succeeded=3,
            failed=0,
            canceled=1,
            from_cache=1,
            video_seconds=3.0,
            images=0,
            spend_usd=0.3,
            pending_usd=0,
        )
        assert image == UsageRow(
            key="local/image",
            jobs=1,
            succeeded=1,
            failed=0,
            canceled=0,
            from_cache=0,
            video_seconds=0,
            images=1,
            spend_usd=0.02,
            pending_usd=0,
        )
        assert (veo.key, veo.jobs, veo.canceled, veo.spend_usd, veo.pending_usd) == (
            "veo-3.1",
            2,
            1,
            0,
            3.2,
        )
        assert (total.jobs, total.spend_usd, total.pending_usd) == (7, 0.32, 3.2)

    def test_grouped_by_utc_day(self, jobs: dict[str, list[uuid.UUID]]) -> None:
        yesterday, today, total = window_usage("day")
        assert (yesterday.key, yesterday.jobs, yesterday.images, yesterday.spend_usd) == (
            "2026-11-29",
            2,
            1,
            0.02,
        )
        assert (today.key, today.jobs, today.video_seconds, today.spend_usd) == (
            "2026-11-30",
            5,
            3.0,
            0.3,
        )
        assert total == window_usage("model")[-1].model_copy(update={"key": "total"})

    def test_spend_matches_the_jobs_one_by_one(self, jobs: dict[str, list[uuid.UUID]]) -> None:
        with session_scope() as session:
            costs = [read_job(session, job_id).cost for job_id in jobs["today"] + jobs["yesterday"]]
        spent = sum(c.actual_usd for c in costs if c.actual_usd is not None)
        pending = sum(c.estimated_usd or 0 for c in costs if c.actual_usd is None)
        total = window_usage("model")[-1]
        assert total.spend_usd == pytest.approx(spent)
        assert total.pending_usd == pending

    def test_one_grouped_query_loads_no_job_rows(self, jobs: dict[str, list[uuid.UUID]]) -> None:
        statements: list[str] = []

        def seen(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(get_engine(), "before_cursor_execute", seen)
        try:
            window_usage("day")
        finally:
            event.remove(get_engine(), "before_cursor_execute", seen)
        [query] = [s for s in statements if "FROM jobs" in s]
        assert "GROUP BY" in query
        assert "sum(" in query

    def test_an_owner_without_jobs_has_an_empty_report(self) -> None:
        [total] = window_usage("model")
        assert (total.key, total.jobs, total.spend_usd) == ("total", 0, 0)


class TestReservedAndSpent:
    def test_actual_cost_of_ended_jobs_plus_estimates_of_the_rest(
        self, jobs: dict[str, list[uuid.UUID]]
    ) -> None:
        with session_scope() as session:
            month = reserved_and_spent(session, owner=DEFAULT_OWNER, since=NOW - timedelta(30))
            today = reserved_and_spent(session, owner=DEFAULT_OWNER, since=NOW - timedelta(0.5))
            other = reserved_and_spent(session, owner="someone-else", since=NOW - timedelta(30))
            ever = reserved_and_spent(session, owner=DEFAULT_OWNER, since=NOW - timedelta(99))
        assert month == pytest.approx(0.3 + 0.02 + 3.2)
        assert today == pytest.approx(0.3 + 3.2)
        assert other == pytest.approx(0.5)  # its queued 5 s video, reserved
        assert ever == pytest.approx(month + 0.4)


class TestWindow:
    def test_dates_cover_whole_utc_days(self) -> None:
        assert window("2026-11-01", "2026-11-30", NOW) == (
            datetime(2026, 11, 1, tzinfo=UTC),
            datetime(2026, 12, 1, tzinfo=UTC),
        )

    def test_times_without_offset_are_utc_and_default_is_thirty_days(self) -> None:
        assert window("2026-11-29T08:30:00", None, NOW) == (
            datetime(2026, 11, 29, 8, 30, tzinfo=UTC),
            NOW,
        )
        assert window(None, "2026-11-30T14:00:00+02:00", NOW) == (
            datetime(2026, 10, 31, 12, tzinfo=UTC),
            datetime(2026, 11, 30, 12, tzinfo=UTC),
        )

    @pytest.mark.parametrize(
        ("start", "end", "field"),
        [
            ("last week", None, "from"),
            (None, "2026-13-01", "to"),
            ("2026-12-01", "2026-11-30", "from"),
        ],
    )
    def test_what_to_fix_is_named(self, start: str | None, end: str | None, field: str) -> None:
        with pytest.raises(BadWindow) as raised:
            window(start, end, NOW)
        assert raised.value.field == field


class TestCommand:
    def test_prints_the_same_as_a_table(
        self, jobs: dict[str, list[uuid.UUID]], capsys: pytest.CaptureFixture[str], api_key: str
    ) -> None:
        as_key = ["--api-key", api_key]
        assert main(["usage", "--from", "2026-10-31", "--to", "2026-11-30", "--json", *as_key]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["total"] == window_usage("model")[-1].model_dump()
        assert (
            main(
                [
                    "usage",
                    "--from",
                    "2026-10-31",
                    "--to",
                    "2026-11-30",
                    "--group-by",
                    "day",
                    *as_key,
                ]
            )
            == 0
        )
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == "usage of anonymous from 2026-10-31 00:00 to 2026-12-01 00:00 UTC"
        assert lines[1].split() == [
            "day", "jobs", "ok", "failed", "canceled", "cached", "video", "s", "images",
            "spend", "$", "pending", "$",
        ]  # fmt: skip
        assert lines[2].split() == ["2026-11-29", "2", "1", "0", "1", "0", "0.00", "1"] + [
            "0.020000",
            "0.000000",
        ]
        assert lines[3].split() == ["2026-11-30", "5", "3", "0", "1", "1", "3.00", "0"] + [
            "0.300000",
            "3.200000",
        ]
        assert set(lines[4]) == {"-", " "}
        assert lines[5].split()[:2] == ["total", "7"]

    def test_a_bad_window_is_one_line_naming_the_option(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["usage", "--to", "tomorrow"]) == 2
        assert capsys.readouterr().err.startswith("error: --to: 'tomorrow' is neither a date")
