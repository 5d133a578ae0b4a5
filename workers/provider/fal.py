"""fal.ai queue API adapter (providers.md §1).

Protocol points that shape this code:
- submit posts to the full endpoint id; status/result/cancel live under `owner/app` only, so
  we keep the URLs fal returns at submit in `Submission.handles` and fall back to building
  them from `owner/app` when a caller only stored the request id.
- fal never reports FAILED: a failed request reaches `COMPLETED` and shows its failure as
  `error`/`error_type` on the status, or only as an error response from the result URL. So
  on `COMPLETED` we always fetch the result and check it before saying SUCCEEDED.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.adapter import HTTPAdapter
from workers.provider.base import OutputFile, RemoteState, RemoteStatus, Submission
from workers.provider.http import REQUEST_FAULT_STATUS, provider_message

DEFAULT_BASE_URL = "https://queue.fal.run"
APP_NAMESPACES = ("workflows", "comfy")


def app_prefix(model: str) -> str:
    """`fal-ai/flux/schnell` → `fal-ai/flux`; namespaced ids keep their namespace."""
    parts = model.strip("/").split("/")
    keep = 3 if parts[0] in APP_NAMESPACES else 2
    return "/".join(parts[:keep])


def build_payload(model: str, normalized_input: dict[str, Any]) -> dict[str, Any]:
    """Our normalized input → the model's documented input fields (§1.11).

    Fields a model does not accept are dropped rather than sent: fal models validate
    strictly and unknown fields are at best ignored.
    """
    inp = normalized_input
    payload: dict[str, Any] = {"prompt": inp["prompt"]}
    seed = inp.get("seed")
    aspect = inp.get("aspect_ratio")
    if model == "fal-ai/flux/schnell":
        if inp.get("width") and inp.get("height"):
            payload["image_size"] = {"width": int(inp["width"]), "height": int(inp["height"])}
        elif aspect in {"16:9", "9:16", "4:3", "3:4", "1:1"}:
            payload["image_size"] = {
                "16:9": "landscape_16_9",
                "9:16": "portrait_16_9",
                "4:3": "landscape_4_3",
                "3:4": "portrait_4_3",
                "1:1": "square_hd",
            }[aspect]
        payload["output_format"] = "png"
        payload["num_images"] = 1
    elif model == "fal-ai/hunyuan-video":
        if aspect in {"16:9", "9:16"}:
            payload["aspect_ratio"] = aspect
        if inp.get("resolution") in {"480p", "720p"}:
            payload["resolution"] = inp["resolution"]
        duration = inp.get("duration")
        if duration is not None:
            # 85 or 129 frames at 24 fps (~3.5 s or ~5.4 s): take the nearer one.
            payload["num_frames"] = "85" if float(duration) <= 4.5 else "129"
    elif model.startswith("fal-ai/kling-video/"):
        duration = inp.get("duration")
        if duration is not None:
            payload["duration"] = "5" if float(duration) <= 7.5 else "10"
        if aspect in {"16:9", "9:16", "1:1"}:
            payload["aspect_ratio"] = aspect
        seed = None  # not in kling's schema
    elif model == "fal-ai/minimax/video-01":
        seed = None  # prompt and prompt_optimizer only
    # fal-ai/ltx-video (and unknown models): prompt and seed only.
    if seed is not None:
        payload["seed"] = int(seed)
    return payload


class FalProvider(HTTPAdapter):
    name = "fal"

    default_base_url = DEFAULT_BASE_URL

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"Authorization": f"Key {api_key}".strip()}

    build_payload = staticmethod(build_payload)

    def submit(self, model: str, payload: dict[str, Any]) -> Submission:
        """Enqueue once; never retried here: with no idempotency key a retry can double-submit."""
        body = self.http.send_json(
            "POST", f"{self.base_url}/{model.strip('/')}", headers=self._auth, json_body=payload
        )
        request_id = body.get("request_id")
        if not isinstance(request_id, str):
            raise RetryableProviderError(
                message="fal: submit response without request_id",
                code="provider_malformed_response",
            )
        handles = {
            k: str(body[k]) for k in ("status_url", "response_url", "cancel_url") if body.get(k)
        }
        return Submission(request_id=request_id, handles=handles)

    def _url(self, model: str, submission: Submission, kind: str) -> str:
        if kind in submission.handles:
            return submission.handles[kind]
        base = f"{self.base_url}/{app_prefix(model)}/requests/{submission.request_id}"
        return {
            "response_url": base,
            "status_url": f"{base}/status",
            "cancel_url": f"{base}/cancel",
        }[kind]

    def status(self, model: str, submission: Submission) -> RemoteStatus:
        body = self.http.send_json(
            "GET",
            self._url(model, submission, "status_url"),
            headers=self._auth,
            params={"logs": "1"},
        )
        state = body.get("status")
        logs = [str(e.get("message", "")) for e in body.get("logs") or [] if isinstance(e, dict)]
        if state == "IN_QUEUE":
            return RemoteStatus(RemoteState.QUEUED, queue_position=body.get("queue_position"))
        if state == "IN_PROGRESS":
            return RemoteStatus(RemoteState.RUNNING, logs=logs)
        if state in {"CANCELED", "CANCELLED"}:  # not in fal's clients; tolerated (§1.4)
            return RemoteStatus(RemoteState.CANCELED, logs=logs)
        if state == "FAILED":  # likewise only tolerated
            return RemoteStatus(
                RemoteState.FAILED, logs=logs, error_message=str(body.get("error") or "failed")
            )
        if state != "COMPLETED":
            raise RetryableProviderError(
                message=f"fal: unknown status {state!r}", code="provider_malformed_response"
            )
        error, error_type = body.get("error"), body.get("error_type")
        if error or error_type:
            canceled = "cancel" in str(error_type or "").lower()
            return RemoteStatus(
                RemoteState.CANCELED if canceled else RemoteState.FAILED,
                logs=logs,
                error_code=str(error_type) if error_type else None,
                error_message=str(error or error_type),
            )
        # COMPLETED without an error can still hide a failed model run: check the result.
        response = self.http.send(
            "GET",
            self._url(model, submission, "response_url"),
            headers=self._auth,
            ok_status=REQUEST_FAULT_STATUS,
        )
        if response.is_success:
            return RemoteStatus(RemoteState.SUCCEEDED, logs=logs)
        return RemoteStatus(
            RemoteState.FAILED,
            logs=logs,
            error_code=response.headers.get("x-fal-error-type") or f"http_{response.status_code}",
            error_message=self.http.redact(provider_message(_safe_json(response), response.text)),
        )

    def result(self, model: str, submission: Submission) -> list[OutputFile]:
        body = self.http.send_json(
            "GET", self._url(model, submission, "response_url"), headers=self._auth
        )
        outputs = parse_outputs(body)
        if not outputs:
            raise PermanentProviderError(
                message="fal: result holds no video or images", code="provider_empty_result"
            )
        return outputs

    def cancel(self, model: str, submission: Submission) -> None:
        """Ask fal to cancel. Queued requests are removed; a running one gets a signal its app
        may ignore. A request that already completed (400 ALREADY_COMPLETED) is left alone."""
        response = self.http.send(
            "PUT",
            self._url(model, submission, "cancel_url"),
            headers=self._auth,
            ok_status=frozenset({400}),
        )
        if (
            response.status_code == 400
            and _safe_json(response).get("status") != "ALREADY_COMPLETED"
        ):
            raise self.http.error_for(response)

    def download(self, output: OutputFile, dest: Path) -> None:
        """fal media URLs are public CDN URLs: fetched without our key."""
        if output.url is None:
            raise PermanentProviderError(
                message="fal: output has no URL", code="provider_empty_result"
            )
        self.http.download(output.url, dest, headers={})


def parse_outputs(body: dict[str, Any]) -> list[OutputFile]:
    """`video` (File) for video models, `images[]` for image models."""
    files: list[OutputFile] = []
    video = body.get("video")
    if isinstance(video, dict) and video.get("url"):
        files.append(
            OutputFile(content_type=str(video.get("content_type") or "video/mp4"), url=video["url"])
        )
    for image in body.get("images") or []:
        if isinstance(image, dict) and image.get("url"):
            files.append(
                OutputFile(
                    content_type=str(image.get("content_type") or "image/jpeg"),
                    url=image["url"],
                    width=image.get("width"),
                    height=image.get("height"),
                )
            )
    return files


def _safe_json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
