"""The poller waits out a database that is away and carries on, saying so once."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.exc import OperationalError

from devtools.processes import wait_for
from workers.job.run import poller


def test_the_poller_survives_an_outage_and_logs_it_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rounds: list[str] = []
    outage = threading.Event()
    outage.set()

    def poll_once(pool: ThreadPoolExecutor, batch: int, stranded: object = None) -> int:
        if outage.is_set():
            rounds.append("failed")
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        rounds.append("ok")
        return 0

    monkeypatch.setattr(poller, "poll_once", poll_once)
    monkeypatch.setattr(poller, "MAX_BACKOFF_S", 0.05)
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,))
    with caplog.at_level(logging.WARNING):
        thread.start()
        wait_for(lambda: rounds.count("failed") >= 5, 10, "five failed rounds")
        outage.clear()
        wait_for(lambda: "ok" in rounds, 10, "a round after the outage")
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    said = [r.getMessage().split()[0] for r in caplog.records if "dependency." in r.getMessage()]
    assert said == ["dependency.down", "dependency.up"]
