"""S3-compatible object storage (AWS S3, MinIO, R2, …): every worker host writes to the same
bucket and every API serves the same URLs, so a result outlives the host that made it.

An object is written in one request: readers never see half of it, and a failed upload
leaves nothing behind. URLs are public (`S3_PUBLIC_BASE_URL`, for a public bucket or a CDN)
or presigned GETs valid for `S3_URL_TTL_S` (at most 7 days, S3's limit for presigning;
the result cache's TTL must stay below it).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from workers.errors import StorageUnavailable
from workers.settings import Settings


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        client: Any,
        public_base_url: str = "",
        url_ttl_s: int = 7 * 86400,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.public_base_url = public_base_url.rstrip("/")
        self.url_ttl_s = url_ttl_s

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        location = urlsplit(settings.storage_url)
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
        return cls(
            location.netloc,
            location.path,
            client=client,
            public_base_url=settings.s3_public_base_url,
            url_ttl_s=settings.s3_url_ttl_s,
        )

    def object_key(self, key: str) -> str:
        if ".." in Path(key).parts or key.startswith("/"):
            raise ValueError(f"storage key escapes the prefix: {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, source: Path) -> str:
        """Upload `source`; a store that refuses it (no bucket, no access, unreachable after
        the client's retries) raises `StorageUnavailable`, which fails the job."""
        name = self.object_key(key)
        content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        try:
            with source.open("rb") as body:
                self.client.put_object(
                    Bucket=self.bucket, Key=name, Body=body, ContentType=content_type
                )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise StorageUnavailable(f"the result could not be stored: {code}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(
                f"the result could not be stored: {type(exc).__name__}"
            ) from exc
        return self.url_of(name)

    def url_of(self, name: str) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{name}"
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": name},
            ExpiresIn=self.url_ttl_s,
        )
        return url

    def read(self, url: str) -> bytes | None:
        name = self._name_in(url)
        if name is None:
            return None
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except (ClientError, BotoCoreError):
            return None
        data: bytes = answer["Body"].read()
        return data

    def local_path(self, url: str) -> Path | None:
        return None  # objects live in the bucket, not on this host

    def _name_in(self, url: str) -> str | None:
        """The object name a URL of ours points at: after the public base, or the path of
        a presigned URL (path-style `/bucket/name` or virtual-hosted `/name`)."""
        if self.public_base_url and url.startswith(self.public_base_url + "/"):
            return url[len(self.public_base_url) + 1 :]
        path = unquote(urlsplit(url).path).lstrip("/")
        if path.startswith(self.bucket + "/"):
            path = path[len(self.bucket) + 1 :]
        if self.prefix and not path.startswith(self.prefix + "/"):
            return None
        return path or None
