"""Fault tests: real processes, and a dependency that goes away under them."""

from __future__ import annotations

from tests.hosted.conftest import configure, fresh_emulator

# The hosted tests' emulator fixtures, not copies of them.
__all__ = ["configure", "fresh_emulator"]
