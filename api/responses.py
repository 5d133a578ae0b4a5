"""The error statuses each group of routes really answers, documented in the OpenAPI schema
with their bodies (a schema fuzzer checks that no other status ever comes back)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """Our error body: a message, or for 422 a list of `{loc, msg, type}` per field."""

    detail: str | list[dict[str, Any]]


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    """OpenAI's error envelope (the OpenAI-compatible routes)."""

    error: OpenAIError


WHY = {
    400: "The body cannot be parsed; on the OpenAI routes, any refused input.",
    401: "No key, or a key that is unknown or revoked.",
    402: "The job would take the key past its budget.",
    404: "No such resource for this key's owner.",
    409: "A state conflict (e.g. a finished job canceled, an idempotency key reused).",
    413: "The request body is larger than MAX_BODY_BYTES.",
    422: "A field is invalid (named in `loc`), or holds text that cannot be stored.",
    429: "The key's request rate or its cap of jobs in flight; see Retry-After.",
    503: "The database or broker is unreachable, or the request took longer than "
    "REQUEST_TIMEOUT_S; try again after Retry-After.",
    504: "The image job did not finish within OPENAI_IMAGES_WAIT_S; it goes on.",
}


def documented(*statuses: int, model: type[BaseModel] = ErrorBody) -> dict[int | str, Any]:
    return {status: {"model": model, "description": WHY[status]} for status in statuses}


KEYED = documented(400, 401, 402, 404, 409, 413, 422, 429, 503)
OPENAI = {
    **documented(400, 401, 404, 429, 503, 504, model=OpenAIErrorBody),
    **documented(413),
}
OPEN = documented(404, 413, 503)  # no key: health, the playground
