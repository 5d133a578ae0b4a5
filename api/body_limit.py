"""Refuse request bodies above `MAX_BODY_BYTES` before they are read whole.

A declared `Content-Length` above the limit is refused at once; a body sent without one
(chunked) is counted as it arrives and refused as soon as it passes the limit. Either way
the answer is `413` with the limit in the message, and nothing is written.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """`max_bytes` for every path but those `larger` names (uploads), each with its own
    limit and the setting that sets it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        larger: dict[str, tuple[int, str]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.larger.get(scope["path"], (self.max_bytes, "MAX_BODY_BYTES"))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit, setting)
            return
        seen = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and tell the app the client is gone: it stops reading.
                    refused = True
                    await self._refuse(send, limit, setting)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # once refused, whatever the app still says is dropped
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send, limit: int, setting: str) -> None:
        body = json.dumps(
            {"detail": f"the request body is larger than {limit} bytes ({setting})"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
