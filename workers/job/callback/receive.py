"""One call to a job's callback URL: verified, then the job moved on, at most once.

The token names the job (`token.job_of`); the provider's signature proves the body
(`verifiers`); `hosted.apply_callback` moves the job exactly as a poll with the same
answer would, and the finalize task is sent after the commit. A duplicate or late callback
finds the job already past it and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum

from sqlalchemy.orm import Session

from workers.job.callback import token
from workers.job.callback.verifiers import verifier_for
from workers.job.messages import finalize_after_commit
from workers.job.state import hosted
from workers.provider.callbacks import CallbackRefused

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    APPLIED = "applied"  # the job moved on
    IGNORED = "ignored"  # verified, but the job was already past it (duplicate, late)
    UNVERIFIED = "unverified"  # the signature does not verify: 401
    UNKNOWN = "unknown"  # not a token of ours: 404


def receive(
    session: Session, provider: str, job_token: str, headers: Mapping[str, str], body: bytes
) -> Outcome:
    """Act on one callback inside the caller's transaction (the request owns it)."""
    job_id = token.job_of(job_token, provider)
    if job_id is None:
        return Outcome.UNKNOWN
    try:
        callback = verifier_for(provider).verify(headers, body)
    except CallbackRefused as exc:
        log.warning("callback.refused provider=%s job_id=%s reason=%s", provider, job_id, exc)
        return Outcome.UNVERIFIED
    advance = hosted.apply_callback(
        session, job_id, provider=provider, request_id=callback.request_id, status=callback.status
    )
    if advance.finalize:
        finalize_after_commit(session, job_id)
    outcome = Outcome.APPLIED if advance.changed else Outcome.IGNORED
    log.info(
        "callback.received provider=%s job_id=%s request_id=%s state=%s outcome=%s",
        provider,
        job_id,
        callback.request_id,
        callback.status.state,
        outcome,
    )
    return outcome
