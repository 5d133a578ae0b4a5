"""Replicate predictions adapter (providers.md §2).

- `owner/name` (an official model) → `POST /v1/models/{owner}/{name}/predictions`;
  `owner/name:<version>` or a bare version id → `POST /v1/predictions` with `version`;
- `GET /v1/predictions/{id}` for status and output; `POST .../cancel` to cancel;
- statuses: `starting` (queued or booting) → QUEUED, `processing` → RUNNING, then
  `succeeded` | `failed` | `canceled` | `aborted` (deadline passed before start);
- output is a URL string (video models) or a list of URLs (image models) on Replicate's
  public delivery CDN, fetched without our token.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import httpx

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.base import OutputFile, RemoteState, RemoteStatus, Submission
from workers.provider.http import ProviderHTTP

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
STATES = {
    "starting": RemoteState.QUEUED,
    "processing": RemoteState.RUNNING,
    "succeeded": RemoteState.SUCCEEDED,
    "failed": RemoteState.FAILED,
    "canceled": RemoteState.CANCELED,
    "aborted": RemoteState.CANCELED,
}


def build_payload(model: str, normalized_input: dict[str, Any]) -> dict[str, Any]:
    """Normalized input → the prediction `input` object.

    Replicate models are community schemas with no shared contract; the common names
    (`prompt`, `seed`, `aspect_ratio`, `duration`, `resolution`, `width`, `height`) are
    the ones most video and image models use, so they pass through unchanged.
    """
    keys = ("prompt", "seed", "aspect_ratio", "duration", "resolution", "width", "height")
    payload = {k: normalized_input[k] for k in keys if normalized_input.get(k) is not None}
    if "duration" in payload:
        payload["duration"] = round(float(payload["duration"]))
    return payload


class ReplicateProvider:
    name = "replicate"

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
        """Create once, without `Prefer: wait`: we never hold a socket for generation."""
        if ":" in model or "/" not in model:
            url, body = f"{self.base_url}/predictions", {"version": model, "input": payload}
        else:
            url, body = f"{self.base_url}/models/{model}/predictions", {"input": payload}
        prediction = self.http.send_json("POST", url, headers=self._auth, json_body=body)
        prediction_id = prediction.get("id")
        if not isinstance(prediction_id, str):
            raise RetryableProviderError(
                message="replicate: create response without id",
                code="provider_malformed_response",
            )
        urls = prediction.get("urls") or {}
        handles = {k: str(urls[k]) for k in ("get", "cancel") if urls.get(k)}
        return Submission(request_id=prediction_id, handles=handles)

    def _get(self, submission: Submission) -> dict[str, Any]:
        url = submission.handles.get("get", f"{self.base_url}/predictions/{submission.request_id}")
        return self.http.send_json("GET", url, headers=self._auth)

    def status(self, model: str, submission: Submission) -> RemoteStatus:
        return _status_of(self._get(submission))

    def result(self, model: str, submission: Submission) -> list[OutputFile]:
        prediction = self._get(submission)
        status = _status_of(prediction)
        if status.state is not RemoteState.SUCCEEDED:
            if status.state in {RemoteState.FAILED, RemoteState.CANCELED}:
                raise PermanentProviderError(
                    message=f"replicate: prediction {prediction.get('status')}: "
                    f"{status.error_message or ''}".rstrip(": "),
                    code="provider_failed",
                )
            raise RetryableProviderError(
                message="replicate: prediction not finished", code="provider_not_ready"
            )
        output = prediction.get("output")
        urls = [output] if isinstance(output, str) else output if isinstance(output, list) else []
        files = [
            OutputFile(content_type=_content_type(u), url=u) for u in urls if isinstance(u, str)
        ]
        if not files:
            # `data_removed` predictions lose their output after an hour (§2.4).
            raise PermanentProviderError(
                message="replicate: prediction has no output URLs", code="provider_empty_result"
            )
        return files

    def cancel(self, model: str, submission: Submission) -> None:
        """A finished prediction comes back unchanged, which is fine: nothing to stop."""
        url = submission.handles.get(
            "cancel", f"{self.base_url}/predictions/{submission.request_id}/cancel"
        )
        self.http.send("POST", url, headers=self._auth)

    def download(self, output: OutputFile, dest: Path) -> None:
        if output.url is None:
            raise PermanentProviderError(
                message="replicate: output has no URL", code="provider_empty_result"
            )
        self.http.download(output.url, dest, headers={})


def _content_type(url: str) -> str:
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed or "application/octet-stream"


def _status_of(prediction: dict[str, Any]) -> RemoteStatus:
    raw = prediction.get("status")
    state = STATES.get(str(raw))
    if state is None:
        raise RetryableProviderError(
            message=f"replicate: unknown status {raw!r}", code="provider_malformed_response"
        )
    logs = [line for line in str(prediction.get("logs") or "").splitlines() if line]
    error = prediction.get("error")
    return RemoteStatus(
        state,
        logs=logs,
        error_code=str(raw) if state is RemoteState.FAILED else None,
        error_message=str(error) if error else None,
    )
