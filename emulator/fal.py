"""fal queue API (providers.md §1): `Authorization: Key`, IN_QUEUE → IN_PROGRESS → COMPLETED.

Failure is COMPLETED with `error`/`error_type` on the status and a 422 from the result URL.
After a cancel the request also reaches COMPLETED, with error_type `request_cancelled`
(fal does not document what a cancelled request's status shows; this is our choice).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.config import FAIL_QUIET_MARKER, REJECT_MARKER
from emulator.core import Context, base_url, file_urls, json_body
from emulator.schemas import Problem, check, schema_for
from emulator.state import Job, Phase

NAMESPACES = ("workflows", "comfy")
ERROR_TYPES = {429: "rate_limited", 500: "internal_error", 503: "runner_scheduling_failure"}
# Pydantic's error types, which fal's FastAPI apps answer with.
PROBLEM_TYPES = {
    "extra": "extra_forbidden",
    "missing": "missing",
    "type": "type_error",
    "enum": "literal_error",
    "range": "value_error",
    "length": "string_too_long",
}


def app_prefix(model: str) -> str:
    parts = model.split("/")
    return "/".join(parts[: 3 if parts[0] in NAMESPACES else 2])


def error(status: int, message: str, headers: dict[str, str]) -> Response:
    error_type = ERROR_TYPES.get(status)
    body: dict[str, Any] = {"detail": message}
    if error_type:
        body["error_type"] = error_type
        headers = {**headers, "X-Fal-Error-Type": error_type}
    return JSONResponse(body, status_code=status, headers=headers)


def invalid(problems: list[Problem]) -> Response:
    """fal's validation error: FastAPI's 422 with one `detail` item per field."""
    detail = [
        {"loc": ["body", *p.path], "msg": p.message, "type": PROBLEM_TYPES[p.kind]}
        for p in problems
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def _urls(request: Request, job: Job) -> dict[str, str]:
    base = f"{base_url(request)}/{app_prefix(job.model)}/requests/{job.id}"
    return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}


def routes(ctx: Context) -> list[Route]:
    def authorized(request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "key" and ctx.key_ok(key.strip()):
            return None
        return JSONResponse(
            {"detail": "Unauthorized: missing or invalid credentials (Authorization: Key ...)"},
            status_code=401,
        )

    async def submit(request: Request, model: str) -> Response:
        ctx.store.attempts[model] += 1
        payload = await json_body(request)

        async def produce() -> Response:
            schema = schema_for("fal", model)
            if schema is not None and (problems := check(schema, payload)):
                return invalid(problems)
            # A model with a schema says itself whether it needs a prompt (an upscaler has
            # none); one without is assumed to, as every fal model did before.
            needs_prompt = schema is None
            if not isinstance(payload, dict) or (
                needs_prompt and not isinstance(payload.get("prompt"), str)
            ):
                detail = [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]
                return JSONResponse({"detail": detail}, status_code=422)
            prompt = str(payload.get("prompt") or "")
            if REJECT_MARKER in prompt:
                detail = [
                    {
                        "loc": ["body", "prompt"],
                        "msg": "Prompt was rejected by the content checker (emulated)",
                        "type": "content_policy_violation",
                    }
                ]
                return JSONResponse({"detail": detail}, status_code=422)
            checked = payload if schema is not None else None
            job = ctx.new_job("fal", model, payload, prompt, body=checked)
            body = {
                "request_id": job.id,
                "gateway_request_id": job.id,
                "status": "IN_QUEUE",
                "queue_position": ctx.store.queue_position(job),
                **_urls(request, job),
            }
            if webhook := request.query_params.get("fal_webhook"):
                ctx.call_back(job, webhook, lambda: callback_body(request, job))
            return JSONResponse(body, headers={"x-fal-request-id": job.id})

        return await ctx.guarded(model, error, produce)

    def status_body(request: Request, job: Job, with_logs: bool) -> tuple[dict[str, Any], int]:
        now = ctx.store.clock()
        phase = job.phase(now)
        logs: list[dict[str, Any]] | None = [] if with_logs else None
        if with_logs and phase is not Phase.QUEUED:
            logs = [
                {
                    "message": f"generating: {job.progress(now):.0%}",
                    "level": "INFO",
                    "source": "USER",
                    "timestamp": "1970-01-01T00:00:00Z",
                }
            ]
        body: dict[str, Any] = {"request_id": job.id, "logs": logs, **_urls(request, job)}
        if phase is Phase.QUEUED:
            body |= {"status": "IN_QUEUE", "queue_position": ctx.store.queue_position(job)}
            return body, 202
        if phase is Phase.RUNNING:
            return body | {"status": "IN_PROGRESS"}, 202
        body |= {"status": "COMPLETED", "metrics": {"inference_time": job.generation_s}}
        if phase is Phase.FAILED and FAIL_QUIET_MARKER not in str(job.input.get("prompt")):
            body |= {"error": job.fail_message, "error_type": "app_error"}
        elif phase is Phase.CANCELED:
            body |= {"error": "Request was cancelled", "error_type": "request_cancelled"}
        return body, 200

    def result_body(request: Request, job: Job) -> Response:
        phase = job.phase(ctx.store.clock())
        if phase in {Phase.QUEUED, Phase.RUNNING}:
            return JSONResponse({"detail": "Request is still in progress"}, status_code=400)
        if phase is Phase.FAILED:
            return JSONResponse({"detail": job.fail_message}, status_code=422)
        if phase is Phase.CANCELED:
            return JSONResponse({"detail": "Request was cancelled"}, status_code=400)
        spec = ctx.spec(job)
        urls = file_urls(request, job, spec)
        seed = job.input.get("seed", 42)
        schema = schema_for("fal", job.model)
        answer = schema.output.get("answer") if schema is not None else None
        if spec.kind == "image" and answer == "image":
            # One image, under `image` (upscalers, background removal).
            image: dict[str, Any] = {"url": urls[0], "width": spec.width, "height": spec.height}
            body: dict[str, Any] = {"image": image | {"content_type": spec.content_type}}
        elif spec.kind == "image":
            images = [
                {"url": url, "width": spec.width, "height": spec.height}
                | {"content_type": spec.content_type}
                for url in urls
            ]
            body = {
                "images": images,
                "seed": seed,
                "prompt": job.input.get("prompt"),
                "has_nsfw_concepts": [False] * len(images),
                "timings": {"inference": job.generation_s},
            }
        else:
            video = {
                "url": urls[0],
                "content_type": "video/mp4",
                "file_name": f"{job.file_id}.mp4",
            }
            body = {"video": video, "seed": seed}
        return JSONResponse(body, headers={"x-fal-request-id": job.id})

    def callback_body(request: Request, job: Job) -> dict[str, Any]:
        """fal's webhook body: `status` OK with the result as `payload`, or ERROR."""
        result = result_body(request, job)
        payload = json.loads(bytes(result.body))
        body: dict[str, Any] = {"request_id": job.id, "gateway_request_id": job.id}
        if result.status_code == 200:
            return body | {"status": "OK", "payload": payload}
        message = str(payload.get("detail") or "request failed")
        return body | {"status": "ERROR", "error": message, "payload": payload}

    async def dispatch(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        path = request.path_params["path"].strip("/")
        if "/requests/" not in path:
            if request.method != "POST" or not path:
                return JSONResponse({"detail": "Not Found"}, status_code=404)
            return await submit(request, path)
        prefix, _, rest = path.partition("/requests/")
        request_id, _, action = rest.partition("/")
        job = ctx.store.get(request_id)
        if job is None or job.provider != "fal" or prefix not in {app_prefix(job.model), job.model}:
            return JSONResponse({"detail": "Request not found", "status": "NOT_FOUND"}, 404)
        found = job

        async def produce() -> Response:
            if action == "status" and request.method == "GET":
                with_logs = request.query_params.get("logs", "0").lower() in {"1", "true"}
                body, code = status_body(request, found, with_logs)
                return JSONResponse(body, status_code=code)
            if action == "" and request.method == "GET":
                return result_body(request, found)
            if action == "cancel" and request.method == "PUT":
                if ctx.store.cancel(found):
                    return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)
                return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
            return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)

        return await ctx.guarded(found.model, error, produce)

    return [Route("/{path:path}", dispatch, methods=["GET", "POST", "PUT"])]
