"""Narrow error-mapping cases of the shared HTTP layer (no network: httpx.MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.http import ProviderHTTP, provider_message, same_origin

SECRET = "sk-live-VERYSECRET"


def http_answering(response: httpx.Response) -> ProviderHTTP:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: response))
    return ProviderHTTP("test", secret=SECRET, client=client)


class TestProviderHTTP:
    def test_retry_after_http_date(self) -> None:
        http = http_answering(
            httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        )
        with pytest.raises(RetryableProviderError) as caught:
            http.send("GET", "https://x/y", headers={})
        assert caught.value.retry_after_s == 0.0  # a date in the past: retry now

    def test_retry_after_in_body(self) -> None:
        http = http_answering(httpx.Response(429, json={"detail": "slow", "retry_after": 5}))
        with pytest.raises(RetryableProviderError) as caught:
            http.send("GET", "https://x/y", headers={})
        assert caught.value.retry_after_s == 5

    def test_echoed_key_is_redacted(self) -> None:
        body = {"error": {"message": f"Incorrect API key provided: {SECRET}"}}
        http = http_answering(httpx.Response(401, json=body))
        with pytest.raises(PermanentProviderError) as caught:
            http.send("GET", "https://x/y", headers={"Authorization": f"Bearer {SECRET}"})
        assert SECRET not in str(caught.value)
        assert SECRET not in repr(caught.value.details)
        assert caught.value.code == "provider_auth"

    def test_fal_user_deadline_is_permanent(self) -> None:
        response = httpx.Response(504, headers={"X-Fal-Request-Timeout-Type": "user"})
        with pytest.raises(PermanentProviderError):
            http_answering(response).send("POST", "https://x/y", headers={})

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"detail": [{"loc": ["body", "prompt"], "msg": "too long"}]}, "body.prompt: too long"),
            ({"error": {"message": "bad size"}}, "bad size"),
            ({"title": "Unauthenticated"}, "Unauthenticated"),
            ({"detail": "nope"}, "nope"),
        ],
    )
    def test_provider_message_shapes(self, body: object, message: str) -> None:
        assert provider_message(body, "fallback") == message

    def test_same_origin(self) -> None:
        assert same_origin(
            "https://api.openai.com/v1/videos/x/content", "https://api.openai.com/v1"
        )
        assert not same_origin("https://cdn.example/x.mp4", "https://api.openai.com/v1")
