"""The browser fixtures, for every browser test here (tests/e2e/browser.py)."""

from tests.e2e.browser import browser, playwright

__all__ = ["browser", "playwright"]
