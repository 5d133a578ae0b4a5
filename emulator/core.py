"""What every emulated provider shares: settings, jobs, fault injection, media serving."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

from emulator.callbacks import Signer
from emulator.config import (
    EARLY_FAULTS,
    FAIL_MARKER,
    FAIL_QUIET_MARKER,
    EmulatorConfig,
    FaultKind,
)
from emulator.media import MediaSpec, StockMedia, render, spec_for
from emulator.schemas import media_of, schema_for
from emulator.state import Job, Store

# Builds a provider-shaped error response: (status, message, headers) → Response.
ErrorFactory = Callable[[int, str, dict[str, str]], Response]


class ConnectionDropped(Exception):
    """Raised mid-response so the server closes the socket: the client sees a cut body."""


class DroppedResponse(Response):
    """Starts a response, sends part of it, then kills the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"status": ', "more_body": True})
        raise ConnectionDropped("emulated dropped connection")


class Context:
    def __init__(self, config: EmulatorConfig, media_dir: Path | None = None) -> None:
        self.config = config
        self.initial = (config.defaults, {k: dict(v) for k, v in config.overrides.items()})
        self.store = Store()
        self.signer = Signer()
        self.rng = random.Random(config.seed)
        self.media_dir = media_dir or Path(tempfile.mkdtemp(prefix="abstrakt-emulator-"))
        self.stock = StockMedia(self.media_dir)  # used when `config.stock_media` is on

    def reset(self) -> None:
        self.config.defaults, overrides = self.initial
        self.config.overrides = {k: dict(v) for k, v in overrides.items()}
        self.store.reset()
        self.signer.reset()

    def key_ok(self, key: str | None) -> bool:
        if not key:
            return False
        return self.config.api_key is None or key == self.config.api_key

    def new_job(
        self,
        provider: str,
        model: str,
        inp: dict[str, Any],
        prompt: str,
        body: dict[str, Any] | None = None,
    ) -> Job:
        settings = self.config.for_model(model)
        marked = FAIL_MARKER in prompt or FAIL_QUIET_MARKER in prompt
        fail = marked or self.rng.random() < settings.fail_rate
        now = self.store.clock()
        job = Job(
            id=uuid.uuid4().hex,
            provider=provider,
            model=model,
            input=inp,
            created_at=now,
            created_wall=time.time(),
            queue_s=settings.queue_s,
            generation_s=settings.generation_s,
            fps=settings.fps,
            fail_message="Emulated model failure: generation crashed" if fail else None,
            body=body,
        )
        self.store.add(job)
        return job

    def call_back(self, job: Job, url: str, body: Callable[[], dict[str, Any]]) -> None:
        """Call `url` when `job` ends, with the model's callback delay, loss and copies."""
        settings = self.config.for_model(job.model)
        self.signer.schedule(
            provider=job.provider,
            job=job,
            url=url,
            clock=self.store.clock,
            delay_s=settings.callback_delay_s,
            lost=self.rng.random() < settings.callback_loss_rate,
            copies=settings.callback_duplicates,
            body=body,
        )

    def pick_fault(self, model: str) -> FaultKind | None:
        settings = self.config.for_model(model)
        if settings.fault_rate <= 0 or not settings.faults:
            return None
        if self.rng.random() >= settings.fault_rate:
            return None
        return self.rng.choice(settings.faults)

    async def guarded(
        self,
        model: str,
        error: ErrorFactory,
        produce: Callable[[], Awaitable[Response]],
    ) -> Response:
        """Run one API request for `model`, through whatever fault the dice pick."""
        fault = self.pick_fault(model)
        if fault in EARLY_FAULTS:
            if fault is FaultKind.THROTTLED:
                retry = self.config.for_model(model).retry_after_s
                headers = {"Retry-After": f"{retry:g}"}
                return error(429, f"Rate limit exceeded. Retry after {retry:g} seconds.", headers)
            if fault is FaultKind.SERVER_ERROR:
                return error(500, "Internal server error (emulated)", {})
            return error(503, "Service temporarily unavailable (emulated)", {})
        response = await produce()
        if fault is FaultKind.TIMEOUT:
            await asyncio.sleep(self.config.for_model(model).timeout_s)
        elif fault is FaultKind.DROP:
            return DroppedResponse()
        elif fault is FaultKind.MALFORMED:
            return Response(b'{"status": "IN_PRO', status_code=200, media_type="application/json")
        return response

    async def media_response(self, job: Job, index: int = 0) -> Response:
        spec = self.spec(job)
        if self.config.stock_media:
            path = await run_in_threadpool(self.stock.render, spec, job.fps, index)
        else:
            path = await run_in_threadpool(render, job, spec, self.media_dir, index)
        return FileResponse(path, media_type=spec.content_type)

    def spec(self, job: Job) -> MediaSpec:
        """What the job's model makes: by its schema when known, else guessed."""
        schema = schema_for(job.provider, job.model)
        if schema is not None and job.body is not None:
            spec = media_of(schema, job.body)
        else:
            spec = spec_for(job.provider, job.model, job.input)
        scale = self.config.for_model(job.model).media_scale
        if scale == 1.0:
            return spec
        width, height = (max(16, int(side * scale) // 2 * 2) for side in (spec.width, spec.height))
        return MediaSpec(spec.kind, width, height, spec.duration_s, spec.count)


def file_urls(request: Request, job: Job, spec: MediaSpec) -> list[str]:
    """The public URLs of a job's files (fal's and Replicate's CDNs need no key)."""
    base = f"{base_url(request)}/_files/{job.file_id}"
    return [f"{base}-{i}.{spec.extension}" for i in range(spec.count)]


def base_url(request: Request) -> str:
    """Where the client reached us, so returned URLs work from the client's side."""
    return str(request.base_url).rstrip("/")


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None
