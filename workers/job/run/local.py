"""A local model's attempt: every phase on the worker, each recorded as it ends."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from workers.catalog.models import ModelSpec
from workers.catalog.registry import get_model
from workers.db.engine import session_scope
from workers.job.live import estimate, publish
from workers.job.live.ticker import ProgressTicker
from workers.job.models import Phase
from workers.job.run import AttemptLost
from workers.job.run.crash import crash_point
from workers.job.run.output import store_output
from workers.job.run.timing import PhaseClock
from workers.job.state import attempt as attempt_state
from workers.job.state.attempt import Attempt
from workers.media.probe import probe
from workers.media.render import Frame, encode_png
from workers.provider.local import LocalProvider
from workers.settings import get_settings
from workers.storage import get_storage

log = logging.getLogger(__name__)


def default_local_provider() -> LocalProvider:
    settings = get_settings()
    return LocalProvider(
        model_loading_s=settings.local_model_loading_s,
        generation_s=settings.local_generation_s,
        fps=settings.local_fps,
    )


# The one getter for the provider a job runs on; tests replace it.
local_provider_factory: Callable[[], LocalProvider] = default_local_provider


def run_local(attempt: Attempt) -> None:
    """Run a started attempt to `succeeded`. Errors propagate to the task, which decides."""
    run = _LocalRun(attempt)
    try:
        run.run()
    finally:
        publish.forget(attempt.job_id)


class _LocalRun:
    """One attempt on the local provider: its phases, progress estimates and early frame."""

    def __init__(self, attempt: Attempt) -> None:
        self.attempt = attempt
        self.settings = get_settings()
        self.spec = get_model(attempt.model)
        self.provider = local_provider_factory()
        self.clock = PhaseClock(attempt.started_at)
        self.expected = expected_phase_seconds(attempt, self.spec)

    def run(self) -> None:
        attempt, spec, provider = self.attempt, self.spec, self.provider
        with self._ticking(Phase.MODEL_LOADING):
            provider.load(spec.id)
        self._finished(Phase.MODEL_LOADING)
        crash_point("while_generating")
        with self._ticking(Phase.GENERATION):
            rendered = provider.generate(spec.id, attempt.input, on_first_frame=self._first_frame)
        self._finished(Phase.GENERATION)
        with tempfile.TemporaryDirectory(prefix="abstrakt-") as workdir:
            outputs = provider.encode(rendered, Path(workdir), fps=attempt.input.get("fps"))
            # Each file's true shape, not what the renderer meant.
            files = [(output.path, probe(output.path)) for output in outputs if output.path]
            crash_point("while_encoding")
            self._finished(Phase.ENCODING)
            crash_point("while_uploading")
            result = store_output(attempt.job_id, files)
            started_at, duration_ms = self.clock.lap()
        with session_scope() as session:
            if not attempt_state.succeed(
                session,
                attempt,
                result=result,
                last_phase=(Phase.UPLOAD, started_at, duration_ms),
                finished_at=self.clock.now_wall(),
            ):
                raise AttemptLost(str(attempt.job_id))
        log.info("job.succeeded job_id=%s attempt=%s", attempt.job_id, attempt.number)

    def _finished(self, phase: Phase) -> None:
        started_at, duration_ms = self.clock.lap()
        with session_scope() as session:
            if not attempt_state.record_phase(
                session,
                self.attempt,
                phase,
                started_at,
                duration_ms,
                lease_s=self.settings.job_lease_s,
            ):
                raise AttemptLost(str(self.attempt.job_id))
        log.info(
            "job.phase_recorded job_id=%s phase=%s ms=%.1f", self.attempt.job_id, phase, duration_ms
        )

    def _ticking(self, phase: Phase) -> ProgressTicker:
        return ProgressTicker(
            self.attempt.job_id,
            phase,
            expected_s=self.expected[phase],
            interval_s=self.settings.live_progress_interval_s,
        )

    def _first_frame(self, frame: Frame) -> None:
        """A video's first frame, stored and logged as a `preview` while the rest renders."""
        job_id = self.attempt.job_id
        with tempfile.TemporaryDirectory(prefix="abstrakt-") as workdir:
            path = Path(workdir) / "preview.png"
            encode_png(frame, path)
            url = get_storage().put(f"jobs/{job_id}/preview.png", path)
        with session_scope() as session:
            if not attempt_state.record_preview(session, self.attempt, url):
                raise AttemptLost(str(job_id))


def expected_phase_seconds(attempt: Attempt, spec: ModelSpec) -> dict[Phase, float]:
    """How long loading and generating usually take for jobs like this one."""
    with session_scope() as session:
        return {
            phase: estimate.expected_seconds(session, spec, attempt.input, phase)
            for phase in (Phase.MODEL_LOADING, Phase.GENERATION)
        }
