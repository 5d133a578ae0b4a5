"""The dashboard in a real headless Chromium, its charts drawn from real jobs that a real
worker ran behind a real API process. The screenshot is kept: var/test-artifacts/dashboard.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.browser import ARTIFACTS, WAIT_MS, Watched
from tests.e2e.helpers import api_and_worker
from workers.provider.registry import HOSTED

pytestmark = pytest.mark.e2e

# Slow enough that the jobs are seen running, quick enough for a test.
SLOW = {"LOCAL_GENERATION_S": "2.5"}
JOBS: list[dict[str, Any]] = [
    {"duration": 2, "resolution": "480p"},
    {"duration": 4, "resolution": "480p"},
    {"duration": 2, "resolution": "720p"},
    {"duration": 4, "resolution": "720p"},
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with api_and_worker(tmp_path_factory.mktemp("dashboard"), **SLOW) as url:
        yield url


@pytest.fixture
def visit(browser: Browser, served: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        yield Watched(context.new_page(), served)
    finally:
        context.close()


def submit(url: str, key: str, input_: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/v1/jobs",
        json={"model": "local/video", "input": {"prompt": "a red fox in snow", **input_}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code in (201, 202), answer.text
    body: dict[str, Any] = answer.json()
    return body


def wait_ended(url: str, key: str, ids: list[str]) -> None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        statuses = [
            httpx.get(f"{url}/v1/jobs/{i}", headers={"Authorization": f"Bearer {key}"}).json()[
                "status"
            ]
            for i in ids
        ]
        if all(s in ("succeeded", "failed", "canceled") for s in statuses):
            assert set(statuses) == {"succeeded"}, statuses
            return
        time.sleep(0.5)
    pytest.fail(f"jobs still unfinished: {ids}")


def count(visit: Watched, selector: str) -> int:
    return visit.page.locator(selector).count()


def test_asks_for_a_key_and_says_when_it_is_wrong(visit: Watched) -> None:
    visit.page.goto(f"{visit.origin}/dashboard")
    assert visit.page.get_by_label("API key").input_value() == ""
    assert count(visit, "#phases svg") == 0
    visit.page.get_by_label("API key").fill("ak_wrong")
    visit.page.get_by_role("button", name="Show").click()
    visit.page.locator("#problem").get_by_text("401").wait_for(timeout=WAIT_MS)


def test_charts_drawn_from_real_jobs(visit: Watched, api_key: str, served: str) -> None:
    ids = [submit(served, api_key, job)["id"] for job in JOBS]
    joined = submit(served, api_key, JOBS[0])  # the same request: it joins or hits the cache
    visit.page.goto(f"{served}/dashboard")
    visit.page.get_by_label("API key").fill(api_key)
    visit.page.get_by_role("button", name="Show").click()

    # While they run: each shown with its phase and progress.
    visit.page.wait_for_selector("#in-flight tbody tr[data-job]", timeout=WAIT_MS)
    row = visit.page.locator("#in-flight tbody tr[data-job]").first
    phase = row.locator("td").nth(3).inner_text()
    assert phase in {"queue wait", "model loading", "generation", "encoding", "upload"}

    wait_ended(served, api_key, [*ids, joined["id"]])
    # It refreshes by itself: no click, and the table empties, the charts appear.
    refreshes = int(visit.page.evaluate("document.body.dataset.refreshes"))
    visit.page.wait_for_function(
        f"""() => Number(document.body.dataset.refreshes) > {refreshes}
            && document.querySelectorAll('#in-flight tbody tr').length === 0
            && document.querySelectorAll('#phases rect').length >= 5""",
        timeout=WAIT_MS,
    )
    # Per model, a bar per phase: the seed's latency table, drawn.
    phases = visit.page.eval_on_selector_all(
        "#phases rect",
        "bars => bars.map(b => [b.dataset.model, b.dataset.phase, b.width.baseVal.value])",
    )
    assert {(m, p) for m, p, _ in phases} == {
        ("local/video", p)
        for p in ("queue_wait", "model_loading", "generation", "encoding", "upload")
    }
    widths = {p: w for _, p, w in phases}
    assert widths["generation"] > widths["upload"]  # 2.5 s against a local file's copy
    # Latency against duration and resolution: a point per (resolution, duration).
    points = visit.page.eval_on_selector_all(
        "#by-duration circle", "dots => dots.map(d => [d.dataset.resolution, d.dataset.duration])"
    )
    assert sorted(points) == [["480p", "2"], ["480p", "4"], ["720p", "2"], ["720p", "4"]]
    # Throughput: the jobs ended, counted in bars; an error-rate line.
    bars = visit.page.eval_on_selector_all(
        "#throughput rect", "bars => bars.reduce((n, b) => n + Number(b.dataset.count), 0)"
    )
    assert bars == len(JOBS) + 1
    assert count(visit, "#throughput polyline[data-series=error_rate]") == 1
    # The cache: the repeated request was served without generating.
    assert visit.page.locator("#hit-rate").inner_text() == f"{100 / (len(JOBS) + 1):.1f}%"
    # Every hosted provider with its circuit.
    providers = visit.page.eval_on_selector_all(
        "#providers li",
        "items => items.map(i => [i.dataset.provider, i.querySelector('.circuit').textContent])",
    )
    assert {name for name, _ in providers} == set(HOSTED)
    assert {state for _, state in providers} <= {"closed", "open", "half_open"}

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)
    assert Path(ARTIFACTS / "dashboard.png").stat().st_size > 10_000
    visit.assert_stayed_home()
