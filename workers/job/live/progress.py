"""How far along a job is, as the one number a progress bar shows (0–100).

Each phase owns a band of the bar; a phase's own progress (a provider's signal, or an
estimate from how long similar jobs took) moves within its band. Only the job's end reaches
100, so an estimate that runs long slows down instead of claiming the job is done.
"""

from __future__ import annotations

import math
import re

from workers.job.models import Phase

BANDS: dict[str, tuple[int, int]] = {
    Phase.QUEUE_WAIT: (0, 5),
    Phase.MODEL_LOADING: (5, 15),
    Phase.GENERATION: (15, 90),
    Phase.ENCODING: (90, 96),
    Phase.UPLOAD: (96, 99),
}
ORDER: tuple[str, ...] = tuple(BANDS)
DONE = "done"  # the phase a finished job reports
LAST_BEFORE_DONE = 99


def after(phase: str) -> str:
    """The phase that starts when `phase` ends."""
    if phase not in BANDS:
        return DONE
    index = ORDER.index(phase)
    return ORDER[index + 1] if index + 1 < len(ORDER) else DONE


def overall(phase: str, fraction: float = 0.0) -> int:
    """The bar's value `fraction` (0..1) of the way through `phase`; never 100."""
    if phase not in BANDS:
        return LAST_BEFORE_DONE
    low, high = BANDS[phase]
    fraction = min(1.0, max(0.0, fraction))
    return min(LAST_BEFORE_DONE, math.floor(low + (high - low) * fraction))


def estimated_fraction(elapsed_s: float, expected_s: float) -> float:
    """How far a phase that usually takes `expected_s` is after `elapsed_s`, below 1.

    Linear up to 0.9 at the expected time, then ever slower towards 0.99, so a slow job
    keeps moving and never looks finished before it is.
    """
    if expected_s <= 0:
        return 0.9
    ratio = max(0.0, elapsed_s) / expected_s
    if ratio <= 1.0:
        return 0.9 * ratio
    return 0.9 + 0.09 * (1 - math.exp(-(ratio - 1.0)))


_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s?%")


def percent_in_logs(logs: list[str]) -> float | None:
    """The last percentage a model printed (Replicate's and fal's progress bars), as 0..1."""
    for line in reversed(logs):
        found = _PERCENT.findall(line)
        if found:
            value = float(found[-1])
            if 0 <= value <= 100:
                return value / 100
    return None
