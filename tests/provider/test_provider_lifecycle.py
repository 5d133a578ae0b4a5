"""Each adapter against the emulator: the happy path, provider-side failure, auth, cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.processes import wait_for
from emulator.testing import EmulatorServer
from tests.provider.conftest import model_input
from workers.errors import PermanentProviderError
from workers.media.probe import probe
from workers.provider.base import RemoteState, RemoteStatus, Submission

# Each adapter's request (our vocabulary, mapped by the model's catalog entry as a job
# would be) and what the emulator then makes: (model, input, width, height, seconds).
# MiniMax makes 6 s whatever is asked; cutting to 3 s is ours, when a job finalizes.
CASES: dict[str, tuple[str, dict[str, Any], int, int, float]] = {
    "fal": ("fal-ai/kling-video/v1/standard/text-to-video", {"aspect_ratio": "9:16"}, 720, 1280, 5),
    "replicate": ("minimax/video-01", {"duration": 3}, 1280, 720, 6),
    "openai": ("sora-2", {"duration": 4, "aspect_ratio": "9:16"}, 720, 1280, 4),
    "gemini": ("veo-3.1-generate-preview", {"duration": 4, "aspect_ratio": "16:9"}, 1280, 720, 4),
}
MakeAdapter = Callable[..., Any]
PROMPT = "a lighthouse at dusk"


def wait_state(
    adapter: Any, model: str, sub: Submission, states: set[RemoteState], deadline_s: float = 10
) -> tuple[RemoteStatus, list[RemoteState]]:
    """Poll until one of `states`; returns the final status and every state seen."""
    seen: list[RemoteState] = []

    def reached() -> RemoteStatus | None:
        status: RemoteStatus = adapter.status(model, sub)
        if not seen or seen[-1] is not status.state:
            seen.append(status.state)
        return status if status.state in states else None

    try:
        return wait_for(reached, deadline_s, f"one of {states}"), seen
    except TimeoutError:
        raise AssertionError(f"never reached {states}; saw {seen}") from None


class TestLifecycle:
    def test_submit_poll_result_download(
        self, adapter_name: str, make_adapter: MakeAdapter, tmp_path: Path
    ) -> None:
        adapter = make_adapter(adapter_name)
        model, raw, width, height, duration = CASES[adapter_name]
        payload = adapter.build_payload(model, model_input(model, {"prompt": PROMPT, **raw}))
        sub = adapter.submit(model, payload)

        status, seen = wait_state(adapter, model, sub, {RemoteState.SUCCEEDED})

        # Veo exposes no queued/started signal: every not-done poll is RUNNING.
        expected = [RemoteState.RUNNING] if adapter_name == "gemini" else [RemoteState.QUEUED]
        assert seen[0] in expected
        assert RemoteState.RUNNING in seen
        assert seen[-1] is RemoteState.SUCCEEDED
        outputs = adapter.result(model, sub)
        assert len(outputs) == 1
        assert outputs[0].content_type == "video/mp4"
        dest = tmp_path / "out.mp4"
        adapter.download(outputs[0], dest)
        info = probe(dest)
        assert (info.content_type, info.codec) == ("video/mp4", "h264")
        assert (info.width, info.height) == (width, height)
        assert info.duration_s == pytest.approx(duration, abs=0.3)

    def test_fal_image_model_gives_png(self, make_adapter: MakeAdapter, tmp_path: Path) -> None:
        adapter = make_adapter("fal")
        model = "fal-ai/flux/schnell"
        payload = adapter.build_payload(
            model,
            model_input(
                model, {"prompt": "a red fox", "resolution": {"width": 640, "height": 480}}
            ),
        )
        sub = adapter.submit(model, payload)
        wait_state(adapter, model, sub, {RemoteState.SUCCEEDED})
        [output] = adapter.result(model, sub)
        adapter.download(output, tmp_path / "fox.png")
        info = probe(tmp_path / "fox.png")
        assert (info.content_type, info.width, info.height) == ("image/png", 640, 480)
        assert (output.width, output.height) == (640, 480)

    def test_openai_progress_is_a_fraction(self, make_adapter: MakeAdapter) -> None:
        adapter = make_adapter("openai")
        sub = adapter.submit("sora-2", {"prompt": "waves"})
        status, _ = wait_state(adapter, "sora-2", sub, {RemoteState.RUNNING})
        assert status.progress is not None
        assert 0.0 <= status.progress <= 1.0


class TestProviderFailure:
    def test_failure_is_reported_with_message(
        self, adapter_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(adapter_name)
        model = default_model[adapter_name]
        payload = adapter.build_payload(model, model_input(model, {"prompt": "a cat [[fail]]"}))
        sub = adapter.submit(model, payload)
        status, _ = wait_state(adapter, model, sub, {RemoteState.FAILED, RemoteState.SUCCEEDED})
        assert status.state is RemoteState.FAILED
        assert "Emulated model failure" in (status.error_message or "")
        with pytest.raises(PermanentProviderError, match="Emulated model failure"):
            adapter.result(model, sub)

    def test_fal_failure_hidden_in_result_is_found(
        self, emulator: EmulatorServer, make_adapter: MakeAdapter, api_key: str
    ) -> None:
        """COMPLETED without `error`, then a 422 from the result URL: still FAILED."""
        adapter = make_adapter("fal")
        sub = adapter.submit("fal-ai/ltx-video", {"prompt": "x [[fail-quiet]]"})
        status, _ = wait_state(adapter, "fal-ai/ltx-video", sub, {RemoteState.FAILED})
        raw = httpx.get(sub.handles["status_url"], headers={"Authorization": f"Key {api_key}"})
        assert raw.json()["status"] == "COMPLETED"
        assert "error" not in raw.json()
        assert "Emulated model failure" in (status.error_message or "")

    def test_rejected_input_is_permanent_with_message(
        self, adapter_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(adapter_name)
        model = default_model[adapter_name]
        with pytest.raises(PermanentProviderError) as caught:
            adapter.submit(
                model,
                adapter.build_payload(model, model_input(model, {"prompt": "bad [[reject]]"})),
            )
        assert caught.value.code == "provider_rejected"
        assert "emulated" in caught.value.message or "moderation" in caught.value.message


class TestAuth:
    @pytest.mark.parametrize("key", ["", "wrong-key"])
    def test_bad_key_is_refused_and_never_echoed(
        self,
        adapter_name: str,
        make_adapter: MakeAdapter,
        default_model: dict[str, str],
        emulator: EmulatorServer,
        key: str,
    ) -> None:
        adapter = make_adapter(adapter_name, key=key)
        model = default_model[adapter_name]
        with pytest.raises(PermanentProviderError) as caught:
            adapter.submit(
                model, adapter.build_payload(model, model_input(model, {"prompt": "hello"}))
            )
        assert caught.value.code in {"provider_auth", "provider_rejected"}
        assert caught.value.details["status_code"] in {400, 401, 403}
        if key:
            assert key not in str(caught.value)
            assert key not in repr(caught.value.details)
        assert emulator.ctx.store.submissions.total() == 0


class TestCancel:
    @pytest.mark.parametrize("adapter_name", ["fal", "replicate"])
    @pytest.mark.parametrize("at", [RemoteState.QUEUED, RemoteState.RUNNING])
    def test_cancel_stops_the_job(
        self,
        adapter_name: str,
        at: RemoteState,
        make_adapter: MakeAdapter,
        default_model: dict[str, str],
    ) -> None:
        adapter = make_adapter(adapter_name)
        model = default_model[adapter_name]
        sub = adapter.submit(model, {"prompt": "to be canceled"})
        status, _ = wait_state(adapter, model, sub, {at})
        adapter.cancel(model, sub)
        status = adapter.status(model, sub)
        assert status.state is RemoteState.CANCELED

    @pytest.mark.parametrize("adapter_name", ["fal", "replicate"])
    def test_cancel_after_success_is_a_no_op(
        self, adapter_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(adapter_name)
        model = default_model[adapter_name]
        sub = adapter.submit(model, {"prompt": "done already"})
        wait_state(adapter, model, sub, {RemoteState.SUCCEEDED})
        adapter.cancel(model, sub)
        assert adapter.status(model, sub).state is RemoteState.SUCCEEDED

    @pytest.mark.parametrize("adapter_name", ["openai", "gemini"])
    def test_cancel_without_protocol_support_does_not_raise(
        self, adapter_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        """No cancel in these protocols: cancel() is best effort and the job runs on."""
        adapter = make_adapter(adapter_name)
        model = default_model[adapter_name]
        sub = adapter.submit(
            model, adapter.build_payload(model, model_input(model, {"prompt": "unstoppable"}))
        )
        adapter.cancel(model, sub)
        status, _ = wait_state(adapter, model, sub, {RemoteState.SUCCEEDED, RemoteState.CANCELED})
        assert status.state is RemoteState.SUCCEEDED


class TestSubmissionCounter:
    def test_counts_jobs_per_model(
        self, emulator: EmulatorServer, make_adapter: MakeAdapter
    ) -> None:
        fal = make_adapter("fal")
        openai = make_adapter("openai")
        fal.submit("fal-ai/ltx-video", {"prompt": "one"})
        fal.submit("fal-ai/ltx-video", {"prompt": "two"})
        openai.submit("sora-2", {"prompt": "three"})
        body = httpx.get(f"{emulator.url}/_emulator/submissions").json()
        assert body["submissions"] == {"fal-ai/ltx-video": 2, "sora-2": 1}
        assert body["total"] == 3
