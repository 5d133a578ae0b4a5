"""Server-sent events: a line decoder (the WHATWG rules the server's stream follows) and
the cursor that lets a job's stream resume where it broke.

The server numbers every message of a job's durable log (`seq`, also sent as the SSE
`id`); live-only progress estimates have no number. `JobCursor` remembers the last number
seen, sends it back as `Last-Event-ID` on the next connection, and drops anything at or
below it, so a stream that reconnects has no gap and no duplicate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from abstrakt.events import Event, ends_job, parse_message


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None  # this event's own `id` field (not the one carried over from before)
    retry_ms: int | None


class SSEDecoder:
    """Feed it the stream's lines (without their line ending); an event comes out at each
    blank line that ends one. Comments (the server's `: ping` keep-alives) yield nothing."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        # The stream's "last event id" persists across events without one (the standard's
        # rule for reconnecting); a message's own number is only the id sent with it.
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None  # the server's wish for the reconnection delay
        self.pinged = False  # a keep-alive came: the connection was working

    def feed(self, line: str) -> ServerSentEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.pinged = True
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self._retry = self.retry_ms = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event = None
        if self._data:
            event = ServerSentEvent(
                event=self._event or "message",
                data="\n".join(self._data),
                id=self._id,
                retry_ms=self._retry,
            )
        self._event, self._data, self._id, self._retry = "", [], None, None
        return event


class JobCursor:
    """Where a consumer of one job's stream stands: the last `seq` it was given, and
    whether the job's stream has ended."""

    def __init__(self, job_id: str, after: int = 0) -> None:
        self.job_id = job_id
        self.last_seq = after
        self.done = False

    def headers(self) -> dict[str, str]:
        """The resume header for the next connection (none from the start)."""
        return {"Last-Event-ID": str(self.last_seq)} if self.last_seq else {}

    def accept(self, sse: ServerSentEvent) -> Event | None:
        """The event to hand on, or None for one already handed on (or not JSON)."""
        try:
            data = json.loads(sse.data)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        data.setdefault("type", sse.event)
        data.setdefault("job_id", self.job_id)  # every message on this stream is this job's
        if "seq" not in data and sse.id and sse.id.isdigit():
            data["seq"] = int(sse.id)
        event = parse_message(data)
        return self.take(event)

    def take(self, event: Event) -> Event | None:
        """`event` unless its seq was already seen; records it and whether it ends the job."""
        if event.seq is not None:
            if event.seq <= self.last_seq:
                return None
            self.last_seq = event.seq
        if ends_job(event):
            self.done = True
        return event
