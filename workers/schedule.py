"""Everything beat runs, and when: the beat schedule and the cron parser it is built from.

Cron expressions are five fields (UTC), read the way Celery's `crontab` reads them:
minute hour day-of-month month day-of-week, each `*`, `N`, `A-B`, `*/S`, `A-B/S` or a comma
list of those; day-of-week 0–6 from Sunday (7 is Sunday too). As in Celery, the three day
fields must all match (standard cron ORs day-of-month and day-of-week).

Imports nothing of the project, so settings can validate `PREWARM_CRON` at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
# Far enough to reach any valid expression's next firing (29 February within 8 years).
_HORIZON = timedelta(days=366 * 8)


def _field(text: str, low: int, high: int, name: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = last = int(base)
            if step_text:
                last = high
        if step < 1 or not low <= first <= last <= high:
            raise ValueError(f"cron {name} {part!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    @classmethod
    def parse(cls, expression: str) -> Cron:
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(
                f"cron expression {expression!r} needs 5 fields: minute hour day month weekday"
            )
        try:
            sets = [
                _field(f, lo, hi, n) for f, (lo, hi), n in zip(fields, _BOUNDS, _NAMES, strict=True)
            ]
        except ValueError as exc:
            raise ValueError(f"cron expression {expression!r}: {exc}") from None
        weekdays = frozenset(d % 7 for d in sets[4])
        return cls(expression, sets[0], sets[1], sets[2], sets[3], weekdays)

    @property
    def fields(self) -> dict[str, str]:
        """The expression's fields by Celery `crontab` argument name."""
        return dict(zip(_NAMES, self.expression.split(), strict=True))

    def _day_matches(self, t: datetime) -> bool:
        return t.month in self.months and t.day in self.days and t.isoweekday() % 7 in self.weekdays

    def matches(self, t: datetime) -> bool:
        return self._day_matches(t) and t.hour in self.hours and t.minute in self.minutes

    def next_after(self, t: datetime) -> datetime:
        """The first firing strictly after `t`."""
        t = t.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + _HORIZON
        while t < limit:
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        raise ValueError(f"cron expression {self.expression!r} never fires")

    def latest_at_or_before(self, t: datetime) -> datetime:
        """The last firing at or before `t`: the slot a run at `t` belongs to."""
        t = t.astimezone(UTC).replace(second=0, microsecond=0)
        limit = t - _HORIZON
        while t > limit:
            if not self._day_matches(t):
                t = t.replace(hour=23, minute=59) - timedelta(days=1)
            elif t.hour not in self.hours:
                t = t.replace(minute=59) - timedelta(hours=1)
            elif t.minute not in self.minutes:
                t -= timedelta(minutes=1)
            else:
                return t
        raise ValueError(f"cron expression {self.expression!r} never fires")

    def shortest_gap(self, start: datetime, samples: int = 48) -> timedelta:
        """The shortest time between two firings among the next `samples`."""
        firings = [self.next_after(start)]
        for _ in range(samples):
            firings.append(self.next_after(firings[-1]))
        return min(b - a for a, b in zip(firings, firings[1:], strict=False))


def beat_schedule(
    *,
    sweep_interval_s: float,
    prewarm_cron: str,
    now: datetime,
    webhook_sweep_interval_s: float = 10.0,
) -> dict[str, Any]:
    """Beat's entries. Each expires after about 1.5 × its interval: a firing that waited
    longer than that is stale, and the next one replaces it."""
    from celery.schedules import crontab  # only beat and the worker need Celery's type

    prewarm = Cron.parse(prewarm_cron)
    return {
        # Re-sends jobs whose message went missing (see `workers.job.run.sweeper`).
        "job.sweep": {
            "task": "job.sweep",
            "schedule": sweep_interval_s,
            "options": {"expires": sweep_interval_s * 1.5},
        },
        # Sends due webhook deliveries: retries later than a countdown may be, lost messages
        # (see `workers.webhook.sweeper`). On the `webhooks` queue, like the deliveries.
        "webhook.sweep": {
            "task": "webhook.sweep",
            "schedule": webhook_sweep_interval_s,
            "options": {"expires": webhook_sweep_interval_s * 1.5},
        },
        # UTC crontab; each slot fires once however many beats run (`prewarm_runs`).
        "prewarm.run": {
            "task": "prewarm.run",
            "schedule": crontab(**prewarm.fields),
            "options": {"expires": prewarm.shortest_gap(now).total_seconds() * 1.5},
        },
    }
