"""A store that refuses a write fails the job with `storage_unavailable`, a message without
server paths, no partial file left; partial files are never served; /healthz says so.

As root, permission bits do not stop a write, so the faults here are ones the kernel
enforces for root too: a storage "directory" that is a regular file (every write refused
with ENOTDIR), and a file-size limit (RLIMIT_FSIZE) that stops a copy midway (EFBIG).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.job.helpers import submit
from workers.db.engine import session_scope
from workers.job import repository
from workers.job.tasks import generate
from workers.settings import get_settings

# Runs in a child whose file-size limit stops the copy of a 1 MB source at 64 KiB.
_FULL_STORE = """
import json, resource, sys
from pathlib import Path
from workers.errors import StorageUnavailable
from workers.storage.local import LocalStorage
root, source = Path(sys.argv[1]), Path(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
try:
    LocalStorage(root, "http://x").put("jobs/j/out.bin", source)
except StorageUnavailable as exc:
    print(json.dumps({"code": exc.code, "message": str(exc)}))
"""


def test_a_store_that_refuses_writes_fails_the_job_without_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    not_a_dir = tmp_path / "media"
    not_a_dir.write_bytes(b"a file where the storage directory should be")
    monkeypatch.setattr(get_settings(), "storage_dir", not_a_dir)
    job_id = submit()
    generate.run(str(job_id))
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        assert (job.status, job.error_code) == ("failed", "storage_unavailable")
        assert job.error_message == "the result could not be stored: Not a directory"
        assert str(tmp_path) not in (job.error_message or "")
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.headers["Retry-After"]
    assert health.json()["checks"]["storage"] == {
        "ok": False,
        "ms": health.json()["checks"]["storage"]["ms"],
        "error": "Not a directory",
    }
    assert health.json()["detail"] == "unavailable: storage"
    assert str(tmp_path) not in health.text


def test_a_write_stopped_midway_leaves_no_partial_file(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"x" * 1_000_000)
    root = tmp_path / "store"
    done = subprocess.run(
        [sys.executable, "-c", _FULL_STORE, str(root), str(source)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path.cwd(),
    )
    refused = json.loads(done.stdout)
    assert refused == {
        "code": "storage_unavailable",
        "message": "the result could not be stored: File too large",
    }
    assert [p.name for p in (root / "jobs" / "j").iterdir()] == []  # no partial, no file


def test_partial_and_hidden_files_are_never_served(client: TestClient) -> None:
    folder = Path(get_settings().storage_dir) / "jobs" / "served"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "out.mp4").write_bytes(b"whole")
    (folder / ".out.mp4.partial").write_bytes(b"half")
    assert client.get("/media/jobs/served/out.mp4").content == b"whole"
    assert client.get("/media/jobs/served/.out.mp4.partial").status_code == 404
    assert client.get("/media/jobs/.hidden/out.mp4").status_code == 404
    assert client.get("/media/jobs/served/%2Eout.mp4.partial").status_code == 404
