"""OpenAI Videos API (Sora 2) adapter (providers.md §3).

- create is `POST /videos` as multipart/form-data, as the official SDK sends it (whether the
  API also takes JSON is unconfirmed, so we do not rely on it);
- retrieve gives `status` and `progress` (0-100, reported here as 0..1);
- the bytes come from `GET /videos/{id}/content`, which needs our Bearer key, so `result()`
  returns that URL and `download()` attaches the key only for URLs on the API host;
- there is no cancel endpoint. `cancel()` does the only thing the protocol allows: it
  DELETEs the video, which removes a finished asset; for a job still queued or running the
  API may refuse, and generation (and billing) then simply continues.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.base import OutputFile, RemoteState, RemoteStatus, Submission
from workers.provider.http import REQUEST_FAULT_STATUS, ProviderHTTP, same_origin

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# The SDK's literal lists 4/8/12; the current guide adds 16 and 20 for both models.
SECONDS = (4, 8, 12, 16, 20)


def build_payload(model: str, normalized_input: dict[str, Any]) -> dict[str, Any]:
    """Normalized input → `prompt`, `model`, `seconds` (string), `size` ("WxH")."""
    inp = normalized_input
    payload: dict[str, Any] = {"prompt": inp["prompt"], "model": model}
    duration = inp.get("duration")
    if duration is not None:
        # The shortest allowed clip that is at least as long as asked (capped at the maximum).
        payload["seconds"] = str(next((s for s in SECONDS if s >= float(duration)), SECONDS[-1]))
    width, height = inp.get("width"), inp.get("height")
    aspect = inp.get("aspect_ratio")
    portrait: bool | None = None
    if width and height:
        portrait = int(height) > int(width)
    elif isinstance(aspect, str) and ":" in aspect:
        w, h = (float(x) for x in aspect.split(":", 1))
        portrait = h > w
    if portrait is not None or inp.get("resolution"):
        big = inp.get("resolution") == "1080p" and model.startswith("sora-2-pro")
        long_side, short_side = (1920, 1080) if big else (1280, 720)
        payload["size"] = f"{short_side}x{long_side}" if portrait else f"{long_side}x{short_side}"
    return payload


class OpenAIVideosProvider:
    name = "openai"

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client: httpx.Client | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = {"Authorization": f"Bearer {api_key}".strip()}
        self.http = ProviderHTTP(self.name, secret=api_key, client=client, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    build_payload = staticmethod(build_payload)

    def submit(self, model: str, payload: dict[str, Any]) -> Submission:
        """Create once. The SDK retries this POST with no idempotency key; we do not retry."""
        fields = {**payload, "model": payload.get("model", model)}
        # (None, value) parts make httpx send multipart/form-data without any file.
        files = {k: (None, str(v)) for k, v in fields.items() if v is not None}
        body = self.http.send_json(
            "POST", f"{self.base_url}/videos", headers=self._auth, files=files
        )
        video_id = body.get("id")
        if not isinstance(video_id, str):
            raise RetryableProviderError(
                message="openai: create response without id", code="provider_malformed_response"
            )
        return Submission(request_id=video_id)

    def _retrieve(self, submission: Submission) -> dict[str, Any]:
        return self.http.send_json(
            "GET", f"{self.base_url}/videos/{submission.request_id}", headers=self._auth
        )

    def status(self, model: str, submission: Submission) -> RemoteStatus:
        return _status_of(self._retrieve(submission))

    def result(self, model: str, submission: Submission) -> list[OutputFile]:
        video = self._retrieve(submission)
        status = _status_of(video)
        if status.state is RemoteState.FAILED:
            raise PermanentProviderError(
                message=f"openai: video failed: {status.error_message}",
                code="provider_failed",
                details={"provider": self.name, "error_code": status.error_code},
            )
        if status.state is not RemoteState.SUCCEEDED:
            raise RetryableProviderError(
                message=f"openai: video is {video.get('status')}, not completed",
                code="provider_not_ready",
            )
        width = height = None
        size = str(video.get("size") or "")
        if "x" in size:
            w, h = size.split("x", 1)
            width, height = int(w), int(h)
        seconds = video.get("seconds")
        return [
            OutputFile(
                content_type="video/mp4",
                url=f"{self.base_url}/videos/{submission.request_id}/content",
                width=width,
                height=height,
                duration_s=float(seconds) if seconds is not None else None,
            )
        ]

    def cancel(self, model: str, submission: Submission) -> None:
        """Best effort (no cancel endpoint exists): DELETE the video; a refusal is logged."""
        response = self.http.send(
            "DELETE",
            f"{self.base_url}/videos/{submission.request_id}",
            headers=self._auth,
            ok_status=REQUEST_FAULT_STATUS,
        )
        if not response.is_success:
            log.info(
                "provider.cancel_unsupported provider=openai request_id=%s status=%s",
                submission.request_id,
                response.status_code,
            )

    def download(self, output: OutputFile, dest: Path) -> None:
        """The content endpoint needs the key; any other host gets none."""
        if output.url is None:
            raise PermanentProviderError(
                message="openai: output has no URL", code="provider_empty_result"
            )
        headers = dict(self._auth) if same_origin(output.url, self.base_url) else {}
        headers["Accept"] = "application/binary"
        self.http.download(output.url, dest, headers=headers)


def _status_of(video: dict[str, Any]) -> RemoteStatus:
    state = video.get("status")
    progress = video.get("progress")
    fraction = max(0.0, min(1.0, float(progress) / 100)) if progress is not None else None
    if state == "queued":
        return RemoteStatus(RemoteState.QUEUED, progress=fraction)
    if state == "in_progress":
        return RemoteStatus(RemoteState.RUNNING, progress=fraction)
    if state == "completed":
        return RemoteStatus(RemoteState.SUCCEEDED, progress=1.0)
    if state == "failed":
        error = video.get("error") or {}
        return RemoteStatus(
            RemoteState.FAILED,
            progress=fraction,
            error_code=str(error.get("code")) if error.get("code") else None,
            error_message=str(error.get("message") or "video generation failed"),
        )
    raise RetryableProviderError(
        message=f"openai: unknown video status {state!r}", code="provider_malformed_response"
    )
