"""What every HTTP adapter shares: its connection, its auth header, and the result rule."""

from __future__ import annotations

from typing import ClassVar

import httpx

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.base import RemoteState, RemoteStatus
from workers.provider.http import ProviderHTTP


class HTTPAdapter:
    """Holds the base URL, the auth header and one `ProviderHTTP`; subclasses speak the
    protocol. The key goes into the header and the redactor, and nowhere else."""

    name: str
    default_base_url: ClassVar[str]

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        client: httpx.Client | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self._auth = self.auth_headers(api_key)
        self.http = ProviderHTTP(self.name, secret=api_key, client=client, timeout=timeout)

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}".strip()}

    def close(self) -> None:
        self.http.close()


def require_succeeded(status: RemoteStatus, *, provider: str, what: str) -> None:
    """A result exists only once the remote job succeeded: a failed or canceled one is a
    permanent error carrying the provider's message, an unfinished one a retryable one."""
    if status.state in (RemoteState.FAILED, RemoteState.CANCELED):
        raise PermanentProviderError(
            message=f"{provider}: {what} {status.state}: {status.error_message or ''}".rstrip(": "),
            code="provider_failed",
            details={"provider": provider, "error_code": status.error_code},
        )
    if status.state is not RemoteState.SUCCEEDED:
        raise RetryableProviderError(
            message=f"{provider}: {what} is {status.state}, not finished",
            code="provider_not_ready",
        )
