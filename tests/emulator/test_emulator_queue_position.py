"""fal's `queue_position`: the same answer as a scan of every job, at the cost of the queue."""

from __future__ import annotations

from emulator.state import Job, Phase, Store


def _job(name: str, model: str, created_at: float, queue_s: float) -> Job:
    return Job(name, "fal", model, {}, created_at, 0.0, queue_s=queue_s, generation_s=5, fps=1)


def _scanned(jobs: list[Job], job: Job, now: float) -> int:
    """The definition: earlier jobs of the same model still queued at `now`."""
    return sum(
        1
        for other in jobs
        if other.model == job.model
        and other.created_at < job.created_at
        and other.phase(now) is Phase.QUEUED
    )


class TestQueuePosition:
    def test_mixed_queue_times_and_a_cancel(self) -> None:
        now = [0.0]
        store = Store(clock=lambda: now[0])
        # queue_s changes between submissions, as a runtime config change makes it.
        plan = [("a", "m", 0.0, 10.0), ("x", "n", 0.5, 10.0), ("b", "m", 1.0, 2.0)]
        plan += [("c", "m", 2.0, 10.0), ("d", "m", 3.0, 10.0), ("e", "m", 3.0, 4.0)]
        jobs: list[Job] = []
        for name, model, created_at, queue_s in plan:
            now[0] = created_at
            jobs.append(_job(name, model, created_at, queue_s))
            store.add(jobs[-1])
        a, x, b, c, d, e = jobs

        now[0] = 3.5  # b has started; d and e tie (neither is before the other)
        assert [store.queue_position(j) for j in (a, b, c, d, e)] == [0, 1, 1, 2, 2]
        assert store.queue_position(x) == 0
        assert store.cancel(c)
        assert [store.queue_position(j) for j in (a, d, e)] == [0, 1, 1]
        for t in (3.5, 6.0, 7.5, 9.9, 10.0, 12.0, 13.5, 20.0):
            now[0] = t
            for job in jobs:
                assert store.queue_position(job) == _scanned(jobs, job, t), (job.id, t)

    def test_jobs_that_left_the_queue_are_not_kept(self) -> None:
        now = [0.0]
        store = Store(clock=lambda: now[0])
        jobs = [_job(f"j{i}", "m", float(i), queue_s=5.0 - i) for i in range(4)]
        for job in jobs:
            now[0] = job.created_at
            store.add(job)
        assert len(store._waiting["m"]) == 4
        now[0] = 5.0  # every job has started
        assert store.queue_position(jobs[-1]) == 0
        assert not store._waiting["m"]
        # A job added later starts a fresh queue, and reset forgets it.
        late = _job("late", "m", 6.0, 1.0)
        now[0] = 6.0
        store.add(late)
        assert list(store._waiting["m"]) == [late]
        store.reset()
        assert store._waiting == {}
