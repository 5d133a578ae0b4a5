"""The emulator's ASGI app: four provider protocols and a control API on one port.

Control endpoints (no auth):
- `GET  /_emulator/config`       current defaults and per-model overrides (and `stock_media`)
- `POST /_emulator/config`       change them (body shape in `emulator.config`)
- `POST /_emulator/reset`        forget jobs, counters and runtime config changes
- `GET  /_emulator/submissions`  `{"submissions": {model: jobs created}, "attempts": {model:
                                  submit requests received, faulted ones included}, "total": n}`
- `GET  /_emulator/callbacks`    every callback sent: provider, request id, status it got
- `GET  /_emulator/fal/jwks.json` the public key fal callbacks are signed with
- `GET  /_files/<file>`          public media for fal and Replicate jobs (their CDNs are public)
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import fal, gemini, openai, replicate
from emulator.config import EmulatorConfig
from emulator.core import Context, json_body
from emulator.state import Phase


def create_app(config: EmulatorConfig | None = None, *, media_dir: Path | None = None) -> Starlette:
    ctx = Context(config or EmulatorConfig(), media_dir)

    async def get_config(request: Request) -> Response:
        return JSONResponse(ctx.config.as_dict())

    async def set_config(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        try:
            ctx.config.apply(body)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(ctx.config.as_dict())

    async def reset(request: Request) -> Response:
        ctx.reset()
        return JSONResponse({"ok": True})

    async def submissions(request: Request) -> Response:
        counts = dict(ctx.store.submissions)
        return JSONResponse(
            {
                "submissions": counts,
                "attempts": dict(ctx.store.attempts),
                "total": sum(counts.values()),
            }
        )

    async def callbacks(request: Request) -> Response:
        return JSONResponse({"callbacks": list(ctx.signer.log)})

    async def jwks(request: Request) -> Response:
        return JSONResponse(ctx.signer.jwks())

    async def public_file(request: Request) -> Response:
        stem = request.path_params["name"].split(".", 1)[0]
        file_id, _, index = stem.partition("-")
        job = ctx.store.by_file(file_id)
        if job is None or job.provider not in {"fal", "replicate"}:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        if job.phase(ctx.store.clock()) is not Phase.SUCCEEDED:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        if not index.isdigit() or int(index) >= ctx.spec(job).count:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return await ctx.media_response(job, int(index))

    routes = [
        Route("/_emulator/config", get_config, methods=["GET"]),
        Route("/_emulator/config", set_config, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/submissions", submissions, methods=["GET"]),
        Route("/_emulator/callbacks", callbacks, methods=["GET"]),
        Route("/_emulator/fal/jwks.json", jwks, methods=["GET"]),
        Route("/_files/{name}", public_file, methods=["GET"]),
        *replicate.routes(ctx),
        *openai.routes(ctx),
        *gemini.routes(ctx),
        *fal.routes(ctx),  # last: fal ids are arbitrary paths, so it is the catch-all
    ]
    app = Starlette(routes=routes)
    app.state.ctx = ctx
    return app
