"""A hosted attempt's last worker step: fetch the provider's output, post-process it
(encoding) and store it (upload), then the job succeeds."""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workers.catalog.models import ModelSpec
from workers.catalog.registry import get_model
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.errors import PermanentProviderError
from workers.job.run import AttemptLost
from workers.job.run.crash import crash_point
from workers.job.run.heartbeat import Heartbeat
from workers.job.run.output import store_output
from workers.job.state import hosted
from workers.job.state.attempt import Attempt
from workers.media.formats import MediaKind
from workers.media.probe import MediaInfo, probe
from workers.media.transcode import poster_frame, transcode_mp4
from workers.provider.base import OutputFile, Submission
from workers.provider.registry import adapter_for
from workers.settings import get_settings

log = logging.getLogger(__name__)


def finalize_hosted(job_id: uuid.UUID) -> None:
    """Fetch the provider's output, post-process it (encoding) and store it (upload)."""
    settings = get_settings()
    with session_scope() as session:
        attempt = hosted.start_finalize(session, job_id, lease_s=settings.job_lease_s)
        submission = hosted.submission_of(session, job_id)
    if attempt is None or submission is None:
        return
    with Heartbeat(attempt, lease_s=settings.job_lease_s):
        _finalize(attempt, submission)


def _finalize(attempt: Attempt, submission: Submission) -> None:
    job_id = attempt.job_id
    spec = get_model(attempt.model)
    adapter = adapter_for(spec.provider)
    outputs = adapter.result(spec.provider_model, submission, output=spec.output)
    if not outputs:
        raise PermanentProviderError(message="the provider returned no file", code="empty_result")
    if spec.kind is MediaKind.VIDEO:
        outputs = outputs[:1]  # one video a job
    with tempfile.TemporaryDirectory(prefix="abstrakt-") as workdir:
        files, poster = [], None
        for index, output in enumerate(outputs):
            name = "output" if len(outputs) == 1 else f"output-{index}"
            path, info, poster = _encode(
                adapter.download, output, attempt, spec, Path(workdir), name
            )
            files.append((path, info))
        crash_point("while_encoding")
        encoded_at = utcnow()
        crash_point("while_uploading")
        result = store_output(job_id, files, poster)
    with session_scope() as session:
        if not hosted.succeed_now(session, attempt, encoded_at=encoded_at, result=result):
            raise AttemptLost(str(job_id))
    log.info("job.succeeded job_id=%s provider=%s", job_id, spec.provider)


def _encode(
    download: Callable[[OutputFile, Path], None],
    output: OutputFile,
    attempt: Attempt,
    spec: ModelSpec,
    workdir: Path,
    name: str,
) -> tuple[Path, MediaInfo, Path | None]:
    """Download and probe; a video is brought to the requested size (and, for a model that
    makes more than asked, cut to the requested length) and gets a poster."""
    raw = workdir / f"{name}.download"
    download(output, raw)
    info = probe(raw)
    if not info.content_type.startswith("video/"):
        suffix = info.content_type.split("/")[-1].replace("jpeg", "jpg")
        final = raw.rename(workdir / f"{name}.{suffix}")
        return final, info, None
    final = workdir / f"{name}.mp4"
    width, height = (
        attempt.input.get("width") or info.width,
        attempt.input.get("height") or info.height,
    )
    cut = _cut_to(spec, attempt.input, info)
    if (info.width, info.height) != (width, height) or cut is not None:
        transcode_mp4(raw, final, int(width), int(height), max_duration_s=cut)
        info = probe(final)
    else:
        raw.rename(final)
    poster = workdir / "poster.png"
    poster_frame(final, poster)
    return final, info, poster


def _cut_to(spec: ModelSpec, canonical: dict[str, Any], info: MediaInfo) -> float | None:
    """The length to cut a video to: the asked duration, for a model whose entry says it
    makes at least that much (`trim`), when the file is longer by more than a frame."""
    asked = canonical.get("duration")
    if spec.inputs.duration is None or not spec.inputs.duration.trim or asked is None:
        return None
    frame = 1 / info.fps if info.fps else 0.05
    if info.duration_s is None or info.duration_s <= float(asked) + frame / 2:
        return None
    return float(asked)
