"""The product's CLI stays light: the media stack, uvicorn and the emulator load only where
a command needs them, and `emulate` says plainly when the emulator is not installed."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from workers.cli.main import main

# What `abstrakt-queue --help` or `status` must never load: each costs a noticeable share
# of a second at every start, and the emulator is not part of an installed product.
HEAVY = ("av", "numpy", "PIL", "uvicorn", "emulator")

# Runs the CLI in a fresh interpreter, then reports its exit code and the heavy modules loaded.
PROBE = f"""
import json, sys
from workers.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""

# As in an installation from the wheel: no finder knows the top-level `emulator` package.
WITHOUT_EMULATOR = """
import sys

class NoEmulator:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "emulator":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoEmulator())
"""


def probe(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", prelude + PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def report(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return found


@pytest.mark.parametrize(
    "args",
    [["--help"], ["status", str(uuid.uuid4())], ["prewarm", "--help"]],
    ids=["help", "status", "prewarm-help"],
)
def test_plain_commands_load_no_media_stack_server_or_emulator(args: list[str]) -> None:
    found = report(probe(*args))
    assert found["heavy"] == []
    assert found["code"] in (0, 2)  # help, or "no job with id …"


@pytest.mark.committed  # the CLI runs in another process: the key must be committed
def test_status_of_an_unknown_job_is_a_one_line_error(api_key: str) -> None:
    result = probe("status", str(uuid.uuid4()), "--api-key", api_key)
    assert report(result)["code"] == 2
    assert result.stderr.startswith("error: no job with id"), result.stderr


def test_emulate_hands_its_flags_to_the_emulator() -> None:
    result = probe("emulate", "--help")
    assert report(result)["code"] == 0
    assert "usage: abstrakt-queue emulate" in result.stdout
    assert "--generation-s" in result.stdout


def test_emulate_without_the_emulator_says_it_needs_a_source_checkout() -> None:
    result = probe("emulate", "--port", "0", prelude=WITHOUT_EMULATOR)
    assert report(result)["code"] == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "development tool" in lines[0]
    assert "source checkout" in lines[0]


def test_other_commands_still_refuse_unknown_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["status", str(uuid.uuid4()), "--port", "1"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --port 1" in capsys.readouterr().err
