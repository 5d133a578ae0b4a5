"""What the browser tests share: Chromium (the system's when there is one, else
Playwright's own, which scripts/test downloads), a page that records what it fetched and
every error it met, and where screenshots go."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
# The machine may be slow and shared: waits are on conditions, with room to spare.
WAIT_MS = 120_000


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    system = shutil.which("chromium") or shutil.which("chromium-browser")
    browser = playwright.chromium.launch(executable_path=system)  # None: Playwright's own
    yield browser
    browser.close()


class Watched:
    """A page with every URL it asked for and every error it met."""

    def __init__(self, page: Page, api_url: str) -> None:
        self.page = page
        self.origin = api_url
        self.requests: list[str] = []
        self.problems: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(message.text)

    def assert_stayed_home(self) -> None:
        """Nothing was fetched from another origin, and the page met no error."""
        home = urlsplit(self.origin).netloc
        assert all(urlsplit(url).netloc == home for url in self.requests), self.requests
        assert not self.problems
