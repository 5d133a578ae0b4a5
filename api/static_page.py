"""A page the API serves with no build step: `index.html` and a fixed list of files beside it,
package data under `api/<name>/`, with headers that keep it to its own origin."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

COMMON_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def folder_of(name: str) -> Path:
    return Path(__file__).resolve().parent / name


def page_router(name: str, assets: dict[str, str], *, csp: str) -> APIRouter:
    """`GET /<name>` (the page) and `GET /<name>/<file>` for the files `assets` names, with
    their content types; any other file is 404, so no path from a URL reaches the disk."""
    router = APIRouter(tags=[name], include_in_schema=False)
    folder = folder_of(name)
    headers = {"Content-Security-Policy": csp, **COMMON_HEADERS}

    @router.get(f"/{name}")
    def page() -> FileResponse:
        return FileResponse(folder / "index.html", media_type="text/html", headers=headers)

    @router.get(f"/{name}/{{file}}")
    def asset(file: str) -> FileResponse:
        if file not in assets:
            raise HTTPException(status_code=404)
        return FileResponse(folder / file, media_type=assets[file], headers=headers)

    return router
