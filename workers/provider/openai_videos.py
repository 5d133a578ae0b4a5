"""OpenAI Videos API (Sora 2) adapter (providers.md §3).

- create is `POST /videos` as multipart/form-data, as the official SDK sends it (whether the
  API also takes JSON is unconfirmed, so we do not rely on it);
- retrieve gives `status` and `progress` (0-100, reported here as 0..1);
- the bytes come from `GET /videos/{id}/content`, which needs our Bearer key, so `result()`
  returns that URL and `download()` attaches the key only for URLs on the API host;
- there is no cancel endpoint. `cancel()` does the only thing the protocol allows: it
  DELETEs the video, which removes a finished asset; for a job still queued or running the
  API may refuse, and generation (and billing) then simply continues;
- `find_submission` pages `GET /videos?order=desc&limit=…&after=<last_id>` (response
  `{"data", "first_id", "last_id", "has_more"}`) to recover a video whose id a crashed worker
  never recorded. A video shows only `model`, `prompt`, `seconds` and `size` of what was sent,
  so those are what must match; `created_at` is whole unix seconds.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.adapter import HTTPAdapter, require_succeeded
from workers.provider.base import OutputFile, RemoteState, RemoteStatus, Submission
from workers.provider.http import REQUEST_FAULT_STATUS, same_origin

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# `created_at` comes from OpenAI's clock; a lookup also accepts videos up to this much older
# than asked, so a fast local clock cannot hide our own submission.
CLOCK_SKEW = timedelta(seconds=60)
# The create fields a video object echoes back; any other payload field cannot be compared.
ECHOED = ("prompt", "seconds", "size")
MAX_LIST_PAGES = 50  # past this a lookup errors rather than answer from a partial read


def build_payload(model: str, model_input: dict[str, Any]) -> dict[str, Any]:
    """The create fields: the model's own (`prompt`, `seconds`, `size`, as its catalog
    entry maps them) and `model`, which is always ours."""
    return {**model_input, "model": model}


class OpenAIVideosProvider(HTTPAdapter):
    name = "openai"

    default_base_url = DEFAULT_BASE_URL

    build_payload = staticmethod(build_payload)

    def submit(self, model: str, payload: dict[str, Any]) -> Submission:
        """Create once. The SDK retries this POST with no idempotency key; we do not retry."""
        fields = {**payload, "model": model}
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

    # The API's maximum page size; tests lower it to exercise paging.
    list_page_size = 100

    def find_submission(
        self, model: str, payload: dict[str, Any], *, created_after: datetime
    ) -> Submission | None:
        """The earliest video of this model, prompt (and `seconds`/`size`, when the payload
        has them) created since `created_after` less `CLOCK_SKEW`; see `FindsSubmissions`.
        Read-only."""
        if created_after.tzinfo is None:
            raise ValueError("created_after must be timezone-aware")
        since = (created_after - CLOCK_SKEW).timestamp()
        wanted = {k: str(payload[k]) for k in ECHOED if payload.get(k) is not None}
        wanted["model"] = str(payload.get("model", model))
        params = {"order": "desc", "limit": str(self.list_page_size)}
        found: str | None = None
        for _ in range(MAX_LIST_PAGES):
            page = self.http.send_json(
                "GET", f"{self.base_url}/videos", headers=self._auth, params=params
            )
            videos = page.get("data")
            if not isinstance(videos, list):
                raise _malformed("list response without data")
            reached_older = False
            for video in videos:  # newest first, so the last match is the earliest
                if not isinstance(video, dict) or not isinstance(video.get("id"), str):
                    raise _malformed("list item without id")
                created = video.get("created_at")
                if not isinstance(created, int | float):
                    raise _malformed(f"list item with created_at {created!r}")
                if created < since:
                    reached_older = True
                    break
                if all(str(video.get(k)) == v for k, v in wanted.items()):
                    found = video["id"]
            last_id = page.get("last_id")
            if reached_older or page.get("has_more") is not True:
                return Submission(request_id=found) if found else None
            if not isinstance(last_id, str) or not last_id:
                raise _malformed("list says has_more but gives no last_id")
            params["after"] = last_id
        raise RetryableProviderError(
            message=f"openai: video lookup stopped after {MAX_LIST_PAGES} pages",
            code="provider_lookup_incomplete",
        )

    def _retrieve(self, submission: Submission) -> dict[str, Any]:
        return self.http.send_json(
            "GET", f"{self.base_url}/videos/{submission.request_id}", headers=self._auth
        )

    def status(self, model: str, submission: Submission) -> RemoteStatus:
        return _status_of(self._retrieve(submission))

    def result(
        self, model: str, submission: Submission, *, output: str | None = None
    ) -> list[OutputFile]:
        """The one video of the content endpoint (`output` does not apply)."""
        video = self._retrieve(submission)
        status = _status_of(video)
        require_succeeded(status, provider=self.name, what="video")
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


def _malformed(what: str) -> RetryableProviderError:
    return RetryableProviderError(message=f"openai: {what}", code="provider_malformed_response")


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
