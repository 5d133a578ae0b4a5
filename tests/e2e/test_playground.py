"""The playground page in a real headless Chromium, against a real API process.

Two ways: with the WebSocket answered by the test (what the page sends, and what it shows
for each kind of message, whatever the server does), and with the real `/v1/stream` and a
real worker, until the generated video plays. Screenshots go to var/test-artifacts/.

Chromium is the system's when there is one (`chromium` on PATH; .ci/run installs Debian's);
otherwise Playwright's own, which scripts/test downloads on a machine without one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    WebSocketRoute,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from devtools.processes import free_port, start, stop, wait_for, worker_answers
from tests.e2e.browser import ARTIFACTS, WAIT_MS, Watched
from workers.celery_app import app as celery_app
from workers.media.render import encode_png, encode_video, render_image, render_keyframes

pytestmark = pytest.mark.e2e


# Installed before the page's own script: what the page showed, in the order it showed it,
# so a state that lasted only a moment is not missed by a test polling from outside.
TIMELINE = """
window.__shown = [];
new MutationObserver(() => {
  const shown = window.__shown;
  const kinds = new Set(shown.map((entry) => entry[0]));
  const bar = document.getElementById("progress");
  if (bar && bar.value > 0 && !shown.some((e) => e[0] === "progress" && e[1] === bar.value)) {
    shown.push(["progress", bar.value]);
  }
  const preview = document.getElementById("preview-image");
  if (!kinds.has("preview") && preview && preview.getAttribute("src")
      && !document.getElementById("preview-figure").hidden) {
    shown.push(["preview", preview.src]);
  }
  const video = document.querySelector("#result video");
  if (!kinds.has("video") && video && video.getAttribute("src")) {
    shown.push(["video", video.src]);
  }
  const error = document.getElementById("error");
  if (!kinds.has("error") && error && !error.hidden) {
    shown.push(["error", error.textContent.trim().replace(/\\s+/g, " ")]);
  }
}).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"""

PLAYING = """() => {
  const video = document.querySelector("#result video");
  return video !== null && !video.paused && video.readyState >= 2 && video.currentTime > 0;
}"""
# The video plays, or the page says why it never will (the test then fails at once).
PLAYING_OR_FAILED = f"""() => ({PLAYING})() || !document.getElementById("error").hidden"""


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("playground")


@pytest.fixture(scope="module")
def api_url(logs: Path) -> Iterator[str]:
    """A real API process; its files' URLs name its own address, so the browser loads them."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = logs / "api.log"
    env = {**os.environ, "PUBLIC_BASE_URL": url}
    process = start(["api", "--port", str(port)], env=env, cwd=Path.cwd(), log=log)

    def up() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, 60, "the API process to answer")
    yield url
    # uvicorn ends by raising the signal it was stopped with again
    assert stop(process) in (0, -signal.SIGTERM), log.read_text()


