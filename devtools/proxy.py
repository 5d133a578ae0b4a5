"""A TCP proxy a test can cut and hang, in front of a server (Postgres, Redis).

`forward` passes bytes both ways; `cut` closes every connection and refuses new ones (a
server that went away); `hang` keeps connections open and accepts new ones but passes no
byte either way (a frozen network or server). Threads only: no event loop to share.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from enum import Enum


class Mode(Enum):
    FORWARD = "forward"
    CUT = "cut"
    HANG = "hang"


class Proxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._mode = Mode.FORWARD
        self._changed = threading.Condition()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        with self._changed:
            self._mode = mode
            if mode is Mode.CUT:
                for sock in list(self._sockets):
                    _close(sock)
                self._sockets.clear()
            self._changed.notify_all()

    def close(self) -> None:
        self._closed = True
        self.set_mode(Mode.CUT)
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._mode is Mode.CUT:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._changed:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                with self._changed:  # hold each chunk while hung; drop it once cut
                    while self._mode is Mode.HANG:
                        self._changed.wait()
                    if self._mode is Mode.CUT:
                        break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
