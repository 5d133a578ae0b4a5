"""Replicate predictions API (providers.md §2): Bearer token, RFC 7807 error bodies,
starting → processing → succeeded | failed | canceled, output URLs in the prediction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workers.emulator.config import REJECT_MARKER
from workers.emulator.core import Context, base_url, json_body
from workers.emulator.state import Job, Phase

TITLES = {401: "Unauthenticated", 404: "Not found", 422: "Input validation failed"}
TITLES |= {429: "Request was throttled", 500: "Internal server error", 503: "Service unavailable"}


def error(status: int, message: str, headers: dict[str, str]) -> Response:
    body: dict[str, Any] = {
        "title": TITLES.get(status, "Error"),
        "detail": message,
        "status": status,
    }
    if status == 429 and "Retry-After" in headers:
        body["retry_after"] = float(headers["Retry-After"])
    return JSONResponse(body, status_code=status, headers=headers)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def routes(ctx: Context) -> list[Route]:
    def authorized(request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() in {"bearer", "token"} and ctx.key_ok(key.strip()):
            return None
        return error(401, "You did not pass a valid authentication token", {})

    def prediction(request: Request, job: Job) -> dict[str, Any]:
        now = ctx.store.clock()
        phase = job.phase(now)
        base = f"{base_url(request)}/v1/predictions/{job.id}"
        status = {
            Phase.QUEUED: "starting",
            Phase.RUNNING: "processing",
            Phase.SUCCEEDED: "succeeded",
            Phase.FAILED: "failed",
            Phase.CANCELED: "canceled",
        }[phase]
        body: dict[str, Any] = {
            "id": job.id,
            "model": job.model,
            "version": job.input.get("_version", "hidden"),
            "input": job.input["input"],
            "logs": "",
            "output": None,
            "data_removed": False,
            "error": None,
            "source": "api",
            "status": status,
            "created_at": _iso(job.created_wall),
            "started_at": None,
            "completed_at": None,
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "web": f"https://replicate.com/p/{job.id}",
            },
        }
        if phase is not Phase.QUEUED and not (
            phase is Phase.CANCELED and job.finished_at() <= job.started_at()
        ):
            body["started_at"] = _iso(job.wall(job.started_at()))
            body["logs"] = f"Using seed: {job.input['input'].get('seed', 42)}\n"
        if phase in {Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELED}:
            body["completed_at"] = _iso(job.wall(job.finished_at()))
            body["metrics"] = {
                "predict_time": max(0.0, job.finished_at() - job.started_at()),
                "total_time": job.finished_at() - job.created_at,
            }
        if phase is Phase.SUCCEEDED:
            spec = ctx.spec(job)
            url = f"{base_url(request)}/_files/{job.file_id}.{spec.extension}"
            body["output"] = [url] if spec.kind == "image" else url
        elif phase is Phase.FAILED:
            body["error"] = job.fail_message
        return body

    async def create(request: Request, model: str, version: str | None, payload: Any) -> Response:
        ctx.store.attempts[model] += 1

        async def produce() -> Response:
            inp = payload.get("input") if isinstance(payload, dict) else None
            if not isinstance(inp, dict):
                return error(422, "- input: input is required", {})
            if REJECT_MARKER in str(inp.get("prompt", "")):
                return error(422, "- input.prompt: rejected by the content filter (emulated)", {})
            record = {"input": inp, "_version": version or "hidden", **inp}
            job = ctx.new_job("replicate", model, record, str(inp.get("prompt", "")))
            return JSONResponse(prediction(request, job), status_code=201)

        return await ctx.guarded(model, error, produce)

    async def create_for_model(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        return await create(request, model, None, await json_body(request))

    async def create_with_version(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        payload = await json_body(request)
        version = payload.get("version") if isinstance(payload, dict) else None
        if not isinstance(version, str) or not version:
            return error(422, "- version: version is required", {})
        # `owner/name:hash`, `owner/name`, or a bare version id (kept as the model key).
        model = version.split(":", 1)[0]
        return await create(request, model, version.rpartition(":")[2], payload)

    async def get_or_cancel(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        job = ctx.store.get(request.path_params["id"])
        if job is None or job.provider != "replicate":
            return error(404, "Prediction not found", {})
        found = job

        async def produce() -> Response:
            if request.url.path.endswith("/cancel"):
                ctx.store.cancel(found)
            return JSONResponse(prediction(request, found))

        return await ctx.guarded(found.model, error, produce)

    return [
        Route("/v1/models/{owner}/{name}/predictions", create_for_model, methods=["POST"]),
        Route("/v1/predictions", create_with_version, methods=["POST"]),
        Route("/v1/predictions/{id}", get_or_cancel, methods=["GET"]),
        Route("/v1/predictions/{id}/cancel", get_or_cancel, methods=["POST"]),
    ]
