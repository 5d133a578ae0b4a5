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
from workers.provider.outputs import dig, guess_content_type

DEFAULT_BASE_URL = "https://queue.fal.run"
APP_NAMESPACES = ("workflows", "comfy")


def app_prefix(model: str) -> str:
    """`fal-ai/flux/schnell` → `fal-ai/flux`; namespaced ids keep their namespace."""
    parts = model.strip("/").split("/")
    keep = 3 if parts[0] in APP_NAMESPACES else 2
    return "/".join(parts[:keep])


def build_payload(model: str, model_input: dict[str, Any]) -> dict[str, Any]:
    """The request body is the model's input itself, at the top level (no wrapper). The
    model's fields come from its catalog entry (`workers.catalog.wire`)."""
    return dict(model_input)


class FalProvider(HTTPAdapter):
    name = "fal"

    default_base_url = DEFAULT_BASE_URL

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"Authorization": f"Key {api_key}".strip()}

    build_payload = staticmethod(build_payload)

    def submit(self, model: str, payload: dict[str, Any]) -> Submission:
        """Enqueue once; never retried here: with no idempotency key a retry can double-submit."""
        return self._submit(model, payload, None)

    def submit_with_callback(
        self, model: str, payload: dict[str, Any], callback_url: str
    ) -> Submission:
        """Enqueue with `fal_webhook`: fal POSTs the signed outcome there when it ends."""
        return self._submit(model, payload, callback_url)

    def _submit(self, model: str, payload: dict[str, Any], webhook: str | None) -> Submission:
        body = self.http.send_json(
            "POST",
            f"{self.base_url}/{model.strip('/')}",
            headers=self._auth,
            json_body=payload,
            params={"fal_webhook": webhook} if webhook else None,
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

    def result(
        self, model: str, submission: Submission, *, output: str | None = None
    ) -> list[OutputFile]:
        body = self.http.send_json(
            "GET", self._url(model, submission, "response_url"), headers=self._auth
        )
        outputs = parse_outputs(body, output)
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


def parse_outputs(body: dict[str, Any], at: str | None = None) -> list[OutputFile]:
    """The files of a fal result: at `at` (a dotted path, from the model's catalog entry),
    else wherever fal's media models put them (`video`, `images`, `image`, `audio`). Each
    is a File object (`url`, `content_type`, …) or a list of them."""
    places = [at] if at else ["video", "images", "image", "audio"]
    files: list[OutputFile] = []
    for place in places:
        found = dig(body, place)
        for item in found if isinstance(found, list) else [found]:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                files.append(
                    OutputFile(
                        content_type=str(
                            item.get("content_type") or guess_content_type(item["url"])
                        ),
                        url=item["url"],
                        width=_int(item.get("width")),
                        height=_int(item.get("height")),
                    )
                )
            elif isinstance(item, str) and item:
                files.append(OutputFile(content_type=guess_content_type(item), url=item))
    return files


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _safe_json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