@pytest.fixture(scope="module")
def worker(api_url: str, logs: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = logs / "worker.log"
    env = {**os.environ, "PUBLIC_BASE_URL": api_url}
    process = start(["worker", "--concurrency", "2"], env=env, cwd=Path.cwd(), log=log)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        return worker_answers(celery_app)

    wait_for(ready, 90, "the worker to answer a ping")
    yield process
    assert stop(process) == 0, log.read_text()


class Visit(Watched):
    """One page of the playground, with everything it asked for and every error it met."""

    def open(self, key: str) -> None:
        self.page.goto(f"{self.origin}/playground")
        self.page.get_by_label("API key").fill(key)
        self.page.get_by_role("button", name="Load models").click()
        models = self.page.get_by_label("Model")
        self.page.wait_for_function(
            "() => !document.getElementById('model').disabled", timeout=WAIT_MS
        )
        models.select_option("local/video")

    def fill_video_job(self) -> None:
        self.page.get_by_label("Prompt").fill("a red fox in snow")
        self.page.get_by_label("Duration (s)").fill("3")
        self.page.get_by_label("Resolution").select_option("480p")
        self.page.get_by_label("Preview first").check()

    def shown(self) -> list[list[Any]]:
        shown: list[list[Any]] = self.page.evaluate("window.__shown")
        return shown


@pytest.fixture
def visit(browser: Browser, api_url: str, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """A fresh page; a screenshot of it when the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(TIMELINE)
    page = context.new_page()
    failed_before = request.session.testsfailed
    try:
        yield Visit(page, api_url)
        # The test's own outcome is counted before its fixtures are torn down.
        if request.session.testsfailed > failed_before:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"{request.node.name}-failure.png", full_page=True)
    finally:
        context.close()


def media_files(name: str) -> tuple[str, str]:
    """A PNG and a 2 s MP4 in the API's storage, as paths under /media/."""
    folder = Path(os.environ["STORAGE_DIR"]) / "playground-test"
    folder.mkdir(parents=True, exist_ok=True)
    encode_png(render_image(name, 320, 180), folder / f"{name}.png")
    encode_video(render_keyframes(name, 320, 180, 2), 2, 8, folder / f"{name}.mp4")
    return f"/media/playground-test/{name}.png", f"/media/playground-test/{name}.mp4"


class TestPage:
    def test_lists_only_available_models_grouped_by_kind(self, visit: Visit, api_key: str) -> None:
        visit.open(api_key)
        catalog = httpx.get(
            f"{visit.origin}/v1/models", headers={"Authorization": f"Bearer {api_key}"}
        ).json()
        groups = visit.page.eval_on_selector_all(
            "#model optgroup",
            "groups => groups.map(g => [g.label, [...g.children].map(o => o.value)])",
        )
        listed = {model for _, models in groups for model in models}
        assert listed == {m["id"] for m in catalog if m["available"]}
        kinds = {m["id"]: m["kind"] for m in catalog}
        for label, models in groups:
            assert {kinds[m] for m in models} == {label.lower()}
        # local/image takes no duration: the field goes away.
        assert visit.page.get_by_label("Duration (s)").is_visible()
        visit.page.get_by_label("Model").select_option("local/image")
        assert not visit.page.get_by_label("Duration (s)").is_visible()
        assert visit.page.get_by_label("Resolution").is_visible()
        visit.assert_stayed_home()

    def test_remembers_the_key_and_prefills_nothing(self, visit: Visit, api_key: str) -> None:
        visit.page.goto(f"{visit.origin}/playground")
        assert visit.page.get_by_label("API key").input_value() == ""
        visit.open(api_key)
        visit.page.reload()
        assert visit.page.get_by_label("API key").input_value() == api_key
        visit.page.wait_for_function("() => !document.getElementById('model').disabled")

    def test_a_wrong_key_says_so(self, visit: Visit) -> None:
        visit.page.goto(f"{visit.origin}/playground")
        visit.page.get_by_label("API key").fill("ak_wrong")
        visit.page.get_by_role("button", name="Load models").click()
        help_text = visit.page.locator("#model-help")
        help_text.get_by_text("401").wait_for(timeout=WAIT_MS)
        assert visit.page.get_by_role("button", name="Generate").is_disabled()


class TestProtocol:
    """The stream answered by the test: the page's side of the protocol, exactly."""

    def test_sends_the_generate_message_and_shows_each_message(
        self, visit: Visit, api_key: str
    ) -> None:
        frame, video = media_files("protocol")
        sent: list[Any] = []

        def server(ws: WebSocketRoute) -> None:
            def answer(message: str | bytes) -> None:
                sent.append(json.loads(message))
                job = {"job_id": "4b3c0e0e-0000-4000-8000-000000000001"}
                for reply in [
                    {"type": "accepted", **job, "status": "queued", "cache_hit": False},
                    {"type": "progress", **job, "progress": 0, "phase": "queue_wait", "seq": 1,
                     "queue_position": 3},
                    {"type": "progress", **job, "progress": 5, "phase": "model_loading", "seq": 2},
                    {"type": "preview", **job, "frame_url": visit.origin + frame, "seq": 3},
                    {"type": "progress", **job, "progress": 42, "phase": "generation"},
                    {"type": "progress", **job, "progress": 100, "phase": "done"},
                    {"type": "complete", **job, "seq": 4, "status": "succeeded",
                     "result": {}, "video_url": visit.origin + video},
                ]:  # fmt: skip
                    ws.send(json.dumps(reply))

            ws.on_message(answer)

        visit.page.route_web_socket("**/v1/stream", server)
        visit.open(api_key)
        visit.fill_video_job()
        visit.page.get_by_role("button", name="Generate").click()
        visit.page.wait_for_function(PLAYING, timeout=WAIT_MS)

        assert sent == [
            {
                "action": "generate",
                "model": "local/video",
                "input": {"prompt": "a red fox in snow", "duration": 3, "resolution": "480p"},
                "api_key": api_key,
                "preview": True,
            }
        ]
        shown = visit.shown()
        assert [e for e in shown if e[0] == "progress"] == [
            ["progress", 5],
            ["progress", 42],
            ["progress", 100],
        ]
        assert [e[0] for e in shown if e[0] != "progress"] == ["preview", "video"]
        assert shown.index(["progress", 42]) < [e[0] for e in shown].index("video")
        assert visit.page.locator("#job-id").inner_text().startswith("4b3c0e0e")
        video_element = visit.page.locator("#result video")
        for flag in ("autoplay", "muted", "loop", "playsinline", "controls"):
            assert video_element.get_attribute(flag) is not None, flag
        assert visit.page.locator("#progress-text").inner_text().startswith("100 %")
        visit.assert_stayed_home()

    def test_shows_the_queue_position_and_cancels(self, visit: Visit, api_key: str) -> None:
        job = {"job_id": "4b3c0e0e-0000-4000-8000-000000000002"}
        sent: list[Any] = []

        def server(ws: WebSocketRoute) -> None:
            def answer(message: str | bytes) -> None:
                sent.append(json.loads(message))
                if sent[-1]["action"] == "generate":
                    ws.send(json.dumps({"type": "accepted", **job, "status": "queued"}))
                    ws.send(
                        json.dumps(
                            {"type": "progress", **job, "progress": 1, "phase": "queue_wait",
                             "queue_position": 3}
                        )
                    )  # fmt: skip
                elif sent[-1]["action"] == "cancel":
                    ws.send(json.dumps({"type": "canceled", **job, "status": "canceled"}))
                    ws.send(
                        json.dumps(
                            {"type": "error", **job, "seq": 2, "code": "canceled",
                             "message": "the job was canceled"}
                        )
                    )  # fmt: skip

            ws.on_message(answer)

        visit.page.route_web_socket("**/v1/stream", server)
        visit.open(api_key)
        visit.fill_video_job()
        visit.page.get_by_role("button", name="Generate").click()
        visit.page.locator("#queue-position").get_by_text("position 3").wait_for(timeout=WAIT_MS)
        assert visit.page.locator("#phase").inner_text() == "Waiting in the queue"
        assert visit.page.get_by_role("button", name="Generate").is_disabled()

        visit.page.get_by_role("button", name="Cancel").click()
        alert = visit.page.get_by_role("alert")
        alert.wait_for(timeout=WAIT_MS)
        assert sent[1:] == [{"action": "cancel", "job_id": job["job_id"]}]
        assert alert.inner_text() == "canceled the job was canceled"
        assert visit.page.get_by_role("button", name="Generate").is_enabled()
        assert not visit.page.get_by_role("button", name="Cancel").is_visible()
        visit.assert_stayed_home()

    def test_shows_each_field_an_invalid_request_gets_wrong(
        self, visit: Visit, api_key: str
    ) -> None:
        def server(ws: WebSocketRoute) -> None:
            refusal = {
                "type": "error",
                "code": "invalid_input",
                "message": "the job request is not valid; see errors",
                "errors": [{"loc": ["input", "duration"], "msg": "at most 10"}],
            }
            ws.on_message(lambda _: ws.send(json.dumps(refusal)))

        visit.page.route_web_socket("**/v1/stream", server)
        visit.open(api_key)
        visit.fill_video_job()
        visit.page.get_by_role("button", name="Generate").click()
        alert = visit.page.get_by_role("alert")
        alert.wait_for(timeout=WAIT_MS)
        assert alert.inner_text() == (
            "invalid_input the job request is not valid; see errors · input.duration: at most 10"
        )
        assert visit.page.locator("#job-id").inner_text() == "–"


class TestRealStream:
    """The real `/v1/stream`, a real worker, a real video that plays."""

    def test_generates_a_video_that_plays(
        self, visit: Visit, api_key: str, worker: subprocess.Popen[bytes], logs: Path
    ) -> None:
        received: list[dict[str, Any]] = []
        visit.page.on(
            "websocket",
            lambda ws: ws.on("framereceived", lambda payload: received.append(json.loads(payload))),
        )
        visit.open(api_key)
        visit.fill_video_job()
        visit.page.get_by_role("button", name="Generate").click()
        try:
            visit.page.wait_for_function(PLAYING_OR_FAILED, timeout=WAIT_MS)
            assert visit.page.evaluate(PLAYING)
        except (PlaywrightTimeout, AssertionError):
            pytest.fail(
                f"no video played; the page showed {visit.shown()}, the stream sent "
                f"{received}, the page met {visit.problems}\n"
                + "\n".join(f"--- {f.name}\n{f.read_text()[-4000:]}" for f in logs.glob("*.log"))
            )

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=ARTIFACTS / "playground.png", full_page=True)
        shown = visit.shown()
        kinds = [entry[0] for entry in shown]
        assert any(kind == "progress" and 0 < value < 100 for kind, value in shown), shown
        assert "preview" in kinds, (shown, received)
        assert kinds.index("preview") < kinds.index("video"), shown
        assert "error" not in kinds, shown
        types = [message["type"] for message in received]
        assert types[0] == "accepted", types
        assert types[-1] == "complete", types
        job_id = received[0]["job_id"]
        assert visit.page.locator("#job-id").inner_text() == job_id
        assert visit.page.locator("#elapsed").inner_text().endswith(" s")
        visit.assert_stayed_home()
