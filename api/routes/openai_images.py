"""OpenAI's `POST /v1/images/generations` over our jobs: submit, wait, answer the images.

OpenAI answers images in the same request, so this waits for the job — bounded by
`OPENAI_IMAGES_WAIT_S`, following the job's live stream rather than polling the database.
Past the bound the job goes on: the `504` names it, to be read at `GET /v1/jobs/{id}`.
The job's id is in the `X-Job-Id` header of every answer that made one.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import aclosing
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.auth import current_caller
from api.live import hub_of
from api.openai_body import request_fields
from api.openai_errors import OpenAIRoute, openai_error
from api.timeout import allow_more
from workers.db.engine import session_scope
from workers.job import producer
from workers.job.live import stream
from workers.job.live.messages import Message
from workers.job.reader import read_job
from workers.job.schemas import JobRead
from workers.job.views.openai_image import image_data
from workers.job.views.openai_request import image_request
from workers.key.caller import Caller
from workers.settings import get_settings

router = APIRouter(prefix="/v1/images", tags=["openai"], route_class=OpenAIRoute)

ENDS = ("complete", "error")


@router.post("/generations")
async def generate_images(
    request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> JSONResponse:
    """Make images (`model`, `prompt`, `n`, `size`, `response_format` `url`|`b64_json`)."""
    asked = image_request(
        await request_fields(request), idempotency_key=request.headers.get("idempotency-key")
    )
    accepted = await anyio.to_thread.run_sync(lambda: producer.submit(asked.job, caller=caller))
    headers = {"X-Job-Id": str(accepted.id)}
    wait_s = get_settings().openai_images_wait_s
    allow_more(request, wait_s)  # a wait on purpose, beyond REQUEST_TIMEOUT_S
    if not accepted.cache_hit and not await _ended_within(request, accepted.id, caller, wait_s):
        return openai_error(
            504,
            f"image job {accepted.id} is not finished after {wait_s:g} s "
            f"(OPENAI_IMAGES_WAIT_S); it goes on: read its result at GET /v1/jobs/{accepted.id}",
            type_="server_error",
            code="timeout",
            headers=headers,
            retry=False,
        )

    def read() -> tuple[JobRead, list[dict[str, str]] | None]:
        with session_scope() as session:
            job = read_job(session, accepted.id, owner=caller.owner)
        if job.status != "succeeded":
            return job, None
        return job, image_data(job.result or {}, asked.response_format)

    job, data = await anyio.to_thread.run_sync(read)
    if data is None:
        return _failed(job, headers)
    body: dict[str, Any] = {"created": int(time.time()), "data": data}
    return JSONResponse(body, headers=headers)


async def _ended_within(request: Request, job_id: uuid.UUID, caller: Caller, wait_s: float) -> bool:
    """Whether the job ended within `wait_s`, as its live stream tells."""
    messages = stream.follow(hub_of(request), job_id, owner=caller.owner, idle_s=None)
    try:
        async with asyncio.timeout(wait_s), aclosing(messages):
            async for message in messages:
                if _is_end(message):
                    return True
    except TimeoutError:
        return False
    return True  # the stream ends only with the job


def _is_end(message: Message | None) -> bool:
    return message is not None and message.get("type") in ENDS


def _failed(job: JobRead, headers: dict[str, str]) -> JSONResponse:
    """A failed or canceled job: the provider's refusal is the caller's `400`; anything else
    (a provider down, a crash) a `502` the SDK may retry — a retry is a new job."""
    code = job.error.code if job.error else job.status
    message = job.error.message if job.error else f"the job was {job.status}"
    message = f"image job {job.id} {job.status}: {message}"
    if code in ("provider_rejected", "canceled") or job.status == "canceled":
        return openai_error(400, message, code=code, headers=headers, retry=False)
    return openai_error(502, message, type_="server_error", code=code, headers=headers)
