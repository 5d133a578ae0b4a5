"""This process has been asked to stop: long waits end early so work can be handed back.

A worker told to stop hands its running local job back to the queue as a new attempt
instead of leaving it `running` until its lease lapses. How the request arrives depends on
the pool: a prefork pool process gets SIGTERM with the rest of the worker's process group
(`up` and `devtools` signal the group); the solo and threads pools run tasks in the main
process, where Celery's `worker_shutting_down` says it. Either sets `requested`; the local
provider's simulated waits watch it (`pause`) and raise `ShuttingDown`, and the task hands
its job back. The request lasts as long as the process: a stopping worker can still be
given a task (even the message of the job it has just handed back), and `job.generate`
puts that message back on the broker instead of starting work it would have to hand back.
Imports nothing of the project: the provider leaves may use it.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

requested = threading.Event()
_busy = threading.Event()
_pool_process = threading.Event()


class ShuttingDown(Exception):
    """The process is stopping; the work under way should be handed back."""


def pause(seconds: float) -> None:
    """Sleep `seconds`, or raise `ShuttingDown` as soon as a stop is requested."""
    if requested.wait(seconds):
        raise ShuttingDown("the worker is stopping")


def in_pool_process() -> None:
    """This process is a prefork pool process (`worker_process_init`)."""
    _pool_process.set()


def task_started() -> None:
    """A task begins here: in a pool process, a SIGTERM from now on hands its work back.

    Installed at each task, not at fork: billiard sets its own SIGTERM handler after the
    fork's initializer. An idle pool process still stops the way billiard stops it."""
    if not _pool_process.is_set():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if getattr(previous, "hands_back", False):
        _busy.set()
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if _busy.is_set() and not requested.is_set():
            requested.set()  # the task hands its job back, then the pool closes as usual
            return
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    on_sigterm.hands_back = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, on_sigterm)
    _busy.set()


def task_ended() -> None:
    """The task is over. A stop requested during it stands: the process is on its way out."""
    _busy.clear()
