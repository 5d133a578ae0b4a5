"""GET /playground: a page to try the models and watch a job over `/v1/stream`.

The page loads without a key (it asks for one and sends it with every /v1 call) and uses
nothing from outside: its files are package data beside this package, `api/playground/`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(tags=["playground"], include_in_schema=False)

PAGE_DIR = Path(__file__).resolve().parent.parent / "playground"
ASSETS = {
    "playground.js": "text/javascript",
    "playground.css": "text/css",
    "favicon.svg": "image/svg+xml",
}

# Same origin only: the page, its files, its API calls and the stream. Images and media
# may come from wherever storage serves them (PUBLIC_BASE_URL, object storage).
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src http: https: data:; media-src http: https:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@router.get("/playground")
def page() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/playground/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:  # a fixed list: no path from the URL ever reaches the disk
        raise HTTPException(status_code=404)
    return FileResponse(PAGE_DIR / name, media_type=ASSETS[name], headers=HEADERS)
