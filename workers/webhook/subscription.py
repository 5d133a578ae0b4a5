"""Which webhook a new job gets: its request's `webhook_url` and `webhook_events`, else its
key's default, else none. A new batch likewise (`for_batch`), for its one event,
`batch.completed`. A URL the request names is vetted (`checked_url`) when the request is
validated (`intake.validate`, `batch.service`), before anything is written; a key's default
was vetted when it was set. Both are vetted again before every delivery attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workers.errors import InvalidInput
from workers.key.caller import Caller
from workers.webhook import ssrf
from workers.webhook.events import DEFAULT_EVENTS, WebhookEvent
from workers.webhook.secrets import holder_of


@dataclass(frozen=True)
class Subscription:
    url: str
    events: tuple[WebhookEvent, ...]
    signer: str  # the holder whose secret signs (`secrets.holder_of`)


def checked_url(url: str, *, field: str = "webhook_url") -> str:
    """`url` if webhooks may be sent to it; else `InvalidInput` naming `field`."""
    try:
        return ssrf.vet(url).url
    except ssrf.UnsafeUrl as exc:
        raise InvalidInput.at(field, msg=f"{url!r} {exc}") from None


def checked_events(events: Sequence[str] | None) -> tuple[WebhookEvent, ...]:
    """The events named, without repeats, in the usual order; the default when none are."""
    if not events:
        return DEFAULT_EVENTS
    try:
        named = {WebhookEvent(e) for e in events}
    except ValueError:
        allowed = ", ".join(WebhookEvent)
        raise InvalidInput.at("webhook_events", msg=f"events are {allowed}") from None
    return tuple(e for e in WebhookEvent if e in named)


def for_request(
    url: str | None, events: Sequence[str] | None, caller: Caller
) -> Subscription | None:
    """The webhook of a job `caller` asks for (a `url` given was vetted with the request);
    raises `InvalidInput`, nothing written."""
    if url is not None:
        return Subscription(url.strip(), checked_events(events), holder_of(caller))
    if caller.webhook_url is not None:
        return Subscription(
            caller.webhook_url, checked_events(events or caller.webhook_events), holder_of(caller)
        )
    if events:
        raise InvalidInput.at(
            "webhook_events",
            msg="names events but no webhook_url: give one, or set the key's default "
            "(PUT /v1/webhooks/default)",
        )
    return None


def for_batch(url: str | None, caller: Caller) -> Subscription | None:
    """The webhook of a batch `caller` submits (a `url` given was vetted with the request):
    its own URL, else its key's default when that takes `completed` (a key asking for its
    jobs' ends gets its batches' ends too), else none. A batch's only event is `completed`
    (`batch.completed`); its items' own events go where each item says."""
    events = (WebhookEvent.COMPLETED,)
    if url is not None:
        return Subscription(url.strip(), events, holder_of(caller))
    if caller.webhook_url is not None and WebhookEvent.COMPLETED in checked_events(
        caller.webhook_events
    ):
        return Subscription(caller.webhook_url, events, holder_of(caller))
    return None
