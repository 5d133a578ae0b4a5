"""GET /playground: served without a key, and nothing on it comes from outside.

The page in a real browser, against a real API and worker, is tests/e2e/test_playground.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.playground import ASSETS, PAGE_DIR

# Any scheme://… or a protocol-relative "//host" in a quoted string or a CSS url().
ABSOLUTE_URL = re.compile(r"[a-z][a-z0-9+.-]*://|[\"'(]\s*//", re.IGNORECASE)
# A name, never fetched: a standalone SVG must declare its namespace.
SVG_NAMESPACE = 'xmlns="http://www.w3.org/2000/svg"'
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "srcset", "data"}


class References(HTMLParser):
    """Every URL an element of the page names."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in URL_ATTRIBUTES and value]


@pytest.fixture
def anonymous() -> TestClient:
    return TestClient(create_app())


class TestPlayground:
    def test_page_is_html_without_a_key(self, anonymous: TestClient) -> None:
        response = anonymous.get("/playground")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "<title>Playground · abstrakt-queue</title>" in response.text
        # Every call the page makes asks for the key; loading it needs none.
        assert anonymous.get("/v1/models").status_code == 401

    def test_page_names_only_its_own_files(self, anonymous: TestClient) -> None:
        parser = References()
        parser.feed(anonymous.get("/playground").text)
        assert sorted(parser.urls) == [
            "/playground/favicon.svg",
            "/playground/playground.css",
            "/playground/playground.js",
        ]
        for url in parser.urls:
            response = anonymous.get(url)
            assert response.status_code == 200, url
            assert response.headers["content-type"].startswith(ASSETS[url.rsplit("/", 1)[1]])

    @pytest.mark.parametrize("name", ["index.html", *ASSETS])
    def test_no_file_references_an_outside_url(self, name: str) -> None:
        text = (PAGE_DIR / name).read_text().replace(SVG_NAMESPACE, "")
        assert not ABSOLUTE_URL.findall(text)
        assert "@import" not in text
        assert "url(" not in text

    def test_the_browser_is_told_to_stay_on_this_origin(self, anonymous: TestClient) -> None:
        policy = anonymous.get("/playground").headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'none'"
        for fetched in ("script-src", "style-src", "connect-src"):
            assert directives[fetched] == "'self'"

    @pytest.mark.parametrize(
        "path", ["/playground/index.html", "/playground/..%2Fapp.py", "/playground/x.js"]
    )
    def test_only_the_pages_files_are_served(self, anonymous: TestClient, path: str) -> None:
        assert anonymous.get(path).status_code == 404
