"""One place maps exceptions onto HTTP statuses: the domain's tree, and the faults of the
servers behind the API.

- a `DomainError` → its status (404, 422, 409, 429, 402);
- the database or the broker unreachable or too slow (SQLAlchemy's `OperationalError`, a
  pool or statement timeout, Redis's and kombu's connection errors) → `503` with
  `Retry-After` and `{"detail": …}` naming the dependency: the caller may try again;
- a value the database refuses to store (`DataError`, an unencodable string) that the
  request models did not catch → `422`;
- request validation → `422` in FastAPI's shape, but bounded: a huge input is never echoed.

Every body is JSON `{"detail": …}`, never a bare 500 text.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import kombu.exceptions
import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from workers.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OverBudget,
    StorageUnavailable,
    TooManyInFlight,
)
from workers.settings import get_settings

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (InvalidTransition, 409),
    (TooManyInFlight, 429),
    (OverBudget, 402),
    (StorageUnavailable, 503),
)

# The longest message, and the most errors, an error body carries.
MAX_MESSAGE = 500
MAX_ERRORS = 20
MAX_ECHO = 200


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text`, cut to `limit` characters: an error body never echoes a huge input whole."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more)"


def unavailable(exc: BaseException) -> str | None:
    """The dependency `exc` says is unreachable or too slow ("database", "broker"), or None
    when it is some other fault."""
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return "database"  # no pool connection free in time
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and (
        exc.connection_invalidated
        or isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError)
    ):
        return "database"
    if isinstance(
        exc,
        redis.exceptions.ConnectionError
        | redis.exceptions.TimeoutError
        | kombu.exceptions.OperationalError,
    ):
        return "broker"
    return None


def unavailable_response(dependency: str) -> JSONResponse:
    retry_after = get_settings().retry_after_s
    return JSONResponse(
        status_code=503,
        content={"detail": f"the {dependency} is unavailable; try again in {retry_after} s"},
        headers={"Retry-After": str(retry_after)},
    )


async def domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 500)
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidInput):
        # The same shape FastAPI uses for body validation, so clients parse one format.
        detail: object = [
            {"loc": ["body", *e.loc], "msg": bounded(e.msg), "type": exc.code}
            for e in exc.errors[:MAX_ERRORS]
        ]
    else:
        detail = bounded(str(exc))
    if isinstance(exc, TooManyInFlight):
        headers["Retry-After"] = str(math.ceil(exc.retry_after_s))
    if status == 503:
        headers["Retry-After"] = str(get_settings().retry_after_s)
    return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)


async def dependency_error_handler(_: Request, exc: Exception) -> JSONResponse:
    dependency = unavailable(exc)
    if dependency is not None:
        log.warning("api.dependency_unavailable dependency=%s error=%s", dependency, exc)
        return unavailable_response(dependency)
    if isinstance(exc, sqlalchemy.exc.DataError):
        # A value the request models let through but the database refuses (a number out of
        # the column's range, text it cannot store): the caller's input, not our fault.
        return JSONResponse(
            status_code=422, content={"detail": "a value in the request cannot be stored"}
        )
    log.error("api.database_error error=%s", exc, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


async def unencodable_handler(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={"detail": "the request holds text that is not valid Unicode (a lone surrogate)"},
    )


def bounded_errors(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's validation errors with each message bounded, the echoed input dropped when
    long, and at most `MAX_ERRORS` of them."""
    out: list[dict[str, Any]] = []
    for error in list(errors)[:MAX_ERRORS]:
        item: dict[str, Any] = {
            "loc": list(error.get("loc", ())),
            "msg": bounded(str(error.get("msg", ""))),
            "type": error.get("type", "value_error"),
        }
        echoed = error.get("input")
        try:
            if len(json.dumps(echoed, ensure_ascii=False).encode()) <= MAX_ECHO:
                item["input"] = echoed
        except (TypeError, ValueError):
            pass  # not JSON, or not UTF-8 (a lone surrogate): left out
        out.append(item)
    return out


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": bounded_errors(exc.errors())})


async def server_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Anything else: a JSON 500 (Starlette still logs the traceback)."""
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    for kind in (
        sqlalchemy.exc.DBAPIError,
        sqlalchemy.exc.TimeoutError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        kombu.exceptions.OperationalError,
    ):
        app.add_exception_handler(kind, dependency_error_handler)
    app.add_exception_handler(UnicodeEncodeError, unencodable_handler)
    app.add_exception_handler(Exception, server_error_handler)
