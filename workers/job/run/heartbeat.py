"""A running attempt's heartbeat: renews its lease while the work goes on.

The lease is how the system tells a slow worker from a dead one. It is short (30 s by
default), so a killed worker's job is taken over quickly, and renewed every third of it
by this thread, so a long phase on a live worker is never mistaken for a dead one.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from workers.db.engine import session_scope
from workers.job.state import attempt as attempt_state
from workers.job.state.attempt import Attempt

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, attempt: Attempt, *, lease_s: float) -> None:
        self.attempt = attempt
        self.lease_s = lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                with session_scope() as session:
                    if not attempt_state.renew_lease(session, self.attempt, lease_s=self.lease_s):
                        return  # finished, canceled or taken over: nothing left to hold
            except Exception:  # a missed beat is survivable; the next one may succeed
                log.exception("job.heartbeat_failed job_id=%s", self.attempt.job_id)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
