"""GET /dashboard: latency, throughput, cache and live jobs of the key's owner, on one page.

Like the playground (routes/playground.py), the page loads without a key, asks for one and
sends it with each /v1 call, so it shows that key owner's jobs only. Its files are package
data in `api/dashboard/`: HTML, vanilla JS drawing inline SVG, CSS; nothing from outside.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(tags=["dashboard"], include_in_schema=False)

PAGE_DIR = Path(__file__).resolve().parent.parent / "dashboard"
ASSETS = {
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
    "favicon.svg": "image/svg+xml",
}

# Same origin only, and no images or media at all: the charts are SVG drawn by the script.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@router.get("/dashboard")
def page() -> FileResponse:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/dashboard/{name}")
def asset(name: str) -> FileResponse:
    if name not in ASSETS:  # a fixed list: no path from the URL ever reaches the disk
        raise HTTPException(status_code=404)
    return FileResponse(PAGE_DIR / name, media_type=ASSETS[name], headers=HEADERS)
