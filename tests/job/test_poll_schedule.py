"""How often the poller asks a provider about a job."""

from __future__ import annotations

import pytest

from workers.catalog.registry import get_model
from workers.job.run.poller import next_poll_in_s
from workers.settings import get_settings

MODEL = get_model("fal-ai/minimax/video-01")  # typically 60 s


def test_checks_close_in_on_the_expected_finish_then_thin_out_the_later_a_job_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "poll_min_interval_s", 0.5)  # the defaults (the suite's
    monkeypatch.setattr(settings, "poll_max_interval_s", 10.0)  # are shorter)
    early, near = next_poll_in_s(MODEL, elapsed_s=0), next_poll_in_s(MODEL, elapsed_s=59.5)
    assert early == settings.poll_max_interval_s
    assert near == settings.poll_min_interval_s
    late = [next_poll_in_s(MODEL, elapsed_s=60 + overrun) for overrun in (1, 4, 20, 400)]
    assert late == sorted(late)
    assert late[0] == settings.poll_min_interval_s
    assert late[-1] == settings.poll_max_interval_s
