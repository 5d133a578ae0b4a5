"""Providers' callbacks in: `POST /v1/callbacks/{provider}/{token}`, no key (the token and
the provider's signature are the proof; see `workers/job/callback/`).

Answers: 200 when verified (whether it moved the job or was a duplicate), 401 when the
signature does not verify, 404 for a token that is not ours. Never a 5xx: a callback we
could not act on is answered 202 and logged, and the poller finds the job's end instead
(polling stays the fallback for every callback-enabled job).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from workers.db.engine import session_scope
from workers.job.callback.receive import Outcome, receive

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

STATUS = {Outcome.APPLIED: 200, Outcome.IGNORED: 200, Outcome.UNVERIFIED: 401}
STATUS |= {Outcome.UNKNOWN: 404}


@router.post("/{provider}/{token}", include_in_schema=False)
async def provider_callback(provider: str, token: str, request: Request) -> JSONResponse:
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}

    def act() -> Outcome:
        with session_scope() as session:
            return receive(session, provider, token, headers, body)

    try:
        outcome = await run_in_threadpool(act)
    except Exception:  # the poller is the fallback; a provider must not see our failure
        log.exception("callback.failed provider=%s", provider)
        return JSONResponse({"received": False}, status_code=202)
    return JSONResponse({"outcome": outcome.value}, status_code=STATUS[outcome])
