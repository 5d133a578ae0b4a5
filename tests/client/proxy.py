"""A loopback TCP proxy in front of the real API, to cut connections mid-stream as a
network would, and to read what the client sent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class CuttingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[bytes] = []  # what each connection's client sent, in order
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Close every connection open now, both ways, as a dropped network would."""
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def close(self) -> None:
        self.listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._open += [client, server]
                index = len(self.requests)
                self.requests.append(b"")
            threading.Thread(target=self._pipe, args=(client, server, index), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, None), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, index: int | None) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if index is not None:
                    with self._lock:
                        self.requests[index] += data
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextmanager
def cutting_proxy(api_url: str) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(int(api_url.rsplit(":", 1)[1]))
    try:
        yield proxy
    finally:
        proxy.close()
