"""A real webhook receiver on loopback: records every POST and answers as planned."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = -1  # an answer that is held until `release()` (or 60 s): a slow or dead receiver


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int | None = None  # the status sent; None while held

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    plans: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)


class Receiver:
    def __init__(self) -> None:
        state = self.state = _State()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with state.lock:
                    state.received.append(got)
                    plan = state.plans.get(self.path) or []
                    answer = plan.pop(0) if plan else 200
                if answer == HANG:
                    state.released.wait(60)
                    answer = 200
                got.answered = answer
                try:
                    self.send_response(answer)
                    if 300 <= answer < 400:
                        self.send_header("location", "/elsewhere")
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def plan(self, path: str, *answers: int) -> None:
        """Answer the next POSTs to `path` with these statuses (`HANG`: hold), then 200."""
        with self.state.lock:
            self.state.plans[path] = list(answers)

    def received(self, path: str | None = None) -> list[Received]:
        with self.state.lock:
            return [r for r in self.state.received if path is None or r.path == path]

    def release(self) -> None:
        self.state.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
