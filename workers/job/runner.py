"""Runs one attempt of a job through its phases, recording each as it ends."""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from workers.catalog.registry import get_model
from workers.db.engine import session_scope
from workers.job import service
from workers.job.crash import crash_point
from workers.job.models import Phase
from workers.job.output import store_output
from workers.job.provider_health import Wait
from workers.job.service import Claim
from workers.job.timing import PhaseClock
from workers.media.probe import probe
from workers.provider.local import LocalProvider
from workers.settings import get_settings


class AttemptLost(Exception):
    """The job was canceled or taken over while this attempt ran; stop quietly."""


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


def claim_job(job_id: uuid.UUID) -> Claim | Wait | None:
    settings = get_settings()
    with session_scope() as session:
        return service.claim(
            session,
            job_id,
            lease_s=settings.job_lease_s,
            provider_limit=settings.provider_concurrency,
        )


def run_attempt(claim: Claim) -> None:
    """Run a claimed attempt to `succeeded`. Errors propagate to the task, which decides."""
    settings = get_settings()
    spec = get_model(claim.model)
    provider = local_provider_factory()
    clock = PhaseClock(claim.started_at)

    def finished(phase: Phase) -> None:
        started_at, duration_ms = clock.lap()
        with session_scope() as session:
            if not service.record_phase(
                session, claim, phase, started_at, duration_ms, lease_s=settings.job_lease_s
            ):
                raise AttemptLost(str(claim.job_id))
        log.info("job.phase_recorded job_id=%s phase=%s ms=%.1f", claim.job_id, phase, duration_ms)

    provider.load(spec.id)
    finished(Phase.MODEL_LOADING)
    crash_point("while_generating")
    rendered = provider.generate(spec.id, claim.input)
    finished(Phase.GENERATION)
    with tempfile.TemporaryDirectory(prefix="abstrakt-") as workdir:
        output = provider.encode(rendered, Path(workdir))
        assert output.path is not None
        info = probe(output.path)  # the file's true shape, not what the renderer meant
        crash_point("while_encoding")
        finished(Phase.ENCODING)
        crash_point("while_uploading")
        result = store_output(claim.job_id, output.path, info)
        started_at, duration_ms = clock.lap()
    with session_scope() as session:
        if not service.succeed(
            session,
            claim,
            result=result,
            last_phase=(Phase.UPLOAD, started_at, duration_ms),
            finished_at=clock.now_wall(),
        ):
            raise AttemptLost(str(claim.job_id))
    log.info("job.succeeded job_id=%s attempt=%s", claim.job_id, claim.attempt)
