"""When a failed delivery is tried again: `WEBHOOK_RETRY_SCHEDULE_S`, one delay per retry,
with ±10 % jitter so that receivers that failed together are not retried together. A
`Retry-After` from the receiver (429, 503) postpones the retry, never brings it forward.
"""

from __future__ import annotations

import random

from workers.settings import get_settings

JITTER = 0.1
# The most a delivery message may wait in the broker (a countdown); a longer delay is left
# to the rows, where beat's sweep finds it when it is due.
MAX_COUNTDOWN_S = 60.0


def retry_delay_s(attempt_in_round: int, retry_after_s: float | None = None) -> float | None:
    """The delay before the retry that follows failed attempt number `attempt_in_round`
    (1 = the first attempt since the delivery was enqueued or redelivered); None when the
    schedule is spent."""
    schedule = get_settings().webhook_retry_schedule_s
    if attempt_in_round > len(schedule):
        return None
    delay = schedule[attempt_in_round - 1] * random.uniform(1 - JITTER, 1 + JITTER)
    return max(delay, retry_after_s or 0.0)


def attempts_per_round() -> int:
    return len(get_settings().webhook_retry_schedule_s) + 1
