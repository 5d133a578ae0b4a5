"""A real API process and worker for the live-progress tests, and a WebSocket client."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect

Message = dict[str, Any]
ENDS = ("complete", "error")


class Socket:
    """A WebSocket to `/v1/stream` that reads JSON messages with a deadline."""

    def __init__(self, base: str, **headers: str) -> None:
        url = base.replace("http://", "ws://") + "/v1/stream"
        self._connect = connect(url, additional_headers=headers)
        self.connection: ClientConnection = self._connect.__enter__()

    def send(self, message: Message | str) -> None:
        self.connection.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, timeout_s: float = 60) -> Message:
        message: Message = json.loads(self.connection.recv(timeout=timeout_s))
        return message

    def until_end(self, job_id: str, timeout_s: float = 90) -> list[Message]:
        """This job's messages up to its `complete` or `error` (others are kept aside)."""
        got: list[Message] = []
        while True:
            message = self.recv(timeout_s)
            if message.get("job_id") != job_id:
                continue
            got.append(message)
            if message["type"] in ENDS:
                return got

    def close(self) -> None:
        self._connect.__exit__(None, None, None)

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def seqs(messages: list[Message]) -> list[int]:
    return [m["seq"] for m in messages if "seq" in m]


def progress_values(messages: list[Message]) -> list[int]:
    return [m["progress"] for m in messages if m["type"] == "progress"]
