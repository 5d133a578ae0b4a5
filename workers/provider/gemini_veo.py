"""Google Veo through the Gemini API (providers.md §4).

- start: `POST /models/{model}:predictLongRunning` → an Operation; its `name`
  (`models/<model>/operations/<id>`) is our request id;
- poll: `GET /{name}`; `done` true ends it with `error` (google.rpc.Status) or `response`.
  Veo exposes no queue position, progress or started signal, so every not-done poll is
  RUNNING: the whole provider time counts as generation (nothing tells the two apart);
- a done operation with zero samples (safety filter) and no error is a failure;
- videos are `files/<id>:download?alt=media` URIs on the API host: fetched with
  `x-goog-api-key`, never sent to another host;
- cancel: the Gemini API documents no cancel for these operations; we try the generic
  long-running `:cancel` and accept that it may be refused (the work then runs to the end).

Wire model id: `veo-3.1-generate-preview` (fast: `veo-3.1-fast-generate-preview`), the ids
the Gemini API docs and google-genai samples use; keep it configurable — Google has moved
video generation towards newer models and google-genai 3.x dropped Gemini-API Veo support.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.adapter import HTTPAdapter, require_succeeded
from workers.provider.base import OutputFile, RemoteState, RemoteStatus, Submission
from workers.provider.http import REQUEST_FAULT_STATUS, same_origin

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"


def build_payload(model: str, model_input: dict[str, Any]) -> dict[str, Any]:
    """The request body: `{instances: [{prompt, …}], parameters: {…}}`, as the model's
    catalog entry maps our inputs (`seed` has no place: the Gemini API refuses it)."""
    return dict(model_input)


class GeminiVeoProvider(HTTPAdapter):
    name = "gemini"

    default_base_url = DEFAULT_BASE_URL

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"x-goog-api-key": api_key}

    build_payload = staticmethod(build_payload)

    def submit(self, model: str, payload: dict[str, Any]) -> Submission:
        body = self.http.send_json(
            "POST",
            f"{self.base_url}/models/{model}:predictLongRunning",
            headers=self._auth,
            json_body=payload,
        )
        name = body.get("name")
        if not isinstance(name, str):
            raise RetryableProviderError(
                message="gemini: operation without name", code="provider_malformed_response"
            )
        return Submission(request_id=name)

    def _operation(self, submission: Submission) -> dict[str, Any]:
        return self.http.send_json(
            "GET", f"{self.base_url}/{submission.request_id}", headers=self._auth
        )

    def status(self, model: str, submission: Submission) -> RemoteStatus:
        return _status_of(self._operation(submission))

    def result(
        self, model: str, submission: Submission, *, output: str | None = None
    ) -> list[OutputFile]:
        """The samples' videos (`output` does not apply: the protocol says where they are)."""
        operation = self._operation(submission)
        status = _status_of(operation)
        require_succeeded(status, provider=self.name, what="operation")
        return [
            OutputFile(content_type=str(video.get("encoding") or "video/mp4"), url=video["uri"])
            for video in _videos(operation)
        ]

    def cancel(self, model: str, submission: Submission) -> None:
        """Best effort: the generic `:cancel`; a refusal (400/404/501) is logged, not raised."""
        response = self.http.send(
            "POST",
            f"{self.base_url}/{submission.request_id}:cancel",
            headers=self._auth,
            json_body={},
            ok_status=REQUEST_FAULT_STATUS | {501},
        )
        if not response.is_success:
            log.info(
                "provider.cancel_unsupported provider=gemini request_id=%s status=%s",
                submission.request_id,
                response.status_code,
            )

    def download(self, output: OutputFile, dest: Path) -> None:
        if output.url is None:
            raise PermanentProviderError(
                message="gemini: output has no URI", code="provider_empty_result"
            )
        headers = self._auth if same_origin(output.url, self.base_url) else {}
        self.http.download(output.url, dest, headers=headers)


def _videos(operation: dict[str, Any]) -> list[dict[str, Any]]:
    response = operation.get("response") or {}
    samples = (response.get("generateVideoResponse") or {}).get("generatedSamples") or []
    return [
        s["video"]
        for s in samples
        if isinstance(s, dict) and isinstance(s.get("video"), dict) and s["video"].get("uri")
    ]


def _status_of(operation: dict[str, Any]) -> RemoteStatus:
    if not operation.get("done"):
        return RemoteStatus(RemoteState.RUNNING)
    error = operation.get("error")
    if isinstance(error, dict):
        code = error.get("status") or error.get("code")
        return RemoteStatus(
            RemoteState.FAILED,
            error_code=str(code) if code is not None else None,
            error_message=str(error.get("message") or "operation failed"),
        )
    if not _videos(operation):
        response = (operation.get("response") or {}).get("generateVideoResponse") or {}
        reasons = response.get("raiMediaFilteredReasons") or []
        return RemoteStatus(
            RemoteState.FAILED,
            error_code="filtered",
            error_message="; ".join(map(str, reasons)) or "no video returned",
        )
    return RemoteStatus(RemoteState.SUCCEEDED)
