"""What a cache entry is keyed by, and who may read it.

The key is the canonical request only (model + normalized input, key order irrelevant), so
two requests that mean the same thing share it. Who may read an entry is its *scope*, a
separate column: `shared` (any caller; pre-generated entries) or `owner:<owner>` (one
caller's own results). When callers get API keys, their principal becomes the owner and the
scope string carries it: the table and the key stay as they are.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SHARED = "shared"


def request_key(model: str, canonical_input: dict[str, Any]) -> str:
    """sha256 of the canonical request; the same for every spelling of the same request."""
    body = json.dumps([model, _plain(canonical_input)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """3.0 and 3 are one number (a default duration is an int, a given one a float)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def owner_scope(owner: str) -> str:
    return f"owner:{owner}"


def read_scopes(owner: str) -> tuple[str, ...]:
    """The scopes a caller may be served from: shared entries and its own."""
    return (SHARED, owner_scope(owner))


def write_scope(owner: str, *, share: bool) -> str:
    """Where a caller's own result goes: kept to the caller unless results are shared."""
    return SHARED if share else owner_scope(owner)
