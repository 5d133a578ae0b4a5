"""Cron expressions read like Celery's crontab, and the slot a firing belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workers.schedule import Cron

AT = datetime(2026, 11, 25, 12, 44, 10, tzinfo=UTC)  # a Wednesday


class TestCron:
    def test_every_half_hour(self) -> None:
        cron = Cron.parse("*/30 * * * *")
        assert cron.latest_at_or_before(AT) == AT.replace(minute=30, second=0)
        assert cron.next_after(AT) == AT.replace(hour=13, minute=0, second=0)
        assert cron.shortest_gap(AT) == timedelta(minutes=30)

    def test_weekly(self) -> None:
        cron = Cron.parse("0 3 * * 1")
        assert cron.latest_at_or_before(AT) == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
        assert cron.next_after(AT) == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)

    def test_a_firing_time_is_its_own_slot(self) -> None:
        cron = Cron.parse("15 * * * *")
        slot = datetime(2026, 11, 25, 12, 15, tzinfo=UTC)
        assert cron.latest_at_or_before(slot) == slot
        assert cron.next_after(slot) == slot + timedelta(hours=1)

    @pytest.mark.parametrize("bad", ["* * * *", "61 * * * *", "*/0 * * * *", "x * * * *"])
    def test_bad_expressions_are_refused(self, bad: str) -> None:
        with pytest.raises(ValueError, match="cron"):
            Cron.parse(bad)

    def test_beat_schedule_uses_it_with_expires(self) -> None:
        from celery.schedules import crontab

        from workers.celery_app import app

        entry = app.conf.beat_schedule["prewarm.run"]
        assert isinstance(entry["schedule"], crontab)
        assert entry["options"]["expires"] == pytest.approx(30 * 60 * 1.5)
