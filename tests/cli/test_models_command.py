"""`abstrakt-queue models` prints the catalog, and the README's model table is its output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.catalog.registry import all_models
from workers.cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN = "<!-- models table:"
END = "<!-- end of models table -->"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n", text.index(BEGIN)) + 1
    return text[start : text.index(END)]


class TestModelsCommand:
    def test_prints_every_model_with_its_aliases(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["models"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split()[:4] == ["model", "aliases", "provider", "task"]
        assert [line.split()[0] for line in lines[1:]] == [spec.id for spec in all_models()]
        flux = next(line for line in lines if line.startswith("fal-ai/flux/schnell "))
        assert "flux-schnell" in flux
        assert "$0.003/MP" in flux

    def test_the_readme_table_is_the_commands_output(self) -> None:
        """Regenerate it with `abstrakt-queue models --markdown` after changing the catalog."""
        env = {k: v for k, v in os.environ.items() if k not in ("MODELS_FILE", "MODEL_PRICES_USD")}
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli", "models", "--markdown"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert readme_table() == done.stdout

    def test_a_bad_models_file_is_one_line_naming_the_entry(self, tmp_path: Path) -> None:
        bad = tmp_path / "models.yaml"
        bad.write_text("models:\n  - id: fal-ai/ltx-video\n    tier: quick\n")
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli", "models"],
            env={**os.environ, "MODELS_FILE": str(bad)},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2
        assert done.stderr == (
            f"error: the model catalog: {bad}: model 'fal-ai/ltx-video': "
            "tier: Input should be 'fast', 'balanced' or 'quality'\n"
        )
