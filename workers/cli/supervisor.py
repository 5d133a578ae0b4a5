"""`abstrakt-queue up`: API, worker, beat and poller as child processes with prefixed logs.

A child that exits is logged and started again, after a backoff that doubles (from
`FIRST_BACKOFF_S` to `MAX_BACKOFF_S`) while it keeps failing and resets once it has run
`STEADY_S`. `up` stops only when told to (Ctrl-C or SIGTERM), and then cleanly: SIGTERM to
each child's whole process group (so a prefork worker's pool processes hand their jobs back
to the queue, see `workers.shutdown`, and Celery finishes; uvicorn drains), SIGKILL for any
still alive after `GRACE_S`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

GRACE_S = 20.0
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
STEADY_S = 60.0  # a child that ran this long before exiting starts again at once


def _pump(name: str, stream: IO[str], lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            sys.stdout.write(f"[{name:6}] {line}")
            sys.stdout.flush()


@dataclass
class _Child:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen[str] | None = None
    started_at: float = 0.0
    backoff_s: float = FIRST_BACKOFF_S
    restart_at: float | None = None
    restarts: int = field(default=0)

    def start(self, lock: threading.Lock) -> None:
        self.process = subprocess.Popen(
            list(self.argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # our signal handler decides when children stop
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        assert self.process.stdout is not None
        threading.Thread(
            target=_pump, args=(self.name, self.process.stdout, lock), daemon=True
        ).start()

    def check(self, lock: threading.Lock, say: _Say) -> None:
        """Restart the child when it is due; notice when it has exited."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                say(f"{self.name}: starting again (restart {self.restarts})")
                self.start(lock)
            return
        if self.process is None or self.process.poll() is None:
            return
        if now - self.started_at >= STEADY_S:
            self.backoff_s = FIRST_BACKOFF_S
        say(
            f"{self.name} exited with {self.process.returncode}; "
            f"restarting in {self.backoff_s:.0f} s"
        )
        self.restart_at = now + self.backoff_s
        self.backoff_s = min(MAX_BACKOFF_S, self.backoff_s * 2)

    def signal(self, sig: int) -> None:
        """`sig` to the child's process group (its own children too); SIGKILL even when
        the child itself has exited, for what it left behind."""
        if self.process is not None and (sig == signal.SIGKILL or self.process.poll() is None):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass


class _Say:
    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock

    def __call__(self, line: str) -> None:
        with self.lock:
            print(f"[up    ] {line}", flush=True)


def supervise(commands: dict[str, Sequence[str]], banner: str) -> int:
    lock = threading.Lock()
    say = _Say(lock)
    children = [_Child(name, argv) for name, argv in commands.items()]
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for child in children:
            child.start(lock)
        with lock:
            print(banner, flush=True)
        while not stopping.is_set():
            for child in children:
                child.check(lock, say)
            stopping.wait(0.2)
        say("stopping: SIGTERM to every process (running jobs go back to the queue)")
        return 0
    finally:
        _stop_all(children, say)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_all(children: list[_Child], say: _Say) -> None:
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} still running after {GRACE_S:.0f} s; killing it")
            child.signal(signal.SIGKILL)
            child.process.wait()
