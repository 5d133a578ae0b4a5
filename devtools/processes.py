"""Start, wait for and stop real processes of the system, as the tests and the benchmark do.

A child runs in a session of its own, so stopping it reaches the processes it forked too
(a prefork worker's pool, `up`'s roles).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import httpx

if TYPE_CHECKING:
    from celery import Celery

T = TypeVar("T")


def free_port() -> int:
    """A loopback port free at the time of asking (for a child that binds it itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    check: Callable[[], T | None], timeout_s: float, what: str, *, interval_s: float = 0.05
) -> T:
    """Poll `check` until it returns a value other than None or False, and return that value.

    Raises TimeoutError naming `what` at the deadline.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value is not None and value is not False:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")


def answers(url: str) -> bool:
    """Whether `url` answers 200 yet (a server still starting refuses the connection)."""
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def worker_answers(app: Celery) -> bool:
    """Whether a Celery worker of `app` answers a ping yet."""
    return bool(app.control.ping(timeout=0.3))


def cli(*args: str) -> list[str]:
    """The command line of `abstrakt-queue ARGS` in this interpreter."""
    return [sys.executable, "-m", "workers.cli", *args]


def spawn(
    argv: list[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a session of its own, its output appended to `log`."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            argv,
            env=None if env is None else dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start(
    args: list[str], *, log: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `abstrakt-queue ARGS` (a worker, the poller, the API …)."""
    return spawn(cli(*args), log=log, env=env, cwd=cwd)


def stop(process: subprocess.Popen[bytes], timeout_s: float = 30, *, strict: bool = True) -> int:
    """SIGTERM the process's session and return its exit code.

    One still running after `timeout_s` is killed; `strict` then raises TimeoutExpired,
    for callers to whom a process that ignores SIGTERM is a failure.
    """
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        code = process.wait()
        if strict:
            raise
        return code


class Children:
    """Processes started together and all stopped at the end (a test's, a benchmark run's).

    Each child's output goes to `logs/NAME.log`.
    """

    def __init__(self, logs: Path, *, strict: bool = True) -> None:
        self.logs = logs
        self.strict = strict
        self.running: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        argv: list[str],
        name: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        child = spawn(argv, log=self.logs / f"{name}.log", env=env, cwd=cwd)
        self.running.append(child)
        return child

    def stop(self, child: subprocess.Popen[bytes]) -> int:
        if child in self.running:
            self.running.remove(child)
        return stop(child, strict=self.strict)

    def stop_all(self) -> None:
        """Stop every child, even when stopping one of them fails; then raise the first error."""
        errors: list[BaseException] = []

        def stop_one(child: subprocess.Popen[bytes]) -> None:
            try:
                self.stop(child)
            except Exception as exc:
                errors.append(exc)

        # Together: each waits for its own warm shutdown, never for the others'.
        with ThreadPoolExecutor(max(len(self.running), 1)) as pool:
            list(pool.map(stop_one, list(self.running)))
        if errors:
            raise errors[0]
