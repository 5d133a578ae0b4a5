"""Emulator settings: timings, faults and provider-side failures, globally and per model.

`POST /_emulator/config` takes one JSON object. Without `model` it changes the defaults for
every model; with `model` it overrides only that model (fields left out keep inheriting):

    {"model": "fal-ai/ltx-video",          # optional
     "queue_s": 0.2, "generation_s": 0.5,  # time from submission spent in each provider state
     "fault_rate": 0.5,                     # probability that one API request meets a fault
     "faults": ["429", "500", "503", "drop", "timeout", "malformed"],
     "retry_after_s": 2,                    # Retry-After sent with a 429
     "timeout_s": 30,                       # how long a "timeout" fault holds the response
     "fail_rate": 0.0,                      # probability that a submitted job fails at the end
     "fps": 24,                             # frame rate of rendered videos
     "media_scale": 1.0,                    # fraction of the real size media is rendered at
     "callback_delay_s": 0,                 # a callback is sent this long after the job ends
     "callback_loss_rate": 0.0,             # probability that a callback is never sent
     "callback_duplicates": 0}              # extra copies of each callback sent

Set only at start (`EmulatorConfig(...)` or the CLI), for every model: `api_key`, `seed` and
`stock_media` (`--stock-media`: render one file per distinct media spec and serve it to every
job with that spec, instead of one per job; a real provider renders on its own GPUs, so a
load test need not spend the host's CPU on it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    THROTTLED = "429"  # 429 with Retry-After, before the request takes effect
    SERVER_ERROR = "500"  # 500, before the request takes effect
    UNAVAILABLE = "503"  # 503, before the request takes effect
    DROP = "drop"  # the request takes effect, then the connection is cut mid-response
    TIMEOUT = "timeout"  # the request takes effect, the response comes `timeout_s` late
    MALFORMED = "malformed"  # the request takes effect, the body is truncated JSON


# Faults that reject a request before it changes anything; the others happen after the
# request took effect, like a real gateway losing an answer (a submit may have been made).
EARLY_FAULTS = frozenset({FaultKind.THROTTLED, FaultKind.SERVER_ERROR, FaultKind.UNAVAILABLE})

# A prompt containing this marker fails at the provider when generation ends.
FAIL_MARKER = "[[fail]]"
# Like FAIL_MARKER, but fal's status then carries no `error`: only the result URL shows the
# failure (seen with some fal apps), so clients must check the result.
FAIL_QUIET_MARKER = "[[fail-quiet]]"
# A prompt containing this marker is refused at submission as invalid input.
REJECT_MARKER = "[[reject]]"


@dataclass(frozen=True)
class ModelSettings:
    queue_s: float = 1.0
    generation_s: float = 3.0
    fault_rate: float = 0.0
    faults: tuple[FaultKind, ...] = tuple(FaultKind)
    retry_after_s: float = 1.0
    timeout_s: float = 30.0
    fail_rate: float = 0.0
    fps: int = 24
    # Rendered media is this fraction of the model's real size: load tests keep thousands of
    # jobs cheap to render on a small machine, the protocol unchanged.
    media_scale: float = 1.0
    # Callbacks to jobs submitted with one (emulator/callbacks.py).
    callback_delay_s: float = 0.0
    callback_loss_rate: float = 0.0
    callback_duplicates: int = 0

    def updated(self, changes: dict[str, Any]) -> ModelSettings:
        """A copy with `changes` applied; raises ValueError naming a bad field."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "faults":
                if isinstance(value, str):
                    value = [v for v in value.split(",") if v]
                values[name] = tuple(FaultKind(str(v)) for v in value)
            elif name in ("fps", "callback_duplicates"):
                values[name] = int(value)
            else:
                number = float(value)
                if number < 0 or (name.endswith("_rate") and number > 1):
                    raise ValueError(f"{name} out of range: {value}")
                values[name] = number
        return dataclasses.replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["faults"] = [str(f) for f in self.faults]
        return data


@dataclass
class EmulatorConfig:
    defaults: ModelSettings = field(default_factory=ModelSettings)
    # model id → only the fields set for it; merged over `defaults` at lookup time.
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # None: any non-empty key is accepted; otherwise exactly this one.
    api_key: str | None = None
    seed: int | None = None  # seeds the fault dice, for reproducible runs
    stock_media: bool = False  # one rendered file per distinct media spec (emulator/media.py)

    def for_model(self, model: str) -> ModelSettings:
        changes = self.overrides.get(model)
        return self.defaults.updated(changes) if changes else self.defaults

    def apply(self, body: dict[str, Any]) -> None:
        """Apply one `POST /_emulator/config` body (validated before anything changes)."""
        changes = dict(body)
        model = changes.pop("model", None)
        if model is None:
            self.defaults = self.defaults.updated(changes)
            return
        merged = {**self.overrides.get(str(model), {}), **changes}
        self.defaults.updated(merged)  # validate
        self.overrides[str(model)] = merged

    def as_dict(self) -> dict[str, Any]:
        return {
            "stock_media": self.stock_media,
            "defaults": self.defaults.as_dict(),
            "models": {m: self.for_model(m).as_dict() for m in self.overrides},
        }
