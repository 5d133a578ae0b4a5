"""Shared httpx plumbing for the hosted-provider adapters.

One job: turn every way an HTTP call can go wrong into our two provider errors, so each
adapter only speaks its protocol.

- 408, 409, 425, 429, 5xx, connection errors, timeouts and unreadable 2xx bodies become
  `RetryableProviderError` (with `retry_after_s` from `Retry-After`, `retry-after-ms` or a
  JSON `retry_after`, when the provider gives one).
- Other 4xx become `PermanentProviderError` carrying the provider's own message.

There is deliberately no retry loop here: the caller retries with backoff and knows whether
a repeat is safe (a blind retry of a submit can double-submit a paid job; no provider here
has an idempotency key). Messages and `details` never contain the API key or auth headers:
everything that leaves this module passes through `Redactor`.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from workers.errors import PermanentProviderError, RetryableProviderError

# Status codes that say "try again later" rather than "this request is wrong".
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
# 4xx answers that describe the request itself (not auth, not throttling): when a result
# endpoint answers with one of these, the job failed at the provider.
REQUEST_FAULT_STATUS = frozenset(range(400, 500)) - RETRYABLE_STATUS - {401, 403}
BODY_EXCERPT = 500
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class Redactor:
    """Removes secrets from any text before it reaches an exception."""

    def __init__(self, *secrets: str) -> None:
        self._secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def parse_retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from `retry-after-ms`, `Retry-After` (seconds or HTTP date) or body."""
    ms = response.headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - time.time())
    # Replicate's low-credit throttle also puts `retry_after` (seconds) in the JSON body.
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return max(0.0, float(body["retry_after"]))
    return None


def provider_message(body: Any, fallback: str) -> str:
    """The human message from any of our providers' error bodies.

    Shapes: OpenAI/Google `{"error": {"message"}}`, fal/Replicate `{"detail": str | list}`
    (fal validation errors are FastAPI-style lists), RFC 7807 `title`, or a bare string.
    """
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str) and error:
            return error
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail
        if isinstance(detail, list) and detail:
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc", []))
                    parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg")))
                else:
                    parts.append(str(item))
            return "; ".join(parts)
        if body.get("title"):
            return str(body["title"])
    if isinstance(body, str) and body:
        return body
    return fallback


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


class ProviderHTTP:
    """A thin wrapper around one `httpx.Client` that raises only our provider errors."""

    def __init__(
        self,
        provider: str,
        *,
        secret: str,
        client: httpx.Client | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> None:
        self.provider = provider
        self.redact = Redactor(secret)
        self._owns_client = client is None
        self.client = client or httpx.Client(
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout
        )
        self._timeout = timeout

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        json_body: Any = None,
        files: Any = None,
        params: Mapping[str, str] | None = None,
        ok_status: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """One request; 2xx (and `ok_status`) come back, everything else raises."""
        kwargs: dict[str, Any] = {"headers": dict(headers), "params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if files is not None:
            kwargs["files"] = files
        if self._timeout is not None:
            kwargs["timeout"] = self._timeout
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise self._retryable(f"{method} timed out", "timeout", exc) from None
        except httpx.RequestError as exc:
            raise self._retryable(f"{method} failed: connection error", "connection", exc) from None
        if response.is_success or response.status_code in ok_status:
            return response
        raise self.error_for(response)

    def send_json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """`send`, then the body as a JSON object; an unreadable body is transient."""
        response = self.send(method, url, **kwargs)
        return self.json_of(response)

    def json_of(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise RetryableProviderError(
                message=f"{self.provider}: malformed response body (HTTP {response.status_code})",
                code="provider_malformed_response",
                details=self._details(response),
            )
        return body

    def error_for(
        self, response: httpx.Response
    ) -> RetryableProviderError | PermanentProviderError:
        """Map a non-2xx response to our error, keeping the provider's message."""
        status = response.status_code
        message = self.redact(provider_message(_body(response), fallback=response.reason_phrase))
        text = f"{self.provider}: HTTP {status}: {message}"
        details = self._details(response)
        if status in RETRYABLE_STATUS or status >= 500:
            # fal: a 504 carrying X-Fal-Request-Timeout-Type means the caller's own start
            # deadline passed; retrying it would just miss the deadline again.
            if status == 504 and response.headers.get("x-fal-request-timeout-type"):
                return PermanentProviderError(
                    message=text, code="provider_deadline", details=details
                )
            return RetryableProviderError(
                message=text,
                code="provider_throttled" if status == 429 else "provider_unavailable",
                details=details,
                retry_after_s=parse_retry_after(response),
            )
        code = {401: "provider_auth", 403: "provider_auth", 404: "provider_not_found"}.get(
            status, "provider_rejected"
        )
        return PermanentProviderError(message=text, code=code, details=details)

    def download(self, url: str, dest: Path, *, headers: Mapping[str, str]) -> None:
        """Stream `url` into `dest`; a partial file is removed on failure."""
        try:
            with self.client.stream(
                "GET", url, headers=dict(headers), follow_redirects=True
            ) as response:
                if not response.is_success:
                    response.read()
                    raise self.error_for(response)
                with dest.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.TimeoutException as exc:
            dest.unlink(missing_ok=True)
            raise self._retryable("download timed out", "timeout", exc) from None
        except httpx.RequestError as exc:
            dest.unlink(missing_ok=True)
            raise self._retryable("download failed: connection error", "connection", exc) from None
        except (RetryableProviderError, PermanentProviderError):
            dest.unlink(missing_ok=True)
            raise

    def _retryable(self, what: str, kind: str, exc: Exception) -> RetryableProviderError:
        return RetryableProviderError(
            message=f"{self.provider}: {what}",
            code="provider_unavailable",
            details={"provider": self.provider, "kind": kind, "error": type(exc).__name__},
        )

    def _details(self, response: httpx.Response) -> dict[str, object]:
        body = response.text[:BODY_EXCERPT]
        details: dict[str, object] = {
            "provider": self.provider,
            "status_code": response.status_code,
            "body": self.redact(body),
        }
        for header in ("x-request-id", "x-fal-request-id", "x-fal-error-type"):
            if header in response.headers:
                details[header] = response.headers[header]
        return details


def same_origin(url: str, base_url: str) -> bool:
    """Whether `url` points at the provider's API host (then it may carry our auth header).

    Result URLs on public CDNs must be fetched without it, so the key never leaves for a
    host we did not choose.
    """
    a, b = httpx.URL(url), httpx.URL(base_url)
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)
