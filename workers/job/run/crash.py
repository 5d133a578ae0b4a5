"""Fault injection for the kill tests: die, abruptly, at a named point of a job's life.

Production never sets `CRASH_AT`; the kill tests start a worker with it, so a SIGKILL lands
exactly in the window under test instead of wherever a timer happens to fall.
"""

from __future__ import annotations

import logging
import os
import signal

from workers.settings import get_settings

log = logging.getLogger(__name__)

POINTS = frozenset(
    {"while_generating", "before_submit", "after_submit", "while_encoding", "while_uploading"}
)


def crash_point(name: str) -> None:
    assert name in POINTS, name
    if get_settings().crash_at == name:
        log.warning("job.crash_point name=%s pid=%s", name, os.getpid())
        os.kill(os.getpid(), signal.SIGKILL)
