"""A job's result with attribute access: `result.video.url`, `result.images[0].url`.

The server answers with the media under its kind: `{"video": {...}}` or `{"images":
[...]}` (always a list, even of one). A server from before that answered one image as
`{"image": {...}}`: that is offered as `images` too, so code reads either the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def _wrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Result(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


class Result(Mapping[str, Any]):
    """A read-only JSON object whose keys are also attributes (nested objects too).

    Indexing (`result["video"]["url"]`) works as on the dict; `to_dict()` gives a plain
    copy. `job_id` is the job that produced it, when known.
    """

    __slots__ = ("_data", "job_id")

    def __init__(self, data: Mapping[str, Any], *, job_id: str | None = None) -> None:
        items = dict(data)
        if "image" in items and "images" not in items and isinstance(items["image"], Mapping):
            items["images"] = [items["image"]]
        object.__setattr__(self, "_data", items)
        object.__setattr__(self, "job_id", job_id)

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not real attributes (methods, `job_id`). Private
        # names are never keys: copy and pickle probe them before `_data` exists.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return _wrap(self._data[name])
        except KeyError:
            keys = ", ".join(sorted(self._data)) or "none"
            raise AttributeError(f"the result has no {name!r} (it has: {keys})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a result is read-only")

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Result({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._data, self.job_id))

    def to_dict(self) -> dict[str, Any]:
        """A plain copy, as JSON would decode it (with `images` beside a single `image`)."""
        return _plain(self._data)  # type: ignore[no-any-return]


def _rebuild(data: dict[str, Any], job_id: str | None) -> Result:
    return Result(data, job_id=job_id)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
