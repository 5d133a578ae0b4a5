"""Transport: the options every call shares, and HTTP with retries (sync and async).

A call is retried with exponential backoff (and jitter) on a connection error, a 429 or a
502/503/504/500, and only when the caller marks it safe to repeat: reads, cancels, and
job submissions, which always carry an idempotency key so a repeated POST returns the job
the first one made. A 429's `Retry-After` is honoured as the wait, up to
`max_retry_after_s`; a longer one is raised at once rather than slept through.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from abstrakt._version import __version__
from abstrakt.errors import (
    APIConnectionError,
    APIStatusError,
    RateLimitError,
    ServerError,
    error_for_status,
)

log = logging.getLogger("abstrakt")

DEFAULT_BASE_URL = "http://localhost:8000"
RETRIED_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class Options:
    """What a client was built with. Each argument left out comes from the environment
    (`ABSTRAKT_BASE_URL`, `ABSTRAKT_API_KEY`), then from the default."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    timeout_s: float = 30.0  # one HTTP request: connect, send, each read
    max_retries: int = 3
    backoff_s: float = 0.5  # the first retry's wait; doubled for each retry after it
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 60.0
    # A job's event stream: the server sends a keep-alive every 15 s, so a longer silence
    # means the connection is gone and the stream reconnects. (The WebSocket has its own
    # pings for that.)
    stream_idle_s: float = 45.0

    @classmethod
    def resolve(
        cls,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Options:
        url = base_url or os.environ.get("ABSTRAKT_BASE_URL") or DEFAULT_BASE_URL
        options = cls(
            base_url=url.rstrip("/"),
            api_key=api_key or os.environ.get("ABSTRAKT_API_KEY") or None,
        )
        if timeout is not None:
            options = replace(options, timeout_s=timeout)
        if max_retries is not None:
            options = replace(options, max_retries=max_retries)
        return options

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"abstrakt-python/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def ws_url(self, path: str) -> str:
        scheme, rest = self.base_url.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{path}"

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt + 1`: exponential, with jitter so clients
        refused together do not return together."""
        ceiling = min(self.max_backoff_s, self.backoff_s * 2.0**attempt)
        return ceiling * (0.5 + random.random() / 2)

    def reconnect_delay(
        self, error: Exception, failures: int, retry_ms: int | None
    ) -> float | None:
        """The wait before opening a job's event stream again: the backoff, and at least
        the server's `retry:` hint; None once `failures` in a row reach the limit."""
        delay = self.retry_delay(error, failures)
        if delay is None or retry_ms is None:
            return delay
        return max(delay, retry_ms / 1000)

    def retry_delay(self, error: Exception, attempt: int) -> float | None:
        """How long to wait before repeating a call that failed with `error`; None: don't."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, RateLimitError):
            if error.retry_after is None:
                return self.backoff(attempt)
            wait = float(error.retry_after)
            return wait if wait <= self.max_retry_after_s else None
        if isinstance(error, ServerError) and error.status_code in RETRIED_STATUSES:
            return self.backoff(attempt)
        if isinstance(error, APIConnectionError):
            return self.backoff(attempt)
        return None


def retry_after_s(value: str | None) -> float | None:
    """`Retry-After` in seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def stream_refused(error: APIStatusError) -> bool:
    """Whether an error opening `/events` may mean the server has no such route (an older
    server): then the job's own URL decides between "no stream" and "no job"."""
    return error.status_code in (404, 405, 501)


def is_event_stream(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("text/event-stream")


def decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"detail": response.text or None}


def error_from(response: httpx.Response) -> APIStatusError:
    return error_for_status(
        response.status_code,
        decode(response),
        retry_after=retry_after_s(response.headers.get("Retry-After")),
    )


def connection_error(exc: httpx.TransportError, method: str, url: str) -> APIConnectionError:
    reason = str(exc) or type(exc).__name__
    return APIConnectionError(f"{method} {url}: {reason}")


def _stream_timeout(options: Options, read_s: float | None) -> httpx.Timeout:
    read = options.stream_idle_s if read_s is None else min(read_s, options.stream_idle_s)
    return httpx.Timeout(options.timeout_s, read=max(read, 0.01))


class Transport:
    """Blocking HTTP for `AbstraktClient`. A caller's own `httpx.Client` (for proxies, event
    hooks, a custom transport) is used as given: URLs and the key are set per request."""

    def __init__(self, options: Options, http: httpx.Client | None = None) -> None:
        self.options = options
        self.headers = options.headers()
        self.http = http or httpx.Client(timeout=options.timeout_s)

    def request(self, method: str, path: str, *, json: Any = None, retry: bool = True) -> Any:
        """The decoded JSON of a successful answer; a typed error otherwise."""
        attempt = 0
        while True:
            try:
                response = self.http.request(
                    method,
                    self.options.base_url + path,
                    json=json,
                    headers=self.headers,
                    timeout=self.options.timeout_s,
                )
            except httpx.TransportError as exc:
                error: APIStatusError | APIConnectionError = connection_error(exc, method, path)
            else:
                if response.is_success:
                    return decode(response)
                error = error_from(response)
            delay = self.options.retry_delay(error, attempt) if retry else None
            if delay is None:
                raise error
            log.debug(
                "abstrakt.retry method=%s path=%s error=%r wait_s=%.2f", method, path, error, delay
            )
            time.sleep(delay)
            attempt += 1

    @contextmanager
    def stream(
        self, path: str, *, headers: dict[str, str], read_s: float | None = None
    ) -> Iterator[httpx.Response]:
        """One attempt to open an event stream; a typed error for an error status."""
        timeout = _stream_timeout(self.options, read_s)
        url = self.options.base_url + path
        request_headers = {**self.headers, **headers, "Accept": "text/event-stream"}
        try:
            with self.http.stream("GET", url, headers=request_headers, timeout=timeout) as r:
                if not r.is_success:
                    r.read()
                    raise error_from(r)
                yield r
        except httpx.TransportError as exc:
            raise connection_error(exc, "GET", path) from exc

    def close(self) -> None:
        self.http.close()


class AsyncTransport:
    """Non-blocking HTTP for `AsyncAbstraktClient`; the same rules as `Transport`."""

    def __init__(self, options: Options, http: httpx.AsyncClient | None = None) -> None:
        self.options = options
        self.headers = options.headers()
        self.http = http or httpx.AsyncClient(timeout=options.timeout_s)

    async def request(self, method: str, path: str, *, json: Any = None, retry: bool = True) -> Any:
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    method,
                    self.options.base_url + path,
                    json=json,
                    headers=self.headers,
                    timeout=self.options.timeout_s,
                )
            except httpx.TransportError as exc:
                error: APIStatusError | APIConnectionError = connection_error(exc, method, path)
            else:
                if response.is_success:
                    return decode(response)
                error = error_from(response)
            delay = self.options.retry_delay(error, attempt) if retry else None
            if delay is None:
                raise error
            log.debug(
                "abstrakt.retry method=%s path=%s error=%r wait_s=%.2f", method, path, error, delay
            )
            await asyncio.sleep(delay)
            attempt += 1

    @asynccontextmanager
    async def stream(
        self, path: str, *, headers: dict[str, str], read_s: float | None = None
    ) -> AsyncIterator[httpx.Response]:
        timeout = _stream_timeout(self.options, read_s)
        url = self.options.base_url + path
        request_headers = {**self.headers, **headers, "Accept": "text/event-stream"}
        try:
            async with self.http.stream("GET", url, headers=request_headers, timeout=timeout) as r:
                if not r.is_success:
                    await r.aread()
                    raise error_from(r)
                yield r
        except httpx.TransportError as exc:
            raise connection_error(exc, "GET", path) from exc

    async def aclose(self) -> None:
        await self.http.aclose()
