"""Replicate predictions adapter (providers.md §2).

- `owner/name` (an official model) → `POST /v1/models/{owner}/{name}/predictions`;
  `owner/name:<version>` or a bare version id → `POST /v1/predictions` with `version`;
- `GET /v1/predictions/{id}` for status and output; `POST .../cancel` to cancel;
- statuses: `starting` (queued or booting) → QUEUED, `processing` → RUNNING, then
  `succeeded` | `failed` | `canceled` | `aborted` (deadline passed before start);
- output is a URL string (video models) or a list of URLs (image models) on Replicate's
  public delivery CDN, fetched without our token;
- `find_submission` reads `GET /v1/predictions` (newest first, 100 a page, `next` is the
  absolute URL of the following page, `created_after` narrows it server-side) to recover a
  prediction whose id a crashed worker never recorded. Replicate deletes an API prediction's
  `input` an hour after it was created, so past that a prediction can no longer be matched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.adapter import HTTPAdapter, require_succeeded
from workers.provider.base import OutputFile, RemoteState, RemoteStatus, Submission
from workers.provider.http import same_origin
from workers.provider.outputs import dig, guess_content_type

DEFAULT_BASE_URL = "https://api.replicate.com/v1"
STATES = {
    "starting": RemoteState.QUEUED,
    "processing": RemoteState.RUNNING,
    "succeeded": RemoteState.SUCCEEDED,
    "failed": RemoteState.FAILED,
    "canceled": RemoteState.CANCELED,
    "aborted": RemoteState.CANCELED,
}
# Replicate stamps `created_at` with its own clock; a lookup also accepts predictions up to
# this much older than asked, so a fast local clock cannot hide our own submission.
CLOCK_SKEW = timedelta(seconds=60)
# A lookup that needs more pages than this (100 predictions each) gives up with an error
# rather than answer "not found" from a partial read.
MAX_LIST_PAGES = 50


def build_payload(model: str, model_input: dict[str, Any]) -> dict[str, Any]:
    """The prediction's `input` object: the model's own fields, as its catalog entry maps
    them (`workers.catalog.wire`); `submit` wraps it."""
    return dict(model_input)


class ReplicateProvider(HTTPAdapter):
    name = "replicate"

    default_base_url = DEFAULT_BASE_URL

    build_payload = staticmethod(build_payload)

    def submit(self, model: str, payload: dict[str, Any]) -> Submission:
        """Create once, without `Prefer: wait`: we never hold a socket for generation."""
        return self._submit(model, payload, None)

    def submit_with_callback(
        self, model: str, payload: dict[str, Any], callback_url: str
    ) -> Submission:
        """Create with `webhook` and `webhook_events_filter: ["completed"]`: Replicate POSTs
        the finished prediction there, signed (`replicate_callback`)."""
        return self._submit(model, payload, callback_url)

    def _submit(self, model: str, payload: dict[str, Any], webhook: str | None) -> Submission:
        body: dict[str, Any]
        if ":" in model or "/" not in model:
            url, body = f"{self.base_url}/predictions", {"version": model, "input": payload}
        else:
            url, body = f"{self.base_url}/models/{model}/predictions", {"input": payload}
        if webhook:
            body |= {"webhook": webhook, "webhook_events_filter": ["completed"]}
        prediction = self.http.send_json("POST", url, headers=self._auth, json_body=body)
        return _submission_of(prediction, what="create response")

    def find_submission(
        self, model: str, payload: dict[str, Any], *, created_after: datetime
    ) -> Submission | None:
        """The earliest prediction of `model` with exactly this `input`, made since
        `created_after` (less `CLOCK_SKEW`); see `FindsSubmissions`. Read-only."""
        since = _utc(created_after) - CLOCK_SKEW
        wanted = json.loads(json.dumps(payload))  # compare as it comes back from the wire
        url = f"{self.base_url}/predictions"
        filters = {"created_after": _iso(since)}
        params: dict[str, str] | None = filters
        found: dict[str, Any] | None = None
        for _ in range(MAX_LIST_PAGES):
            page = self.http.send_json("GET", url, headers=self._auth, params=params)
            results = page.get("results")
            if not isinstance(results, list):
                raise _malformed("list response without results")
            reached_older = False
            for prediction in results:  # newest first, so the last match is the earliest
                if not isinstance(prediction, dict):
                    raise _malformed("list item is not an object")
                if _created_at(prediction) < since:
                    reached_older = True
                    break
                if _same_model(model, prediction) and prediction.get("input") == wanted:
                    found = prediction
            next_url = page.get("next")
            if reached_older or not next_url:
                return _submission_of(found, what="list item") if found else None
            # Our token goes only to the API host. The filter is re-applied if the cursor URL
            # dropped it, as Replicate's generated SDK does.
            if not isinstance(next_url, str) or not same_origin(next_url, self.base_url):
                raise _malformed("list `next` is not a URL on the API host")
            url = next_url
            params = None if "created_after" in httpx.URL(next_url).params else filters
        raise RetryableProviderError(
            message=f"replicate: prediction lookup stopped after {MAX_LIST_PAGES} pages",
            code="provider_lookup_incomplete",
        )

    def _get(self, submission: Submission) -> dict[str, Any]:
        url = submission.handles.get("get", f"{self.base_url}/predictions/{submission.request_id}")
        return self.http.send_json("GET", url, headers=self._auth)

    def status(self, model: str, submission: Submission) -> RemoteStatus:
        return status_of(self._get(submission))

    def result(
        self, model: str, submission: Submission, *, output: str | None = None
    ) -> list[OutputFile]:
        """The URLs at `output` in the prediction (default `output`: one URL or a list)."""
        prediction = self._get(submission)
        status = status_of(prediction)
        require_succeeded(status, provider=self.name, what="prediction")
        found = dig(prediction, output or "output")
        urls = [found] if isinstance(found, str) else found if isinstance(found, list) else []
        files = [
            OutputFile(content_type=guess_content_type(u), url=u)
            for u in urls
            if isinstance(u, str)
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


def _submission_of(prediction: dict[str, Any], *, what: str) -> Submission:
    prediction_id = prediction.get("id")
    if not isinstance(prediction_id, str):
        raise _malformed(f"{what} without id")
    urls = prediction.get("urls") or {}
    handles = {k: str(urls[k]) for k in ("get", "cancel") if urls.get(k)}
    return Submission(request_id=prediction_id, handles=handles)


def _malformed(what: str) -> RetryableProviderError:
    return RetryableProviderError(message=f"replicate: {what}", code="provider_malformed_response")


def _same_model(model: str, prediction: dict[str, Any]) -> bool:
    """`owner/name` matches `model`; `owner/name:<version>` also the version; a bare
    version id (no owner) only the version."""
    if "/" not in model:
        return prediction.get("version") == model
    name, _, version = model.partition(":")
    if prediction.get("model") != name:
        return False
    return not version or prediction.get("version") == version


def _created_at(prediction: dict[str, Any]) -> datetime:
    raw = prediction.get("created_at")
    try:
        created = datetime.fromisoformat(str(raw))
    except ValueError:
        raise _malformed(f"unreadable created_at {raw!r}") from None
    if created.tzinfo is None:
        raise _malformed(f"created_at without timezone {raw!r}")
    return created


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("created_after must be timezone-aware")
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def status_of(prediction: dict[str, Any]) -> RemoteStatus:
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
