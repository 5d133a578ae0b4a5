"""Progress estimates published while a phase runs on a worker, with no database write."""

from __future__ import annotations

import threading
import time
import uuid
from types import TracebackType

from workers.job.live import progress, publish


class ProgressTicker:
    """While the `with` block runs, publish the phase's estimated progress every
    `interval_s`, whenever the whole-number value moves (coalesced: no repeats)."""

    def __init__(
        self, job_id: uuid.UUID, phase: str, *, expected_s: float, interval_s: float
    ) -> None:
        self.job_id, self.phase = job_id, phase
        self.expected_s, self.interval_s = expected_s, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress-ticker", daemon=True)
        self.published: list[int] = []

    def __enter__(self) -> ProgressTicker:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last = progress.overall(self.phase)  # the log's phase event already said this much
        while not self._stop.wait(self.interval_s):
            elapsed = time.monotonic() - self._started
            value = progress.overall(
                self.phase, progress.estimated_fraction(elapsed, self.expected_s)
            )
            if value > last:
                publish.progress(self.job_id, self.phase, value, estimated=True)
                self.published.append(value)
                last = value
