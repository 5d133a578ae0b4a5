"""`up`'s supervisor: a child that exits is started again with backoff; SIGTERM stops all."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from devtools.processes import spawn, wait_for

SCRIPT = """
import sys
from workers.cli.supervisor import supervise
sys.exit(supervise({
    "flaky": [sys.executable, "-c", "print('flaky up', flush=True); raise SystemExit(3)"],
    "steady": [sys.executable, "-c", "import time; print('steady up', flush=True); time.sleep(99)"],
}, banner="supervising"))
"""


def test_a_child_that_exits_is_restarted_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    up = spawn([sys.executable, "-c", SCRIPT], log=log)
    try:
        wait_for(lambda: log.read_text().count("flaky up") >= 3, 30, "two restarts of `flaky`")
        text = log.read_text()
        assert "flaky exited with 3; restarting in 1 s" in text
        assert "flaky exited with 3; restarting in 2 s" in text  # the backoff doubles
        assert text.count("steady up") == 1  # the others are left running
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert "killing it" not in log.read_text()
