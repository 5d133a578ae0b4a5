"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, fixed concurrency).

Lighter than an HTTP client library, so on a 2-core machine most CPU stays with the server
under test. Run as a separate process: `python -m bench.loadgen URL SECONDS CONCURRENCY BODY`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


async def _worker(
    host: str, port: int, request: bytes, stop_at: float, counts: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def run(url: str, seconds: float, concurrency: int, body: str) -> dict[str, object]:
    parts = urlsplit(url)
    payload = body.encode()
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    counts: dict[int, int] = {}
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(
        *(
            _worker(parts.hostname or "127.0.0.1", parts.port or 80, request, stop_at, counts)
            for _ in range(concurrency)
        )
    )
    elapsed = time.monotonic() - started
    return {"elapsed_s": elapsed, "counts": counts}


if __name__ == "__main__":
    url, seconds, concurrency, body = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    print(json.dumps(asyncio.run(run(url, seconds, concurrency, body))))
