"""Local file storage: files under one directory, served by the API at `/media/`."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from workers.errors import StorageUnavailable
from workers.settings import Settings

log = logging.getLogger(__name__)


class LocalStorage:
    def __init__(self, root: Path, public_base_url: str) -> None:
        self.root = root
        self.public_base_url = public_base_url.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalStorage:
        return cls(settings.storage_dir, settings.public_base_url)

    def put(self, key: str, source: Path) -> str:
        """Store `source` under `key` atomically (readers never see half a file); return its URL.

        A store that refuses the write (full, read-only, its directory gone) raises
        `StorageUnavailable` with the cause and no server path, after removing the partial
        file; the full error, path included, goes to the log.
        """
        target = self.path_of(key)
        partial = target.with_name(f".{target.name}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            log.error("storage.write_failed key=%s error=%s", key, exc)
            reason = exc.strerror or type(exc).__name__
            raise StorageUnavailable(f"the result could not be stored: {reason}") from exc
        return f"{self.public_base_url}/media/{key}"

    def path_of(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    def path_of_url(self, url: str) -> Path | None:
        """The stored file a URL handed out by `put` names, or None when the URL is not
        ours or the file is gone. A URL from before a change of `PUBLIC_BASE_URL` still
        resolves: its key is whatever follows `/media/` in its path."""
        prefix = f"{self.public_base_url}/media/"
        if url.startswith(prefix):
            key = url[len(prefix) :]
        else:
            _, found, key = urlsplit(url).path.partition("/media/")
            if not found:
                return None
        try:
            path = self.path_of(key)
        except ValueError:
            return None
        return path if path.is_file() else None

    def local_path(self, url: str) -> Path | None:
        return self.path_of_url(url)

    def read(self, url: str) -> bytes | None:
        path = self.path_of_url(url)
        return path.read_bytes() if path is not None else None
