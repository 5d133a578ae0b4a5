"""Server-side request forgery is refused at submission and again at delivery."""

from __future__ import annotations

import ipaddress

import pytest
from fastapi.testclient import TestClient

from tests.conftest import table_counts
from tests.webhook.receiver import Receiver
from workers.webhook import ssrf
from workers.webhook.ssrf import UnsafeUrl, use_resolver, vet

PUBLIC = "93.184.215.14"

REFUSED = {
    "loopback": ["127.0.0.1", "127.8.9.10", "[::1]"],
    "link-local": ["169.254.10.10", "[fe80::1]"],
    "multicast": ["224.0.0.1", "239.255.255.250", "[ff02::1]"],
    "unspecified": ["0.0.0.0", "[::]"],
    "a cloud metadata address": [
        "169.254.169.254",
        "[fd00:ec2::254]",
        "168.63.129.16",
        "100.100.100.200",
    ],
    "not a public address": ["100.64.0.1"],  # shared address space (carrier NAT)
    "private": ["10.1.2.3", "172.16.0.1", "192.168.1.1", "192.0.2.1", "[fd12:3456::1]"],
    # IPv6 forms that carry a private IPv4 address: mapped, 6to4, NAT64.
    "embedded": ["[::ffff:127.0.0.1]", "[2002:a00:1::]", "[64:ff9b::a00:1]"],
}


@pytest.mark.usefixtures("no_allowlist")
class TestVet:
    @pytest.mark.parametrize(
        ("kind", "host"), [(kind, host) for kind, hosts in REFUSED.items() for host in hosts]
    )
    def test_every_address_class_is_refused(self, kind: str, host: str) -> None:
        with pytest.raises(UnsafeUrl) as refused:
            vet(f"https://{host}/hook")
        if kind != "embedded":
            assert kind in str(refused.value)

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "gopher://example.com",
            "https://",
            "https://user:pw@example.com/",
            "http://example.com:99999/",
            "https://metadata.google.internal/computeMetadata/v1/",
        ],
    )
    def test_only_plain_http_and_https_urls(self, url: str) -> None:
        with pytest.raises(UnsafeUrl):
            vet(url)

    def test_localhost_resolves_to_loopback_and_is_refused(self) -> None:
        with pytest.raises(UnsafeUrl, match=r"localhost resolves to .* loopback"):
            vet("http://localhost:8080/hook")

    def test_a_name_that_resolves_to_a_private_address_is_refused(self) -> None:
        with use_resolver(lambda host, port: [PUBLIC, "10.0.0.7"]):
            with pytest.raises(UnsafeUrl, match=r"hooks.example.com resolves to 10.0.0.7"):
                vet("https://hooks.example.com/in")

    def test_a_name_that_does_not_resolve_is_refused(self) -> None:
        def fails(host: str, port: int) -> list[str]:
            raise OSError("Name or service not known")

        with use_resolver(fails), pytest.raises(UnsafeUrl, match="does not resolve"):
            vet("https://nowhere.example/in")

    def test_a_public_name_keeps_its_checked_addresses_and_its_host(self) -> None:
        with use_resolver(lambda host, port: [PUBLIC, "2606:2800:21f:cb07::1"]):
            target = vet("https://Hooks.Example.com:8443/in?x=1")
        assert target.addresses == (
            ipaddress.ip_address(PUBLIC),
            ipaddress.ip_address("2606:2800:21f:cb07::1"),
        )
        assert (target.host, target.port, target.host_header) == (
            "hooks.example.com",
            8443,
            "hooks.example.com:8443",
        )

    def test_the_allowlist_names_ranges_and_hosts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from workers.settings import get_settings

        monkeypatch.setattr(get_settings(), "webhook_allowlist", "10.9.0.0/16, intranet.local")
        assert vet("http://10.9.1.2/hook").addresses == (ipaddress.ip_address("10.9.1.2"),)
        with pytest.raises(UnsafeUrl):
            vet("http://10.8.1.2/hook")
        with use_resolver(lambda host, port: ["192.168.5.5"]):
            assert vet("http://intranet.local/hook").host == "intranet.local"
            with pytest.raises(UnsafeUrl):
                vet("http://other.local/hook")

    def test_blocked_reason_judges_the_ipv4_inside_ipv6(self) -> None:
        assert ssrf.blocked_reason(ipaddress.ip_address("::ffff:10.0.0.1")) == "private"
        assert ssrf.blocked_reason(ipaddress.ip_address("::ffff:8.8.8.8")) is None
        assert ssrf.blocked_reason(ipaddress.ip_address(PUBLIC)) is None


@pytest.mark.usefixtures("no_allowlist")
class TestAtSubmission:
    @pytest.mark.parametrize(
        "url",
        ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/", "ftp://x.example/"],
    )
    def test_a_refused_url_is_a_422_naming_webhook_url_and_writes_nothing(
        self, client: TestClient, url: str
    ) -> None:
        before = table_counts()
        response = client.post(
            "/v1/jobs",
            json={"model": "local/image", "input": {"prompt": "x"}, "webhook_url": url},
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "webhook_url"]
        assert table_counts() == before

    def test_a_name_resolving_to_a_private_address_is_a_422(self, client: TestClient) -> None:
        with use_resolver(lambda host, port: ["192.168.0.10"]):
            response = client.post(
                "/v1/jobs",
                json={
                    "model": "local/image",
                    "input": {"prompt": "x"},
                    "webhook_url": "https://hooks.example.com/in",
                },
            )
        assert response.status_code == 422
        assert "resolves to 192.168.0.10" in response.json()["detail"][0]["msg"]

    def test_the_keys_default_is_vetted_too(self, client: TestClient) -> None:
        response = client.put("/v1/webhooks/default", json={"url": "http://10.0.0.1/in"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "webhook_url"]


class TestAtDelivery:
    def test_the_delivery_connects_to_the_checked_address_with_the_hosts_name(
        self, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A name is resolved once per attempt and the connection goes to that address:
        here a made-up name resolves to the receiver's loopback address (allowlisted)."""
        from tests.webhook.helpers import deliver_all, submit_with_webhook
        from workers.settings import get_settings

        monkeypatch.setattr(get_settings(), "webhook_allowlist", "127.0.0.1/32")
        with use_resolver(lambda host, port: ["127.0.0.1"]):
            submit_with_webhook(f"http://receiver.test:{receiver.port}/hook")
            deliver_all()
        [got] = receiver.received("/hook")
        assert got.headers["host"] == f"receiver.test:{receiver.port}"

    def test_a_name_that_turns_private_after_submission_is_refused_at_delivery(
        self, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from tests.webhook.helpers import deliver_all, log_of, submit_with_webhook
        from workers.settings import get_settings

        monkeypatch.setattr(get_settings(), "webhook_allowlist", "")
        monkeypatch.setattr(get_settings(), "webhook_retry_schedule_s", [])
        with use_resolver(lambda host, port: [PUBLIC]):
            job_id = submit_with_webhook("http://rebinding.example/hook")
        with use_resolver(lambda host, port: ["127.0.0.1"]):
            deliver_all()
        [delivery] = log_of(job_id)["deliveries"]
        assert delivery["state"] == "failed"
        [attempt] = delivery["log"]
        assert attempt["status_code"] is None
        assert "refused" in attempt["error"]
        assert "loopback" in attempt["error"]
        assert receiver.received() == []
