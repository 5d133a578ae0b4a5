"""One figure of the benchmark beside its baseline, and the percentile the cases report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    case: str
    metric: str
    ours: float | None
    baseline: float | None
    goal: str
    met: bool | None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline


def not_yet(case: str, metric: str, goal: str, why: str) -> Result:
    return Result(case, metric, None, None, goal, None, {"status": "not yet", "why": why})


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
