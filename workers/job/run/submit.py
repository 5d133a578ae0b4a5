"""A hosted attempt's first worker step: submit once, store the request id, let go.

The worker never waits for the provider: from here the poller watches the job, and
`finalize` is the second, short worker step.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workers.catalog.registry import get_model
from workers.catalog.wire import to_wire
from workers.db.engine import session_scope
from workers.job.callback import token as callback_token
from workers.job.run import AttemptLost
from workers.job.run.crash import crash_point
from workers.job.run.poller import first_poll_in_s
from workers.job.state import hosted
from workers.job.state.attempt import Attempt
from workers.provider.base import FindsSubmissions, Submission
from workers.provider.callbacks import AcceptsCallbacks
from workers.provider.registry import adapter_for

log = logging.getLogger(__name__)


def start_hosted(session: Session, attempt: Attempt) -> Attempt | None:
    """The claim's transaction, for a hosted attempt: record the intent to submit with it.

    The intent is committed before the provider hears of the request, so a crash between
    the provider accepting and our row recording it is visible on recovery (see README,
    "Exactly one submission"); in the claim's commit, it costs no commit of its own.
    None when the attempt is no longer current.
    """
    if attempt.past_submission:
        return attempt  # a takeover past submission: nothing to intend
    return hosted.record_intent(session, attempt)


def submit_hosted(attempt: Attempt) -> None:
    """Submit a started hosted attempt (its intent committed: `start_hosted`) once and
    store the provider's request id."""
    spec = get_model(attempt.model)
    adapter = adapter_for(spec.provider)
    if attempt.past_submission:
        # A takeover after the worker died past submission: the provider has the request.
        with session_scope() as session:
            hosted.resume_waiting(session, attempt, first_poll_in_s=0.0)
        return
    if not attempt.intent_committed:
        raise RuntimeError("a hosted attempt is claimed with its intent to submit (start_hosted)")
    payload = adapter.build_payload(spec.provider_model, to_wire(spec, attempt.input))
    submission = None
    if attempt.earlier_intent_at is not None:
        submission = _find_earlier(
            adapter, spec.provider_model, payload, attempt.earlier_intent_at, attempt
        )
    if submission is None:
        crash_point("before_submit")
        if callback_token.enabled_for(spec.provider) and isinstance(adapter, AcceptsCallbacks):
            url = callback_token.url_for(attempt.job_id, spec.provider)
            submission = adapter.submit_with_callback(spec.provider_model, payload, url)
        else:
            submission = adapter.submit(spec.provider_model, payload)
        crash_point("after_submit")
    with session_scope() as session:
        recorded = hosted.record_submission(
            session, attempt, submission, first_poll_in_s=first_poll_in_s(spec)
        )
    if not recorded:  # canceled while we were submitting: don't leave it running there
        adapter.cancel(spec.provider_model, submission)
        raise AttemptLost(str(attempt.job_id))
    log.info("job.submitted job_id=%s provider=%s", attempt.job_id, spec.provider)


def _find_earlier(
    adapter: object, model: str, payload: dict[str, Any], since: datetime, attempt: Attempt
) -> Submission | None:
    """After a crash between intent and record: the provider may hold our request already.

    Where the provider can list requests (Replicate, OpenAI) we look before submitting
    again; where it cannot (fal, Gemini), the window stays open and we submit again (README,
    "Exactly one submission").
    """
    if not isinstance(adapter, FindsSubmissions):
        log.warning("job.resubmit_unverifiable job_id=%s", attempt.job_id)
        return None
    found = adapter.find_submission(model, payload, created_after=since)
    if found is None:
        return None
    with session_scope() as session:
        if hosted.request_id_taken(session, found.request_id, by_other_than=attempt.job_id):
            return None
    log.warning(
        "job.submission_recovered job_id=%s request_id=%s", attempt.job_id, found.request_id
    )
    return found
