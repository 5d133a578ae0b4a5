"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, fixed concurrency).

Lighter than an HTTP client library, so on a 2-core machine most CPU stays with the server
under test. Run as a separate process:
`python -m bench.loadgen URL SECONDS CONCURRENCY BODY [API_KEY]`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


def _request_bytes(host: str, path: str, body: str, api_key: str | None) -> bytes:
    payload = body.encode()
    auth = f"Authorization: Bearer {api_key}\r\n" if api_key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def timed(
    url: str, body: str, count: int, api_key: str | None = None
) -> list[tuple[int, float]]:
    """`count` requests one after another on one connection: (status, seconds) each."""
    parts = urlsplit(url)
    request = _request_bytes(parts.hostname or "127.0.0.1", parts.path, body, api_key)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    results = []
    try:
        for _ in range(count):
            began = time.perf_counter()
            status = await _exchange(reader, writer, request)
            results.append((status, time.perf_counter() - began))
    finally:
        writer.close()
    return results


async def _worker(
    host: str, port: int, request: bytes, stop_at: float, counts: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < stop_at:
            status = await _exchange(reader, writer, request)
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def run(
    url: str, seconds: float, concurrency: int, body: str, api_key: str | None = None
) -> dict[str, object]:
    parts = urlsplit(url)
    request = _request_bytes(parts.hostname or "127.0.0.1", parts.path, body, api_key)
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
    key = sys.argv[5] if len(sys.argv) > 5 else None
    print(json.dumps(asyncio.run(run(url, seconds, concurrency, body, key))))
