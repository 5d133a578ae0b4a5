"""The embedded default's broker: kombu's filesystem transport, with atomic sends.

kombu's own `_put` creates the message file and then writes it; a worker listing the
folder in between moves the empty file away and fails to decode it (seen as a worker crash
on the embedded default under load). Here a message is written under a name no consumer
takes, then renamed into place: a consumer sees a whole message or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.json import dumps as kombu_dumps

SCHEME = "abstrakt-filesystem"


class Channel(filesystem.Channel):
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # (kombu's own base classes disagree on this signature; this is filesystem's)
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.partial"  # `_get` takes only names ending in `.{queue}.msg`
        try:
            with open(partial, "wb") as file:
                file.write(_dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"cannot add a message to {self.data_folder_out!r}") from exc


def _dumps(payload: Any) -> str:
    text: str = kombu_dumps(payload)  # type: ignore[no-untyped-call]  # kombu is untyped
    return text


class Transport(filesystem.Transport):
    Channel = Channel


def register() -> str:
    """Make the scheme known to kombu; the broker URL to use instead of `filesystem://`."""
    TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
    return f"{SCHEME}://"
