"""Who is calling: the `Authorization: Bearer ak_…` header, checked on every route but
`/healthz`, and the key's request rate.

A missing, unknown or revoked key gets the same `401` and nothing more. A key with a rate
gets `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` on every answer, and a
`429` with `Retry-After` once its bucket is empty.
"""

from __future__ import annotations

import logging
import math
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workers.key import ratelimit
from workers.key.caller import ANONYMOUS, Caller
from workers.key.service import authenticate
from workers.settings import get_settings

log = logging.getLogger(__name__)

UNAUTHORIZED = HTTPException(
    status_code=401,
    detail="a valid API key is required: send it as 'Authorization: Bearer ak_…'",
    headers={"WWW-Authenticate": "Bearer"},
)


# Declared as a security scheme, so /docs offers "Authorize" and sends the key.
bearer = HTTPBearer(auto_error=False, description="An API key: `ak_…`")


def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """FastAPI dependency: the caller of this request, after its key's rate limit."""
    if get_settings().auth_disabled:
        return ANONYMOUS
    caller = authenticate(credentials.credentials.strip()) if credentials else None
    if caller is None:
        raise UNAUTHORIZED
    if caller.rpm is not None:
        decision = ratelimit.take(f"key-{caller.key_id}", rpm=caller.rpm)
        headers = {
            "RateLimit-Limit": str(decision.limit),
            "RateLimit-Remaining": str(decision.remaining),
            "RateLimit-Reset": str(math.ceil(decision.reset_s)),
        }
        if not decision.allowed:
            retry_after = max(1, math.ceil(decision.retry_after_s))
            raise HTTPException(
                status_code=429,
                detail=f"this key allows {decision.limit} requests per minute; "
                f"retry in {retry_after} s",
                headers={**headers, "Retry-After": str(retry_after)},
            )
        # On every answer, errors included: `RateLimitHeaders` adds them at the edge.
        request.state.rate_limit_headers = headers
    return caller


class RateLimitHeaders:
    """Puts the key's `RateLimit-*` headers, set by `current_caller`, on the response,
    whatever produced it (a route, a 404 or 422 from an error handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            headers = scope.get("state", {}).get("rate_limit_headers")
            if message["type"] == "http.response.start" and headers:
                raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
                message = {**message, "headers": [*message.get("headers", []), *raw]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def warn_if_disabled() -> None:
    if get_settings().auth_disabled:
        log.warning(
            "auth.disabled AUTH_DISABLED=true: every caller is anonymous and unlimited; "
            "for local experiments only"
        )
