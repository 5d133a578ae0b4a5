"""`/media/`: stored results, as files. A name beginning with a dot is never served: the
store writes a result as `.NAME.partial` and renames it when whole, and a half-written
(or abandoned) file must not reach a player. Starlette's `StaticFiles` would serve it."""

from __future__ import annotations

from pathlib import PurePosixPath

from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope


class MediaFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        if any(part.startswith(".") for part in PurePosixPath(path).parts):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)
