"""The client is a package of its own: its wheel holds `abstrakt` only and needs only httpx
and websockets, and importing it loads nothing of the server."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import abstrakt

ROOT = Path(__file__).resolve().parents[2]
SERVER = ("workers", "api", "sqlalchemy", "celery", "fastapi", "pydantic", "emulator")


def test_importing_the_client_loads_nothing_of_the_server() -> None:
    # From the repository root, where every server package is importable.
    code = (
        "import json, sys; import abstrakt; from abstrakt import AbstraktClient; "
        "AbstraktClient('ak_x').close(); print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert {"abstrakt", "httpx", "websockets"} <= loaded
    assert not loaded & set(SERVER)


def test_the_standalone_wheel_holds_the_client_and_needs_httpx_and_websockets(
    tmp_path: Path,
) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--directory", tmp_path],
        cwd=ROOT / "clients" / "python",
        capture_output=True,
        check=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name == f"abstrakt-{abstrakt.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(
            archive.read(f"abstrakt-{abstrakt.__version__}.dist-info/METADATA").decode()
        )
    package = sorted(n for n in names if not n.startswith("abstrakt-"))
    source = sorted(
        f"abstrakt/{p.name}" for p in (ROOT / "abstrakt").iterdir() if p.suffix in (".py", ".typed")
    )
    assert package == source
    assert "abstrakt/py.typed" in package
    assert metadata["Name"] == "abstrakt"
    assert metadata["Version"] == abstrakt.__version__
    requires = sorted(metadata.get_all("Requires-Dist") or [])
    assert [r.split(">")[0].split("=")[0].strip() for r in requires] == ["httpx", "websockets"]

    # The wheel's own copy imports and works (put ahead of the checkout's).
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import abstrakt; "
        "assert abstrakt.__file__.startswith(sys.argv[1]), abstrakt.__file__; "
        "print(abstrakt.Result({'image': {'url': 'u'}}).images[0].url)"
    )
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "site")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "u"
