"""House rules for webhooks: one writer of delivery rows; the secret stays out of task
messages and logs; the delivery task's only argument is an id."""

from __future__ import annotations

import ast
import base64
import logging

import pytest
import redis

from tests.conftest import KEY_PREFIX
from tests.job.state.test_one_writer import WORKERS, constructions_of, sources, writes_of
from tests.webhook.helpers import deliver_all, pending_ids, submit_with_webhook
from tests.webhook.receiver import Receiver
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.webhook import secrets

DELIVERIES = WORKERS / "webhook" / "deliveries.py"
ROW_FIELDS = frozenset({"state", "next_attempt_at", "lease_until", "sent_at", "round_base"})


def test_delivery_rows_are_written_only_by_deliveries() -> None:
    elsewhere = [
        f"{path.relative_to(WORKERS.parent)}:{line}"
        for path, tree in sources()
        if path != DELIVERIES
        for line in writes_of(tree, ROW_FIELDS)
        + constructions_of(tree, "WebhookDelivery")
        + constructions_of(tree, "WebhookAttempt")
    ]
    assert elsewhere == []
    assert writes_of(ast.parse(DELIVERIES.read_text()), ROW_FIELDS), "the check is blind"


@pytest.mark.usefixtures("allow_loopback", "fast_retries")
def test_the_secret_is_in_no_message_and_no_log_line(
    receiver: Receiver, redis_client: redis.Redis[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.plan("/hook", 500)
    job_id = submit_with_webhook(receiver.url())
    [delivery_id] = pending_ids(job_id)
    # The message waiting on the webhooks queue names the delivery and nothing else.
    raw = b"".join(
        b"".join(redis_client.lrange(key, 0, -1))
        for key in redis_client.scan_iter(match=f"{KEY_PREFIX}webhooks*")
        if redis_client.type(key) == b"list"
    )
    assert str(delivery_id).encode() in raw or base64.b64encode(str(delivery_id).encode()) in raw
    deliver_all()
    with session_scope() as session:
        secret = secrets.current(session, "owner:anonymous", utcnow()).secret
    traces = raw + b"".join(r.getMessage().encode() for r in caplog.records)
    for needle in (secret, secret.removeprefix("whsec_")):
        assert needle.encode() not in traces
    assert receiver.url().encode() not in raw
