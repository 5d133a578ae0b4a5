"""Fidelity: the providers' official Python clients, unchanged, against the emulator.

Bridges (how each client is pointed at the emulator, least invasive first):
- openai: `OpenAI(base_url=...)` — a public parameter; plain HTTP works.
- replicate: `replicate.Client(base_url=...)` — a public parameter; plain HTTP works.
- google-genai: `HttpOptions(base_url=..., client_args={"verify": ctx})`, over HTTPS because
  `files.download` only parses `https://` file URIs. Needs google-genai < 3: 3.x refuses
  `generate_videos` outside Vertex ("Gemini Enterprise Agent Platform") mode.
- fal-client: it builds `https://{FAL_QUEUE_RUN_HOST}/<app>` from the environment at import
  time, so it runs in a subprocess with FAL_QUEUE_RUN_HOST=127.0.0.1:<port> and
  SSL_CERT_FILE=<test CA> (httpx honours it) against the HTTPS emulator: no patching at all.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.testing import EmulatorServer
from workers.media.probe import probe

# The clients deprecate the very calls we exercise (Sora API sunset, genai's prompt=…).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_openai_client(emulator: EmulatorServer, tmp_path: Path, api_key: str) -> None:
    from openai import OpenAI

    client = OpenAI(api_key=api_key, base_url=f"{emulator.url}/v1", max_retries=0)
    video = client.videos.create(
        prompt="a paper boat", model="sora-2", seconds="4", size="1280x720"
    )
    assert video.status == "queued"
    seen: set[str] = {video.status}
    deadline = time.monotonic() + 10
    while video.status not in {"completed", "failed"} and time.monotonic() < deadline:
        time.sleep(0.05)
        video = client.videos.retrieve(video.id)
        seen.add(video.status)
    assert video.status == "completed"
    assert "in_progress" in seen
    content = client.videos.download_content(video.id)
    content.write_to_file(tmp_path / "v.mp4")
    info = probe(tmp_path / "v.mp4")
    assert (info.width, info.height, info.duration_s) == (1280, 720, 4.0)

    failed = client.videos.poll(client.videos.create(prompt="x [[fail]]").id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert "Emulated model failure" in failed.error.message

    from openai import AuthenticationError, BadRequestError

    with pytest.raises(BadRequestError):
        client.videos.create(prompt="p", seconds="5")  # type: ignore[arg-type]  # on purpose
    with OpenAI(api_key="nope", base_url=f"{emulator.url}/v1", max_retries=0) as bad:
        with pytest.raises(AuthenticationError):
            bad.videos.retrieve(video.id)
    client.close()


def test_replicate_client(emulator: EmulatorServer, tmp_path: Path, api_key: str) -> None:
    from replicate.client import Client
    from replicate.exceptions import ReplicateError

    client = Client(api_token=api_key, base_url=emulator.url)
    prediction = client.predictions.create(
        model="minimax/video-01", input={"prompt": "a kite", "prompt_optimizer": False}
    )
    created_as = prediction.status  # read now: wait() below updates the same object
    assert created_as == "starting"
    prediction.wait()
    assert prediction.status == "succeeded"
    assert isinstance(prediction.output, str)
    (tmp_path / "v.mp4").write_bytes(httpx.get(prediction.output).content)
    assert probe(tmp_path / "v.mp4").duration_s == 6.0  # MiniMax Video-01 makes 6 s

    with pytest.raises(ReplicateError) as refused:  # not in the model's schema
        client.predictions.create(model="minimax/video-01", input={"prompt": "x", "duration": 2})
    assert refused.value.status == 422
    assert refused.value.detail == "- input: Additional property duration is not allowed"

    queued = client.predictions.create(model="minimax/video-01", input={"prompt": "stop"})
    canceled = client.predictions.cancel(queued.id)
    assert canceled.status == "canceled"
    assert client.predictions.get(queued.id).status == "canceled"

    failed = client.predictions.create(model="minimax/video-01", input={"prompt": "[[fail]]"})
    failed.wait()
    assert failed.status == "failed"
    assert "Emulated" in str(failed.error)

    bad = Client(api_token="nope", base_url=emulator.url)
    with pytest.raises(ReplicateError) as caught:
        bad.predictions.get(queued.id)
    assert caught.value.status == 401
    for c in (client, bad):
        c._client.close()  # replicate.Client has no public close(); its httpx pool leaks


def test_google_genai_client(tls_emulator: Any, api_key: str) -> None:
    from google import genai
    from google.genai import types

    ctx = ssl.create_default_context(cafile=str(tls_emulator.ca_file))
    client = genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(base_url=tls_emulator.url, client_args={"verify": ctx}),
    )
    operation = client.models.generate_videos(
        model="veo-3.1-generate-preview",
        source=types.GenerateVideosSource(prompt="a glacier"),
        config=types.GenerateVideosConfig(duration_seconds=4, aspect_ratio="9:16"),
    )
    assert operation.name
    assert not operation.done
    deadline = time.monotonic() + 10
    while not operation.done and time.monotonic() < deadline:
        time.sleep(0.05)
        operation = client.operations.get(operation)
    assert operation.done
    assert operation.result
    assert operation.result.generated_videos
    video = operation.result.generated_videos[0].video
    assert video is not None
    data = client.files.download(file=video)
    path = Path(tls_emulator.server.ctx.media_dir) / "genai-check.mp4"
    path.write_bytes(data)
    info = probe(path)
    assert (info.width, info.height, info.duration_s) == (720, 1280, 4.0)
    client.close()


FAL_SCRIPT = r"""
import json, sys, time
import fal_client, httpx

app = "fal-ai/flux/schnell"
handle = fal_client.submit(app, {"prompt": "a lamp", "image_size": "square"})
seen = []
while True:
    status = handle.status(with_logs=True)
    seen.append(type(status).__name__)
    if isinstance(status, fal_client.Completed):
        break
    time.sleep(0.05)
result = handle.get()
image = httpx.get(result["images"][0]["url"]).content
failed = fal_client.submit(app, {"prompt": "boom [[fail]]"})
while not isinstance(final := failed.status(), fal_client.Completed):
    time.sleep(0.05)
queued = fal_client.submit(app, {"prompt": "never mind"})
queued.cancel()
try:
    fal_client.SyncClient(key="wrong").submit(app, {"prompt": "x"})
    auth = None
except fal_client.client.FalClientHTTPError as exc:
    auth = exc.status_code
print(json.dumps({"seen": seen, "result": result, "size": len(image), "png": image[:4].hex(),
                  "failed": final.error, "auth": auth}))
"""


def test_fal_client(tls_emulator: Any, api_key: str) -> None:
    host = tls_emulator.url.removeprefix("https://")
    env = {
        **os.environ,
        "FAL_KEY": api_key,
        "FAL_QUEUE_RUN_HOST": host,
        "SSL_CERT_FILE": str(tls_emulator.ca_file),
    }
    done = subprocess.run(
        [sys.executable, "-c", FAL_SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["seen"][0] == "Queued"
    assert "InProgress" in out["seen"]
    assert out["seen"][-1] == "Completed"
    assert out["png"] == "89504e47"  # PNG signature
    assert out["result"]["images"][0]["width"] == 512
    assert "Emulated model failure" in out["failed"]
    assert out["auth"] == 401
    counts = httpx.get(f"{tls_emulator.url}/_emulator/submissions", verify=False).json()
    assert counts["submissions"] == {"fal-ai/flux/schnell": 3}
