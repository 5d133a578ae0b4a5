"""A local model's attempt: every phase on the worker, each recorded as it ends."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from workers.catalog.registry import get_model
from workers.db.engine import session_scope
from workers.job.models import Phase
from workers.job.run import AttemptLost
from workers.job.run.crash import crash_point
from workers.job.run.output import store_output
from workers.job.run.timing import PhaseClock
from workers.job.state import attempt as attempt_state
from workers.job.state.attempt import Attempt
from workers.media.probe import probe
from workers.provider.local import LocalProvider
from workers.settings import get_settings

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
    settings = get_settings()
    spec = get_model(attempt.model)
    provider = local_provider_factory()
    clock = PhaseClock(attempt.started_at)

    def finished(phase: Phase) -> None:
        started_at, duration_ms = clock.lap()
        with session_scope() as session:
            if not attempt_state.record_phase(
                session, attempt, phase, started_at, duration_ms, lease_s=settings.job_lease_s
            ):
                raise AttemptLost(str(attempt.job_id))
        log.info(
            "job.phase_recorded job_id=%s phase=%s ms=%.1f", attempt.job_id, phase, duration_ms
        )

    provider.load(spec.id)
    finished(Phase.MODEL_LOADING)
    crash_point("while_generating")
    rendered = provider.generate(spec.id, attempt.input)
    finished(Phase.GENERATION)
    with tempfile.TemporaryDirectory(prefix="abstrakt-") as workdir:
        output = provider.encode(rendered, Path(workdir))
        assert output.path is not None
        info = probe(output.path)  # the file's true shape, not what the renderer meant
        crash_point("while_encoding")
        finished(Phase.ENCODING)
        crash_point("while_uploading")
        result = store_output(attempt.job_id, output.path, info)
        started_at, duration_ms = clock.lap()
    with session_scope() as session:
        if not attempt_state.succeed(
            session,
            attempt,
            result=result,
            last_phase=(Phase.UPLOAD, started_at, duration_ms),
            finished_at=clock.now_wall(),
        ):
            raise AttemptLost(str(attempt.job_id))
    log.info("job.succeeded job_id=%s attempt=%s", attempt.job_id, attempt.number)
