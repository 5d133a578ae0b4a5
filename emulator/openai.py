"""OpenAI Videos API (providers.md §3): Bearer key, `{"error": {...}}` bodies,
queued → in_progress (with progress) → completed | failed; bytes from `/content` with auth.

`GET /v1/videos` lists with `limit` (0-100), `order` (`asc`|`desc`) and `after` (the previous
page's `last_id`) as `{"object": "list", "data", "first_id", "last_id", "has_more"}`.

Not confirmed against the real service (documented choices): DELETE of an unfinished video
is refused with 400, `/content` before completion answers 404, the list defaults to 20 items
newest first, and an unknown `after` id or a bad `limit`/`order` answers 400.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.config import REJECT_MARKER
from emulator.core import Context, json_body
from emulator.schemas import Problem, check, schema_for
from emulator.state import TERMINAL, Job, Phase

SIZES = {"720x1280", "1280x720", "1024x1792", "1792x1024", "1920x1080", "1080x1920"}
PRO_ONLY = {"1920x1080", "1080x1920", "1024x1792", "1792x1024"}
SECONDS = {"4", "8", "12", "16", "20"}
TYPES = {429: "requests", 500: "server_error", 503: "server_error"}
LIST_LIMIT, LIST_MAX = 20, 100


def error(
    status: int,
    message: str,
    headers: dict[str, str],
    *,
    param: str | None = None,
    code: str | None = None,
) -> Response:
    if status == 429:
        code = code or "rate_limit_exceeded"
    body = {
        "error": {
            "message": message,
            "type": TYPES.get(status, "invalid_request_error"),
            "param": param,
            "code": code,
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def invalid(problem: Problem) -> Response:
    """OpenAI's answer to a bad create: 400 naming the first bad parameter."""
    param = ".".join(map(str, problem.path))
    if problem.kind == "extra":
        return error(
            400, f"Unknown parameter: '{param}'.", {}, param=param, code="unknown_parameter"
        )
    if problem.kind == "missing":
        message = f"Missing required parameter: '{param}'."
        return error(400, message, {}, param=param, code="missing_required_parameter")
    message = f"Invalid value for '{param}': {problem.message}."
    return error(400, message, {}, param=param, code="invalid_value")


def _fault_error(status: int, message: str, headers: dict[str, str]) -> Response:
    return error(status, message, headers)


