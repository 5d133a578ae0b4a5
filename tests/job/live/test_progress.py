"""The progress number and the messages a streaming client receives, without a server."""

from __future__ import annotations

import uuid

from workers.job.live import progress
from workers.job.live.messages import Durable, Gate, from_durable

JOB = uuid.uuid4()


def durable(seq: int, type_: str, **payload: object) -> Durable:
    return Durable(JOB, seq, type_, dict(payload))


class TestProgress:
    def test_phases_fill_the_bar_in_order_and_never_reach_100(self) -> None:
        values = [progress.overall(p, f) for p in progress.ORDER for f in (0, 0.5, 1)]
        assert values == sorted(values)
        assert values[0] == 0
        assert max(values) == progress.LAST_BEFORE_DONE < 100

    def test_an_estimate_keeps_moving_and_never_claims_the_end(self) -> None:
        fractions = [progress.estimated_fraction(t, 10.0) for t in (0, 5, 10, 20, 100, 10_000)]
        assert fractions == sorted(fractions)
        assert fractions[2] == 0.9  # on time: 90 % through the phase
        assert all(f < 1 for f in fractions)
        assert progress.overall("generation", fractions[-1]) < progress.overall("encoding")

    def test_the_last_percentage_a_model_printed_is_its_progress(self) -> None:
        logs = ["loading weights", " 12%|█▏  | 6/50", " 48%|████▊ | 24/50 [00:03<00:04]"]
        assert progress.percent_in_logs(logs) == 0.48
        assert progress.percent_in_logs(["no numbers here"]) is None


class TestMessages:
    def test_a_finished_phase_moves_the_bar_to_the_next_phase(self) -> None:
        message = from_durable(durable(3, "phase", name="generation", duration_ms=10))
        assert (message["type"], message["phase"], message["progress"]) == (
            "progress",
            "encoding",
            progress.overall("encoding"),
        )
        assert message["seq"] == 3

    def test_the_seeds_message_types_for_each_ending(self) -> None:
        images = {"images": [{"url": "http://x/media/a.png"}, {"url": "http://x/media/b.png"}]}
        done = from_durable(durable(9, "succeeded", result=images))
        assert (done["type"], done["image_urls"], done["result"]) == (
            "complete",
            ["http://x/media/a.png", "http://x/media/b.png"],
            images,
        )
        video = from_durable(durable(9, "succeeded", result={"video": {"url": "v.mp4"}}))
        assert video["video_url"] == "v.mp4"
        failed = from_durable(durable(5, "failed", code="content_policy", message="no"))
        assert (failed["type"], failed["code"], failed["message"]) == (
            "error",
            "content_policy",
            "no",
        )
        canceled = from_durable(durable(4, "canceled", by="request"))
        assert (canceled["type"], canceled["code"]) == ("error", "canceled")
        preview = from_durable(durable(2, "preview", frame_url="p.png"))
        assert (preview["type"], preview["frame_url"]) == ("preview", "p.png")

    def test_a_providers_signal_becomes_progress_within_generation(self) -> None:
        running = from_durable(durable(6, "provider_status", state="running", progress=0.5))
        assert running["phase"] == "generation"
        assert running["progress"] == progress.overall("generation", 0.5)
        queued = from_durable(durable(5, "provider_status", state="queued", queue_position=3))
        assert queued["queue_position"] == 3


class TestGate:
    def test_progress_never_goes_back_and_only_the_end_is_100(self) -> None:
        gate = Gate()
        seen = [
            gate.pass_durable(from_durable(durable(1, "queued")))["progress"],
            gate.pass_durable(from_durable(durable(2, "phase", name="model_loading")))["progress"],
            # a retry keeps the bar where it was
            gate.pass_durable(from_durable(durable(3, "retrying", reason="x")))["progress"],
        ]
        assert seen == [0, 15, 15]
        assert gate.finished(JOB)["progress"] == 100

    def test_a_late_estimate_from_an_earlier_phase_is_dropped(self) -> None:
        gate = Gate()
        gate.pass_durable(from_durable(durable(1, "phase", name="generation")))  # encoding: 90
        late = {"type": "progress", "job_id": str(JOB), "phase": "generation", "progress": 80}
        assert gate.pass_live(late) is None
        ahead = {"type": "progress", "job_id": str(JOB), "phase": "encoding", "progress": 93}
        assert gate.pass_live(ahead) == {**ahead, "progress": 93}
        assert gate.pass_live(ahead) is None  # the same value again is not news
