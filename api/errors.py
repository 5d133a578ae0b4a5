"""One handler maps the domain's exception tree onto HTTP statuses."""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from workers.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    OverBudget,
    TooManyInFlight,
)

STATUS_BY_ERROR: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (InvalidTransition, 409),
    (TooManyInFlight, 429),
    (OverBudget, 402),
)


async def domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for kind, code in STATUS_BY_ERROR if isinstance(exc, kind)), 500)
    if isinstance(exc, InvalidInput):
        # The same shape FastAPI uses for body validation, so clients parse one format.
        detail: object = [
            {"loc": ["body", *e.loc], "msg": e.msg, "type": exc.code} for e in exc.errors
        ]
    else:
        detail = str(exc)
    headers = {}
    if isinstance(exc, TooManyInFlight):
        headers["Retry-After"] = str(math.ceil(exc.retry_after_s))
    return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error_handler)
