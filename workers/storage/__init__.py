"""Where finished media is kept and how it is addressed: local files served by the API at
`/media/` (the default), or an S3-compatible object store (`STORAGE_URL=s3://…`) that
every host reaches, so results outlive the host that made them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    def put(self, key: str, source: Path) -> str:
        """Store `source` under `key` (readers never see half a file); return its URL."""
        ...

    def read(self, url: str) -> bytes | None:
        """The bytes behind a URL this storage handed out; None when it is not ours or
        the object is gone."""
        ...

    def local_path(self, url: str) -> Path | None:
        """The file on this host behind `url`, for storages that have one."""
        ...


def get_storage() -> Storage:
    """The storage the settings name (an object store's client is made once per URL)."""
    from workers.settings import get_settings

    settings = get_settings()
    if settings.storage_url:
        return _object_storage(settings.storage_url, settings.s3_endpoint_url)
    from workers.storage.local import LocalStorage

    return LocalStorage.from_settings(settings)


@lru_cache(maxsize=4)
def _object_storage(url: str, endpoint: str) -> Storage:
    from workers.settings import get_settings
    from workers.storage.s3 import S3Storage

    return S3Storage.from_settings(get_settings())
