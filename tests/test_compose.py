"""docker-compose.yml is a valid Compose file with the production shape."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


class TestCompose:
    def test_compose_accepts_the_file(self) -> None:
        command = compose_command()
        if command is None:
            if os.environ.get("CI"):
                pytest.fail("CI must have docker compose or docker-compose (.ci/run installs it)")
            pytest.skip("neither `docker compose` nor `docker-compose` is installed")
        result = subprocess.run(
            [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr

    def test_has_every_role(self) -> None:
        services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
        assert {"postgres", "redis", "migrate", "api", "worker", "beat", "flower"} <= set(services)
        assert services["api"]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
