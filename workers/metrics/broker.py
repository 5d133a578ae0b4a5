"""Messages waiting in each Celery queue, asked of the broker at scrape time.

Flower exports no queue depth, and a worker cannot see the queues it is not consuming.
kombu's virtual transports (Redis, the filesystem broker) count a queue with the channel's
`_size`: Redis sums the queue's priority lists (under BROKER_KEY_PREFIX), the filesystem
broker counts its files. Their passive `queue_declare` would be the public way, but on
Redis it misses queues that live only as priority lists and answers "not found". Any other
transport (AMQP) answers the passive declare.
"""

from __future__ import annotations

import logging

from workers.queues import Queue

log = logging.getLogger(__name__)


def queue_depths(timeout_s: float = 2.0) -> dict[str, int] | None:
    """Each queue's waiting messages; None when the broker does not answer in time."""
    from workers.celery_app import app

    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout_s)
            channel = connection.default_channel
            for queue in Queue:
                depths[queue.value] = _depth(channel, queue.value)
    except Exception as exc:  # any broker failure: the scrape still answers, without depths
        log.warning("metrics.broker_unreachable error=%s", exc)
        return None
    return depths


def _depth(channel: object, name: str) -> int:
    from kombu.exceptions import ChannelError

    size = getattr(channel, "_size", None)
    if size is not None:
        return int(size(name))
    try:
        declared = channel.queue_declare(queue=name, passive=True)  # type: ignore[attr-defined]
    except ChannelError:  # never declared, or empty and deleted (Redis): nothing waits
        return 0
    return int(declared.message_count)
