"""Gemini API Veo (providers.md §4): `x-goog-api-key` (or `?key=`), google.rpc error bodies,
`:predictLongRunning` → Operation `models/<m>/operations/<id>`, poll until `done`.

Operations expose no progress. `:cancel` answers 501 UNIMPLEMENTED: the Gemini API documents
no cancel for these operations, so the emulator offers none.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.config import REJECT_MARKER
from emulator.core import Context, base_url, json_body
from emulator.schemas import Problem, check, schema_for
from emulator.state import Job, Phase

STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}
RESPONSE_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"


def error(status: int, message: str, headers: dict[str, str]) -> Response:
    body = {"error": {"code": status, "message": message, "status": STATUS.get(status, "UNKNOWN")}}
    return JSONResponse(body, status_code=status, headers=headers)


def invalid(problems: list[Problem]) -> Response:
    """Google's INVALID_ARGUMENT, one field violation per problem, in its wording."""
    violations = []
    for p in problems:
        where = _where(p.path[:-1]) if p.kind == "extra" else _where(p.path)
        if p.kind == "extra":
            at = f" at '{where}'" if where else ""
            text = (
                f'Invalid JSON payload received. Unknown name "{p.path[-1]}"{at}: '
                "Cannot find field."
            )
        else:
            text = f"Invalid value at '{where}': {p.message}"
        violations.append({"field": where, "description": text})
    body = {
        "error": {
            "code": 400,
            "message": "\n".join(v["description"] for v in violations),
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": violations,
                }
            ],
        }
    }
    return JSONResponse(body, status_code=400)


def _where(path: tuple[str | int, ...]) -> str:
    """`instances[0].prompt`: Google's way of naming a field."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _invalid(params: dict[str, Any]) -> str | None:
    if str(params.get("durationSeconds", 8)) not in {"4", "6", "8"}:
        return "durationSeconds must be one of 4, 6, 8."
    if params.get("resolution", "720p") not in {"720p", "1080p"}:
        return "resolution must be 720p or 1080p."
    if params.get("aspectRatio", "16:9") not in {"16:9", "9:16"}:
        return "aspectRatio must be 16:9 or 9:16."
    return None


def routes(ctx: Context) -> list[Route]:
    def authorized(request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if ctx.key_ok(key):
            return None
        if not key:
            return error(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to "
                "call this API.",
                {},
            )
        return error(400, "API key not valid. Please pass a valid API key.", {})

    def operation(request: Request, job: Job) -> dict[str, Any]:
        phase = job.phase(ctx.store.clock())
        body: dict[str, Any] = {"name": f"models/{job.model}/operations/{job.id}"}
        if phase is Phase.SUCCEEDED:
            uri = f"{base_url(request)}/v1beta/files/{job.file_id}:download?alt=media"
            samples = [{"video": {"uri": uri}}]
            body |= {
                "done": True,
                "response": {
                    "@type": RESPONSE_TYPE,
                    "generateVideoResponse": {"generatedSamples": samples},
                },
            }
        elif phase is Phase.FAILED:
            body |= {"done": True, "error": {"code": 13, "message": job.fail_message}}
        elif phase is Phase.CANCELED:
            body |= {"done": True, "error": {"code": 1, "message": "Operation was cancelled."}}
        return body

    async def models(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        rest: str = request.path_params["rest"]
        if request.method == "POST" and rest.endswith(":predictLongRunning"):
            return await start(request, rest.removesuffix(":predictLongRunning"))
        model, sep, op_part = rest.partition("/operations/")
        op_id, _, verb = op_part.partition(":")
        job = ctx.store.get(op_id) if sep else None
        if job is None or job.provider != "gemini" or job.model != model:
            return error(404, f"Requested entity was not found: models/{rest}", {})
        found = job

        async def produce() -> Response:
            if request.method == "POST" and verb == "cancel":
                return error(501, "Operation cancellation is not implemented.", {})
            if request.method == "GET" and not verb:
                return JSONResponse(operation(request, found))
            return error(404, "Method not found.", {})

        return await ctx.guarded(found.model, error, produce)

    async def start(request: Request, model: str) -> Response:
        ctx.store.attempts[model] += 1
        body = await json_body(request)

        async def produce() -> Response:
            schema = schema_for("gemini", model)
            if schema is not None and (problems := check(schema, body)):
                return invalid(problems)
            instances = body.get("instances") if isinstance(body, dict) else None
            first = instances[0] if isinstance(instances, list) and instances else None
            prompt = first.get("prompt") if isinstance(first, dict) else None
            if not isinstance(prompt, str) or not prompt:
                return error(400, "instances[0].prompt is required.", {})
            params = body.get("parameters") or {}
            if not isinstance(params, dict) or (problem := _invalid(params)):
                return error(400, problem or "parameters must be an object.", {})
            if REJECT_MARKER in prompt:
                return error(400, "The prompt was blocked by safety filters (emulated).", {})
            record = {"prompt": prompt, "parameters": params}
            checked = body if schema is not None else None
            job = ctx.new_job("gemini", model, record, prompt, body=checked)
            return JSONResponse(operation(request, job))

        return await ctx.guarded(model, error, produce)

    async def files(request: Request) -> Response:
        if (denied := authorized(request)) is not None:
            return denied
        file_id = request.path_params["rest"].removesuffix(":download")
        job = ctx.store.by_file(file_id)
        if job is None or job.provider != "gemini" or job.phase(ctx.store.clock()) != "succeeded":
            return error(404, f"File files/{file_id} not found.", {})
        return await ctx.media_response(job)

    return [
        Route("/v1beta/models/{rest:path}", models, methods=["GET", "POST"]),
        Route("/v1beta/files/{rest:path}", files, methods=["GET"]),
    ]
