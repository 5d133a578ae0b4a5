"""Errors in OpenAI's shape, for the OpenAI-compatible routes only.

`{"error": {"message", "type", "param", "code"}}` with the status OpenAI would use, so the
official SDKs raise their typed exceptions (`BadRequestError`, `AuthenticationError`,
`NotFoundError`, `RateLimitError`, …) carrying our message. Our own routes keep their
`{"detail": …}`: the translation is done by the routes' class (`OpenAIRoute`), not by an
app-wide handler.

Statuses differ from our API's where OpenAI's clients would misread ours: a refused input
is `400` (not `422`), a state conflict is `400` (the SDK retries a `409`), and an exhausted
budget is OpenAI's `429 insufficient_quota`, marked not to be retried.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from api.errors import bounded, unavailable
from workers.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OverBudget,
    TooManyInFlight,
)
from workers.job.views.openai_request import openai_param
from workers.settings import get_settings

INVALID = "invalid_request_error"


def openai_error(
    status: int,
    message: str,
    *,
    type_: str = INVALID,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    retry: bool | None = None,
) -> JSONResponse:
    """An error response; `retry` sets `x-should-retry`, which OpenAI's SDKs obey."""
    body = {"error": {"message": bounded(message), "type": type_, "param": param, "code": code}}
    headers = dict(headers or {})
    if retry is not None:
        headers["x-should-retry"] = "true" if retry else "false"
    return JSONResponse(body, status_code=status, headers=headers)


def _invalid(errors: list[tuple[tuple[str | int, ...], str]]) -> JSONResponse:
    params = [openai_param(loc) for loc, _ in errors]
    message = "; ".join(
        f"Invalid '{param}': {msg}" if param else msg
        for param, (_, msg) in zip(params, errors, strict=True)
    )
    return openai_error(400, message, param=params[0] if params else None, code="invalid_value")


def _from_domain(exc: DomainError) -> JSONResponse:
    if isinstance(exc, InvalidInput):
        return _invalid([(e.loc, e.msg) for e in exc.errors])
    if isinstance(exc, NotFound):
        return openai_error(404, str(exc), code="not_found")
    if isinstance(exc, Conflict | InvalidTransition):
        return openai_error(400, str(exc), code=exc.code, retry=False)
    if isinstance(exc, TooManyInFlight):
        return openai_error(429, str(exc), type_="requests", code=exc.code)
    if isinstance(exc, OverBudget):
        return openai_error(
            429, str(exc), type_="insufficient_quota", code="insufficient_quota", retry=False
        )
    return openai_error(500, str(exc) or "internal error", type_="server_error", code=exc.code)


def _from_http(exc: HTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        return openai_error(401, message, code="invalid_api_key", headers=headers)
    if exc.status_code == 429:
        return openai_error(
            429, message, type_="requests", code="rate_limit_exceeded", headers=headers
        )
    type_ = "server_error" if exc.status_code >= 500 else INVALID
    return openai_error(exc.status_code, message, type_=type_, headers=headers)


def to_openai(exc: Exception) -> JSONResponse:
    if isinstance(exc, RequestValidationError):
        return _invalid([(tuple(e.get("loc", ())), str(e.get("msg"))) for e in exc.errors()])
    if isinstance(exc, HTTPException):
        return _from_http(exc)
    assert isinstance(exc, DomainError)
    return _from_domain(exc)


class OpenAIRoute(APIRoute):
    """A route whose errors, its dependencies' included (the key check, the rate limit),
    answer in OpenAI's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def openai_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HTTPException, DomainError) as exc:
                return to_openai(exc)
            except Exception as exc:
                dependency = unavailable(exc)
                if dependency is None:
                    raise
                retry_after = get_settings().retry_after_s
                return openai_error(
                    503,
                    f"the {dependency} is unavailable; try again in {retry_after} s",
                    type_="server_error",
                    code="service_unavailable",
                    headers={"Retry-After": str(retry_after)},
                )

        return openai_handler
