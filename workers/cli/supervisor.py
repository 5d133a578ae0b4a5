"""`abstrakt-queue up`: API, worker and beat as child processes with prefixed logs.

Ctrl-C or SIGTERM stops every child: SIGTERM first (Celery finishes or hands back its
current task, uvicorn drains), SIGKILL for any still alive after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO

GRACE_S = 20.0


def _pump(name: str, stream: IO[str], lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            sys.stdout.write(f"[{name:6}] {line}")
            sys.stdout.flush()


def supervise(commands: dict[str, Sequence[str]], banner: str) -> int:
    lock = threading.Lock()
    children: dict[str, subprocess.Popen[str]] = {}
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for name, argv in commands.items():
            child = subprocess.Popen(
                list(argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # our signal handler decides when children stop
            )
            children[name] = child
            assert child.stdout is not None
            threading.Thread(target=_pump, args=(name, child.stdout, lock), daemon=True).start()
        with lock:
            print(banner, flush=True)
        exit_code = 0
        while not stopping.is_set():
            for name, child in children.items():
                if child.poll() is not None:
                    with lock:
                        print(f"{name} exited with {child.returncode}; stopping", flush=True)
                    exit_code = child.returncode or 1
                    stopping.set()
            stopping.wait(0.5)
        return exit_code
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=GRACE_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
