"""GET /playground: a page to try the models and watch a job over `/v1/stream`.

The page loads without a key (it asks for one and sends it with every /v1 call) and uses
nothing from outside: its files are package data beside this package, `api/playground/`.
"""

from __future__ import annotations

from api.static_page import folder_of, page_router

PAGE_DIR = folder_of("playground")
ASSETS = {
    "playground.js": "text/javascript",
    "playground.css": "text/css",
    "favicon.svg": "image/svg+xml",
}
# Same origin only: the page, its files, its API calls and the stream. Images and media
# may come from wherever storage serves them (PUBLIC_BASE_URL, object storage).
router = page_router(
    "playground",
    ASSETS,
    csp="default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src http: https: data:; media-src http: https:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
)