async def form_fields(request: Request) -> dict[str, Any] | None:
    """JSON or multipart/form-data (what the SDK sends), parsed with the stdlib only."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        raw = await request.body()
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if isinstance(name, str):
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    fields[name] = payload.decode(errors="replace")
        return fields
    body = await json_body(request)
    return body if isinstance(body, dict) else None


def routes(ctx: Context) -> list[Route]:
    def authorized(request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() == "bearer" and ctx.key_ok(key.strip()):
            return None
        if not header:
            message = "You didn't provide an API key. Provide it in the Authorization header."
            return error(401, message, {})
        return error(401, "Incorrect API key provided.", {}, code="invalid_api_key")

    def video(job: Job) -> dict[str, Any]:
        now = ctx.store.clock()
        phase = job.phase(now)
        status = {
            Phase.QUEUED: "queued",
            Phase.RUNNING: "in_progress",
            Phase.SUCCEEDED: "completed",
            Phase.FAILED: "failed",
            Phase.CANCELED: "failed",
        }[phase]
        body: dict[str, Any] = {
            "id": job.id,
            "object": "video",
            "model": job.model,
            "status": status,
            "progress": 100 if phase is Phase.SUCCEEDED else int(job.progress(now) * 100),
            "created_at": int(job.created_wall),
            "completed_at": None,
            "expires_at": None,
            "prompt": job.input["prompt"],
            "seconds": job.input["seconds"],
            "size": job.input["size"],
            "remixed_from_video_id": None,
            "error": None,
        }
        if phase in TERMINAL:
            body["completed_at"] = int(job.wall(job.finished_at()))
        if phase is Phase.SUCCEEDED:
            body["expires_at"] = body["completed_at"] + 3600
        if phase is Phase.FAILED:
            body["error"] = {"code": "video_generation_failed", "message": job.fail_message}
        return body

    async def create(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        fields = await form_fields(request) or {}
        model = str(fields.get("model") or "sora-2")
        ctx.store.attempts[model] += 1

        async def produce() -> Response:
            schema = schema_for("openai", model)
            if schema is not None and (problems := check(schema, fields)):
                return invalid(problems[0])
            prompt = fields.get("prompt")
            if not isinstance(prompt, str) or not prompt:
                return error(400, "Missing required parameter: 'prompt'.", {}, param="prompt")
            if not model.startswith("sora-2"):
                return error(400, f"Invalid model '{model}'.", {}, param="model")
            seconds = str(fields.get("seconds") or "4")
            size = str(fields.get("size") or "720x1280")
            if seconds not in SECONDS:
                return error(400, f"Invalid value for seconds: '{seconds}'.", {}, param="seconds")
            if size not in SIZES or (size in PRO_ONLY and not model.startswith("sora-2-pro")):
                return error(400, f"Invalid value for size: '{size}'.", {}, param="size")
            if REJECT_MARKER in prompt:
                message = "Your request was blocked by our moderation system."
                return error(400, message, {}, param="prompt", code="moderation_blocked")
            record = {"prompt": prompt, "seconds": seconds, "size": size}
            checked = fields if schema is not None else None
            job = ctx.new_job("openai", model, record, prompt, body=checked)
            return JSONResponse(video(job))

        return await ctx.guarded(model, _fault_error, produce)

    async def one(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        video_id = request.path_params["id"]
        job = ctx.store.get(video_id)
        if job is None or job.provider != "openai":
            return error(404, f"Video with id '{video_id}' not found.", {})
        found = job

        async def produce() -> Response:
            phase = found.phase(ctx.store.clock())
            if request.url.path.endswith("/content"):
                if request.query_params.get("variant", "video") != "video":
                    return error(400, "Only the video variant is emulated.", {}, param="variant")
                if phase is not Phase.SUCCEEDED:
                    return error(404, "Video content is not available.", {})
                return await ctx.media_response(found)
            if request.method == "DELETE":
                if phase not in TERMINAL:
                    return error(400, "Video is still being generated and cannot be deleted.", {})
                return JSONResponse({"id": found.id, "object": "video.deleted", "deleted": True})
            poll_ms = max(50, int(min(found.queue_s, found.generation_s) * 250))
            return JSONResponse(video(found), headers={"openai-poll-after-ms": str(poll_ms)})

        return await ctx.guarded(found.model, _fault_error, produce)

    async def list_videos(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        query = request.query_params
        order = query.get("order", "desc")
        if order not in {"asc", "desc"}:
            return error(400, f"Invalid value for order: '{order}'.", {}, param="order")
        try:
            limit = int(query.get("limit", LIST_LIMIT))
        except ValueError:
            limit = -1
        if not 0 <= limit <= LIST_MAX:
            message = f"Invalid value for limit: must be between 0 and {LIST_MAX}."
            return error(400, message, {}, param="limit")
        after = query.get("after")

        async def produce() -> Response:
            jobs = ctx.store.listing("openai")  # newest first
            if order == "asc":
                jobs.reverse()
            start = 0
            if after is not None:
                index = next((i for i, job in enumerate(jobs) if job.id == after), None)
                if index is None:
                    return error(400, f"Invalid value for after: '{after}'.", {}, param="after")
                start = index + 1
            page = jobs[start : start + limit]
            body = {
                "object": "list",
                "data": [video(job) for job in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": start + len(page) < len(jobs),
            }
            return JSONResponse(body)

        # A list belongs to no model, so the default settings' faults apply to it.
        return await ctx.guarded("", _fault_error, produce)

    return [
        Route("/v1/videos", create, methods=["POST"]),
        Route("/v1/videos", list_videos, methods=["GET"]),
        Route("/v1/videos/{id}", one, methods=["GET", "DELETE"]),
        Route("/v1/videos/{id}/content", one, methods=["GET"]),
    ]
