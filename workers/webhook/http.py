"""One delivery attempt over the network: POST the body to the vetted addresses.

The connection goes to an address `ssrf.vet` checked (the URL's host replaced by it), with
the `Host` header and, for https, TLS's server name (SNI, and the certificate check) set to
the host as written; no proxy from the environment, no redirect followed (a 3xx is a
failure), a fresh connection each time (a pooled one is keyed by address and could carry
another host's TLS session). The receiver's body is never read. No database, no Celery.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import httpx

from workers.db.base import utcnow
from workers.webhook.deliveries import Outcome
from workers.webhook.ssrf import Target

USER_AGENT = "abstrakt-queue-webhooks/1"


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout_s: float) -> Outcome:
    """POST `body` to `target`, trying its addresses in turn until one accepts a connection."""
    started = time.perf_counter()
    error = "no address to connect to"
    for address in target.addresses:
        url = httpx.URL(target.url).copy_with(host=str(address))
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        request_headers = {
            **headers,
            "host": target.host_header,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST", url, content=body, headers=request_headers, extensions=extensions
            )
            try:
                response = client.send(request, stream=True)
            except httpx.ConnectError as exc:
                error = f"could not connect to {address}: {exc or type(exc).__name__}"
                continue  # the next address, if any
            except httpx.TimeoutException as exc:
                return _failed(None, started, f"timed out after {timeout_s:g} s ({_name(exc)})")
            except httpx.HTTPError as exc:
                return _failed(None, started, f"{_name(exc)}: {exc}")
            response.close()
        return _answered(response, started)
    return _failed(None, started, error)


def _answered(response: httpx.Response, started: float) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(status_code=code, latency_ms=_ms(started), error=None)
    if 300 <= code < 400:
        where = response.headers.get("location", "nowhere")
        return _failed(code, started, f"answered {code}, a redirect (to {where}), not followed")
    return Outcome(
        status_code=code,
        latency_ms=_ms(started),
        error=f"answered {code}",
        retry_after_s=_retry_after(response) if code in (429, 503) else None,
        give_up=code == 410,
    )


def _failed(code: int | None, started: float, error: str) -> Outcome:
    return Outcome(status_code=code, latency_ms=_ms(started), error=error)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _name(exc: Exception) -> str:
    return type(exc).__name__


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None
