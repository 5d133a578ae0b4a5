"""Object storage: results written to an S3-compatible store (moto's server, started here)
are served to every host, whichever worker host made them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from devtools.processes import answers, free_port, start, stop, wait_for, worker_answers
from workers.celery_app import app as celery_app
from workers.errors import StorageUnavailable
from workers.storage.s3 import S3Storage

BUCKET = "results"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def storage(endpoint: str, **options: Any) -> S3Storage:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return S3Storage(BUCKET, "media", client=client, **options)


class TestS3Storage:
    def test_a_stored_file_is_served_at_its_presigned_url_and_read_back(
        self, s3_endpoint: str, tmp_path: Path
    ) -> None:
        source = tmp_path / "output.png"
        source.write_bytes(b"\x89PNG fake image bytes")
        store = storage(s3_endpoint)
        url = store.put("jobs/abc/output.png", source)
        fetched = httpx.get(url)
        assert fetched.status_code == 200
        assert fetched.content == source.read_bytes()
        assert fetched.headers["content-type"] == "image/png"
        assert store.read(url) == source.read_bytes()
        assert store.local_path(url) is None
        assert store.read(f"{s3_endpoint}/{BUCKET}/elsewhere/x.png") is None  # not ours

    def test_a_store_that_refuses_fails_with_the_storage_code_and_no_host(
        self, s3_endpoint: str, tmp_path: Path
    ) -> None:
        source = tmp_path / "output.png"
        source.write_bytes(b"bytes")
        missing = S3Storage("no-such-bucket", "", client=storage(s3_endpoint).client)
        with pytest.raises(StorageUnavailable, match="NoSuchBucket") as refused:
            missing.put("jobs/x/output.png", source)
        assert "127.0.0.1" not in str(refused.value)

    def test_public_urls_and_keys_that_escape_the_prefix(self, s3_endpoint: str) -> None:
        store = storage(s3_endpoint, public_base_url="https://cdn.example/")
        assert store.url_of("media/jobs/a/b.mp4") == "https://cdn.example/media/jobs/a/b.mp4"
        with pytest.raises(ValueError, match="escapes"):
            store.object_key("../secrets")


@pytest.mark.e2e
def test_two_worker_hosts_with_their_own_disks_and_one_api_serve_every_result(
    s3_endpoint: str, api_key: str, tmp_path: Path
) -> None:
    shared = {
        **os.environ,
        **CREDENTIALS,
        "STORAGE_URL": f"s3://{BUCKET}/media",
        "S3_ENDPOINT_URL": s3_endpoint,
    }
    hosts = []
    for name in ("host-a", "host-b"):
        disk = tmp_path / name
        env = {**shared, "VAR_DIR": str(disk), "STORAGE_DIR": str(disk / "media")}
        hosts.append(
            start(
                ["worker", "--concurrency", "1"],
                env=env,
                cwd=Path.cwd(),
                log=tmp_path / f"{name}.log",
            )
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = start(["api", "--port", str(port)], env=shared, cwd=Path.cwd(), log=tmp_path / "api.log")
    try:
        wait_for(
            lambda: answers(f"{base}/healthz") and worker_answers(celery_app), 60, "API and workers"
        )
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {api_key}"}) as http:
            ids = [
                http.post(
                    "/v1/jobs",
                    json={"model": "local/image", "input": {"prompt": f"tile {i}"}, "cache": False},
                ).json()["id"]
                for i in range(6)
            ]

            def finished() -> list[dict[str, Any]] | None:
                jobs = [http.get(f"/v1/jobs/{job_id}").json() for job_id in ids]
                return jobs if all(j["status"] == "succeeded" for j in jobs) else None

            jobs = wait_for(finished, 90, "every job to succeed")
            for job in jobs:
                image = job["result"]["images"][0]
                served = httpx.get(image["url"])
                assert served.status_code == 200, image["url"]
                assert served.headers["content-type"] == "image/png"
                assert len(served.content) == image["file_size"]
    finally:
        for process in (api, *hosts):
            stop(process)
    for name in ("host-a", "host-b"):
        assert "job.succeeded" in (tmp_path / f"{name}.log").read_text()  # both hosts worked
        assert not list((tmp_path / name).glob("media/**/*.png"))  # nothing kept on a disk
