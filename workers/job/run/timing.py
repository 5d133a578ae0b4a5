"""Back-to-back phase timing on a monotonic clock, anchored to the attempt's start.

Each phase starts exactly where the previous one ended, so the phases of an attempt add up
to its wall time: nothing between them goes unaccounted (bookkeeping counts in the next phase).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta


class PhaseClock:
    def __init__(self, started_at: datetime) -> None:
        self._anchor_wall = started_at
        self._anchor = time.perf_counter()
        self._last_end = self._anchor

    def lap(self) -> tuple[datetime, float]:
        """End the current phase now: its wall start and its duration in milliseconds."""
        end = time.perf_counter()
        start_wall = self._wall(self._last_end)
        duration_ms = (end - self._last_end) * 1000
        self._last_end = end
        return start_wall, duration_ms

    def now_wall(self) -> datetime:
        """The wall time at the end of the last phase."""
        return self._wall(self._last_end)

    def _wall(self, perf: float) -> datetime:
        return self._anchor_wall + timedelta(seconds=perf - self._anchor)
