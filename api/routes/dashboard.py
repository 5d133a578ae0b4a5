"""GET /dashboard: latency, throughput, cache and live jobs of the key's owner, on one page.

Like the playground, the page loads without a key, asks for one and sends it with each /v1
call, so it shows that key owner's jobs only. Its files are package data in
`api/dashboard/`: HTML, vanilla JS drawing inline SVG, CSS; nothing from outside.
"""

from __future__ import annotations

from api.static_page import page_router

# Same origin only, and no images or media at all: the charts are SVG drawn by the script.
router = page_router(
    "dashboard",
    {
        "dashboard.js": "text/javascript",
        "dashboard.css": "text/css",
        "favicon.svg": "image/svg+xml",
    },
    csp="default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
)
