"""A hosted attempt's two worker steps: submit (then let go), and finalize (fetch, store).

Neither waits for the provider: between them the job holds no worker; the poller watches it.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from workers.catalog.models import ModelSpec
from workers.catalog.registry import get_model
from workers.db.engine import session_scope
from workers.errors import PermanentProviderError
from workers.job import remote
from workers.job.crash import crash_point
from workers.job.heartbeat import Heartbeat
from workers.job.models import Phase
from workers.job.output import store_output
from workers.job.runner import AttemptLost
from workers.job.service import Claim
from workers.media.probe import MediaInfo, probe
from workers.media.transcode import poster_frame, transcode_mp4
from workers.provider.base import FindsSubmissions, OutputFile, Submission
from workers.provider.registry import adapter_for
from workers.settings import get_settings

log = logging.getLogger(__name__)


def first_poll_in_s(spec: ModelSpec) -> float:
    return next_poll_in_s(spec, elapsed_s=0.0)


def next_poll_in_s(spec: ModelSpec, *, elapsed_s: float) -> float:
    """Check rarely while the job is young, often as its expected finish nears.

    Half the expected remaining time, bounded by the settings, so the checks close in on
    the expected finish geometrically (about ten per job); once past it, the minimum, so a
    late job is noticed quickly.
    """
    settings = get_settings()
    remaining = spec.typical_latency_s - elapsed_s
    return min(settings.poll_max_interval_s, max(settings.poll_min_interval_s, remaining / 2))


def submit_attempt(claim: Claim) -> None:
    """Submit a claimed hosted job once and store the provider's request id.

    The intent is committed first, so a crash between the provider accepting and our row
    recording it is visible on recovery (see README, "Exactly one submission").
    """
    spec = get_model(claim.model)
    adapter = adapter_for(spec.provider)
    if claim.submit_state in ("submitted", "completed"):
        # A takeover after the worker died past submission: the provider has the request.
        with session_scope() as session:
            remote.resume_waiting(session, claim, first_poll_in_s=0.0)
        return
    payload = adapter.build_payload(spec.provider_model, claim.input)
    with session_scope() as session:
        earlier_intent = remote.intent_time(session, claim.job_id)
        if not remote.record_intent(session, claim):
            raise AttemptLost(str(claim.job_id))
    submission = None
    if earlier_intent is not None:
        submission = _find_earlier(adapter, spec.provider_model, payload, earlier_intent, claim)
    if submission is None:
        crash_point("before_submit")
        submission = adapter.submit(spec.provider_model, payload)
        crash_point("after_submit")
    with session_scope() as session:
        recorded = remote.record_submission(
            session, claim, submission, first_poll_in_s=first_poll_in_s(spec)
        )
    if not recorded:  # canceled while we were submitting: don't leave it running there
        adapter.cancel(spec.provider_model, submission)
        raise AttemptLost(str(claim.job_id))
    log.info("job.submitted job_id=%s provider=%s", claim.job_id, spec.provider)


def _find_earlier(
    adapter: object, model: str, payload: dict[str, Any], since: datetime, claim: Claim
) -> Submission | None:
    """After a crash between intent and record: the provider may hold our request already.

    Where the provider can list requests (Replicate, OpenAI) we look before submitting
    again; where it cannot (fal, Gemini), the window stays open and we submit again (README,
    "Exactly one submission").
    """
    if not isinstance(adapter, FindsSubmissions):
        log.warning("job.resubmit_unverifiable job_id=%s", claim.job_id)
        return None
    found = adapter.find_submission(model, payload, created_after=since)
    if found is None:
        return None
    with session_scope() as session:
        if remote.request_id_taken(session, found.request_id, by_other_than=claim.job_id):
            return None
    log.warning("job.submission_recovered job_id=%s request_id=%s", claim.job_id, found.request_id)
    return found


def finalize(job_id: uuid.UUID) -> None:
    """Fetch the provider's output, post-process it (encoding) and store it (upload)."""
    settings = get_settings()
    with session_scope() as session:
        claim = remote.claim_finalize(session, job_id, lease_s=settings.job_lease_s)
        submission = remote.submission_of(session, job_id)
    if claim is None or submission is None:
        return
    with Heartbeat(claim, lease_s=settings.job_lease_s):
        _finalize(claim, submission)


def _finalize(claim: Claim, submission: Submission) -> None:
    job_id = claim.job_id
    spec = get_model(claim.model)
    adapter = adapter_for(spec.provider)
    outputs = adapter.result(spec.provider_model, submission)
    if not outputs:
        raise PermanentProviderError(message="the provider returned no file", code="empty_result")
    with tempfile.TemporaryDirectory(prefix="abstrakt-") as workdir:
        path, info, poster = _encode(adapter.download, outputs[0], claim, Path(workdir))
        crash_point("while_encoding")
        with session_scope() as session:
            if not remote.record_phase_now(session, claim, Phase.ENCODING):
                raise AttemptLost(str(job_id))
        crash_point("while_uploading")
        result = store_output(job_id, path, info, poster)
    with session_scope() as session:
        if not remote.succeed_now(session, claim, result=result):
            raise AttemptLost(str(job_id))
    log.info("job.succeeded job_id=%s provider=%s", job_id, spec.provider)


def _encode(
    download: Callable[[OutputFile, Path], None], output: OutputFile, claim: Claim, workdir: Path
) -> tuple[Path, MediaInfo, Path | None]:
    """Download, probe and, for video, bring it to the requested size and grab a poster."""
    raw = workdir / "download"
    download(output, raw)
    info = probe(raw)
    if not info.content_type.startswith("video/"):
        suffix = info.content_type.split("/")[-1].replace("jpeg", "jpg")
        final = raw.rename(workdir / f"output.{suffix}")
        return final, info, None
    final = workdir / "output.mp4"
    width, height = claim.input.get("width"), claim.input.get("height")
    if width and height and (info.width, info.height) != (width, height):
        transcode_mp4(raw, final, int(width), int(height))
        info = probe(final)
    else:
        raw.rename(final)
    poster = workdir / "poster.png"
    poster_frame(final, poster)
    return final, info, poster
