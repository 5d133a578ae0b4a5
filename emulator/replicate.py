"""Replicate predictions API (providers.md §2): Bearer token, RFC 7807 error bodies,
starting → processing → succeeded | failed | canceled, output URLs in the prediction.

`GET /v1/predictions` lists newest first, `PAGE_SIZE` a page, as `{"next", "previous",
"results"}` where `next`/`previous` are absolute URLs holding an opaque `cursor` (the official
client follows them as given); `created_after` (inclusive) and `created_before` (exclusive)
filter by creation time. Not confirmed against the real service (documented choices): the
cursor format, and a 400 for an unreadable cursor or date.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.config import REJECT_MARKER
from emulator.core import Context, base_url, file_urls, json_body
from emulator.schemas import Problem, check, schema_for
from emulator.state import Job, Phase

PAGE_SIZE = 100  # what Replicate returns per list page; the API takes no size parameter
TITLES = {400: "Bad request", 401: "Unauthenticated", 404: "Not found"}
TITLES |= {422: "Input validation failed"}
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


def invalid(problems: list[Problem]) -> Response:
    """Replicate's input validation error: 422 with a `detail` line per field and
    `invalid_fields`."""
    fields = []
    for p in problems:
        if p.kind == "extra":  # JSON Schema's wording, as Replicate reports it
            where, kind = ("input", *p.path[:-1]), "additional_property_not_allowed"
            message = f"Additional property {p.path[-1]} is not allowed"
        else:
            where, kind, message = ("input", *p.path), p.kind, p.message
        fields.append({"type": kind, "field": ".".join(map(str, where)), "description": message})
    detail = "\n".join(f"- {f['field']}: {f['description']}" for f in fields)
    body = {"title": TITLES[422], "detail": detail, "status": 422, "invalid_fields": fields}
    return JSONResponse(body, status_code=422)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def _parse_time(raw: str) -> float:
    """ISO 8601 date-time or date → unix seconds (UTC when no offset is given)."""
    moment = datetime.fromisoformat(raw)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _cursor(direction: str, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{direction}:{job_id}".encode()).decode()


def _read_cursor(raw: str) -> tuple[str, str]:
    """`(direction, job id)`: "o" → the page older than that job, "n" → the page newer."""
    try:
        direction, _, job_id = base64.urlsafe_b64decode(raw.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("unreadable cursor") from None
    if direction not in {"o", "n"} or not job_id:
        raise ValueError("unreadable cursor")
    return direction, job_id


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
            urls = file_urls(request, job, spec)
            body["output"] = urls if spec.kind == "image" else urls[0]
        elif phase is Phase.FAILED:
            body["error"] = job.fail_message
        return body

    async def create(request: Request, model: str, version: str | None, payload: Any) -> Response:
        ctx.store.attempts[model] += 1

        async def produce() -> Response:
            inp = payload.get("input") if isinstance(payload, dict) else None
            if not isinstance(inp, dict):
                return error(422, "- input: input is required", {})
            schema = schema_for("replicate", model)
            if schema is not None and (problems := check(schema, inp)):
                return invalid(problems)
            if REJECT_MARKER in str(inp.get("prompt", "")):
                return error(422, "- input.prompt: rejected by the content filter (emulated)", {})
            record = {"input": inp, "_version": version or "hidden", **inp}
            checked = inp if schema is not None else None
            prompt = str(inp.get("prompt", ""))
            job = ctx.new_job("replicate", model, record, prompt, body=checked)
            webhook = payload.get("webhook")
            events = payload.get("webhook_events_filter") or ["completed"]
            if isinstance(webhook, str) and webhook and "completed" in events:
                ctx.call_back(job, webhook, lambda: prediction(request, job))
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

    async def list_predictions(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        query = request.query_params
        filters = {k: query[k] for k in ("created_after", "created_before", "source") if k in query}
        try:
            after = _parse_time(filters["created_after"]) if "created_after" in filters else None
            before = _parse_time(filters["created_before"]) if "created_before" in filters else None
            cursor = _read_cursor(query["cursor"]) if "cursor" in query else None
        except ValueError as exc:
            return error(400, f"Invalid query: {exc}", {})

        def keep(job: Job) -> bool:
            return (
                (after is None or job.created_wall >= after)
                and (before is None or job.created_wall < before)
                and filters.get("source", "api") == "api"  # every emulated prediction is "api"
            )

        async def produce() -> Response:
            jobs = [job for job in ctx.store.listing("replicate") if keep(job)]
            start, end = 0, PAGE_SIZE
            if cursor is not None:
                direction, job_id = cursor
                index = next((i for i, job in enumerate(jobs) if job.id == job_id), None)
                if index is None:
                    return error(400, "Invalid cursor", {})
                older = (index + 1, index + 1 + PAGE_SIZE)
                start, end = older if direction == "o" else (max(0, index - PAGE_SIZE), index)
            page = jobs[start:end]
            end = start + len(page)

            def link(direction: str, job: Job) -> str:
                params = urlencode({**filters, "cursor": _cursor(direction, job.id)})
                return f"{base_url(request)}/v1/predictions?{params}"

            body = {
                "next": link("o", page[-1]) if page and end < len(jobs) else None,
                "previous": link("n", page[0]) if page and start > 0 else None,
                "results": [prediction(request, job) for job in page],
            }
            return JSONResponse(body)

        # A list belongs to no model, so the default settings' faults apply to it.
        return await ctx.guarded("", error, produce)

    async def webhook_secret(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        return JSONResponse({"key": ctx.signer.replicate_secret})

    return [
        Route("/v1/webhooks/default/secret", webhook_secret, methods=["GET"]),
        Route("/v1/models/{owner}/{name}/predictions", create_for_model, methods=["POST"]),
        Route("/v1/predictions", create_with_version, methods=["POST"]),
        Route("/v1/predictions", list_predictions, methods=["GET"]),
        Route("/v1/predictions/{id}", get_or_cancel, methods=["GET"]),
        Route("/v1/predictions/{id}/cancel", get_or_cancel, methods=["POST"]),
    ]
