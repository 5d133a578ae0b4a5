"""The emulator's wire shapes, control API and clock-driven state, over raw HTTP."""

from __future__ import annotations

import argparse

import httpx
import pytest

from emulator.cli import add_arguments, config_from_args
from emulator.config import EmulatorConfig, FaultKind, ModelSettings
from emulator.state import Job, Phase, Store
from emulator.testing import EmulatorServer


class TestAuthShapes:
    @pytest.mark.parametrize(
        ("method", "path", "headers", "status", "probe"),
        [
            ("POST", "/fal-ai/ltx-video", {}, 401, lambda b: "detail" in b),
            ("POST", "/fal-ai/ltx-video", {"Authorization": "Key wrong"}, 401, None),
            ("POST", "/v1/models/a/b/predictions", {}, 401, lambda b: b["status"] == 401),
            ("POST", "/v1/videos", {}, 401, lambda b: b["error"]["code"] is None),
            (
                "POST",
                "/v1/videos",
                {"Authorization": "Bearer wrong"},
                401,
                lambda b: b["error"]["code"] == "invalid_api_key",
            ),
            (
                "POST",
                "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                {},
                403,
                lambda b: b["error"]["status"] == "PERMISSION_DENIED",
            ),
            (
                "POST",
                "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                {"x-goog-api-key": "wrong"},
                400,
                lambda b: b["error"]["status"] == "INVALID_ARGUMENT",
            ),
        ],
    )
    def test_missing_or_wrong_key(
        self,
        emulator: EmulatorServer,
        method: str,
        path: str,
        headers: dict[str, str],
        status: int,
        probe: object,
    ) -> None:
        response = httpx.request(method, emulator.url + path, headers=headers, json={"prompt": "x"})
        assert response.status_code == status
        if callable(probe):
            assert probe(response.json())
        assert emulator.ctx.store.attempts.total() == 0


class TestFalWire:
    def test_status_codes_and_full_path_urls(self, emulator: EmulatorServer, api_key: str) -> None:
        auth = {"Authorization": f"Key {api_key}"}
        sub = httpx.post(f"{emulator.url}/fal-ai/flux/schnell", json={"prompt": "p"}, headers=auth)
        body = sub.json()
        assert body["status"] == "IN_QUEUE"
        assert body["queue_position"] == 0
        assert "/fal-ai/flux/requests/" in body["status_url"]  # owner/app only
        first = httpx.get(body["status_url"], headers=auth)
        assert first.status_code == 202
        assert first.json()["logs"] is None
        # The generated OpenAPI also lists the full-path form: accepted too.
        full = f"{emulator.url}/fal-ai/flux/schnell/requests/{body['request_id']}/status"
        assert httpx.get(full, headers=auth).json()["request_id"] == body["request_id"]
        early = httpx.get(body["response_url"], headers=auth)
        assert early.status_code == 400


class TestControlApi:
    def test_config_roundtrip_and_validation(self, emulator: EmulatorServer) -> None:
        url = f"{emulator.url}/_emulator/config"
        ok = httpx.post(url, json={"model": "m/x", "queue_s": 5, "faults": ["429", "drop"]})
        assert ok.status_code == 200
        assert ok.json()["models"]["m/x"]["faults"] == ["429", "drop"]
        assert ok.json()["models"]["m/x"]["generation_s"] == 0.3  # inherited
        assert httpx.post(url, json={"faults": ["gremlins"]}).status_code == 400
        assert httpx.post(url, json={"fault_rate": 2}).status_code == 400
        assert httpx.post(url, json={"bogus": 1}).status_code == 400
        httpx.post(f"{emulator.url}/_emulator/reset")
        assert httpx.get(url).json()["models"] == {}


class TestClock:
    def test_phases_follow_elapsed_time(self) -> None:
        now = [100.0]
        store = Store(clock=lambda: now[0])
        job = Job("j", "fal", "m", {}, 100.0, 0.0, queue_s=1, generation_s=2, fps=1)
        store.add(job)
        assert job.phase(now[0]) is Phase.QUEUED
        now[0] = 101.5
        assert job.phase(now[0]) is Phase.RUNNING
        assert job.progress(now[0]) == 0.25
        assert store.cancel(job)
        assert job.phase(now[0]) is Phase.CANCELED
        now[0] = 200
        assert job.phase(now[0]) is Phase.CANCELED

    def test_cancel_after_finish_does_nothing(self) -> None:
        store = Store(clock=lambda: 50.0)
        job = Job("j", "fal", "m", {}, 0.0, 0.0, queue_s=1, generation_s=1, fps=1)
        store.add(job)
        assert not store.cancel(job)
        assert job.phase(50.0) is Phase.SUCCEEDED


class TestCli:
    def test_flags_become_defaults(self) -> None:
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        args = parser.parse_args(
            ["--port", "9000", "--queue-s", "0.5", "--fault-rate", "0.1", "--faults", "429,timeout"]
        )
        config = config_from_args(args)
        assert args.port == 9000
        assert args.host == "127.0.0.1"
        assert config.defaults.queue_s == 0.5
        assert config.defaults.fault_rate == 0.1
        assert config.defaults.faults == (FaultKind.THROTTLED, FaultKind.TIMEOUT)

    def test_model_override_merges_over_defaults(self) -> None:
        config = EmulatorConfig(defaults=ModelSettings(queue_s=2))
        config.apply({"model": "a/b", "fail_rate": 1})
        assert config.for_model("a/b").fail_rate == 1
        assert config.for_model("a/b").queue_s == 2
        assert config.for_model("c/d").fail_rate == 0
