"""This process has been asked to stop: long waits end early so work can be handed back.

A worker told to stop (SIGTERM to its process group, as `up` and `devtools` send it) sets
`requested`; the local provider's simulated waits watch it and raise `ShuttingDown`, and
the task hands its job back to the queue as a new attempt instead of leaving it `running`.
Imports nothing of the project: the provider leaves may use it.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

requested = threading.Event()


class ShuttingDown(Exception):
    """The process is stopping; the work under way should be handed back."""


def pause(seconds: float) -> None:
    """Sleep `seconds`, or raise `ShuttingDown` as soon as a stop is requested."""
    if requested.wait(seconds):
        raise ShuttingDown("the worker is stopping")


def install_sigterm_handler() -> None:
    """The first SIGTERM requests a stop; a second one ends the process at once."""

    def on_sigterm(signum: int, _frame: FrameType | None) -> None:
        if requested.is_set():
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        requested.set()

    signal.signal(signal.SIGTERM, on_sigterm)
