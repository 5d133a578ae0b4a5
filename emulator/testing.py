"""Run the emulator in a background thread, for tests and benchmarks.

    with EmulatorServer(EmulatorConfig(...)) as server:
        FalProvider("key", base_url=server.url)

The socket is bound before the thread starts (port 0 → a free port), so there is no race
between picking a port and listening on it. `certfile`/`keyfile` serve HTTPS, for clients
that insist on it (fal-client builds `https://{FAL_QUEUE_RUN_HOST}/…`).
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from emulator.app import create_app
from emulator.config import EmulatorConfig
from emulator.core import Context


class EmulatorServer:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        certfile: Path | None = None,
        keyfile: Path | None = None,
    ) -> None:
        self.app = create_app(config)
        self.host = host
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.port: int = self._sock.getsockname()[1]
        scheme = "https" if certfile else "http"
        self.url = f"{scheme}://{host}:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="critical",
                ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None,
                # A "timeout" fault holds a response open; do not let it hold shutdown too.
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def ctx(self) -> Context:
        ctx: Context = self.app.state.ctx
        return ctx

    def configure(self, **settings: Any) -> None:
        """Change settings over the control API (`POST /_emulator/config`), as a tester would."""
        response = httpx.post(f"{self.url}/_emulator/config", json=settings)
        if response.status_code != 200:
            raise RuntimeError(f"the emulator refused {settings}: {response.text}")

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("emulator did not start")
            time.sleep(0.01)
        return self

    def close_unstarted(self) -> None:
        """Release the bound port of a server that was never started."""
        if not self._thread.is_alive():
            self._sock.close()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
