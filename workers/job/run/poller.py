"""The poller: follows every job waiting at a hosted provider, holding no worker for it.

One process per host (`abstrakt-queue poller`). Its state is the job rows: it takes due
jobs in batches (SKIP LOCKED plus a short lease, so pollers on several hosts never check
the same job), asks each provider for the status from a thread pool, and moves the job on.
Most answers move nothing (still queued, still running): a round records all of those in
one statement, so a check costs about one HTTP request; the answers that move a job
(started, finished) are recorded together in one transaction. A job the provider finished
is handed to a worker as a short `job.finalize` task. Killed at any point, it loses nothing:
an unfinished lease lapses and the next round takes the job. While the database or the
broker cannot be reached it backs off (up to `MAX_BACKOFF_S`) and carries on, logging the
outage once.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.orm import Session

from workers.catalog.models import ModelSpec
from workers.catalog.registry import get_model
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.db.outage import Outage, is_unavailable
from workers.errors import PermanentProviderError, RetryableProviderError
from workers.job.callback import token as callback_token
from workers.job.live import signals
from workers.job.messages import finalize_after_commit
from workers.job.state import attempt, hosted
from workers.job.state.hosted import Advance, Move, PollTicket, Reschedule
from workers.provider.base import RemoteStatus
from workers.provider.registry import adapter_for
from workers.provider_health.outcomes import record_outcome
from workers.settings import get_settings

log = logging.getLogger(__name__)

POLL_LEASE_S = 60.0  # longer than one status call may take, with its timeout
IDLE_WAIT_S = 0.1  # how long an idle poller sleeps before looking for due jobs again
MAX_BACKOFF_S = 5.0  # the longest wait between rounds while a dependency is away


def first_poll_in_s(spec: ModelSpec) -> float:
    return next_poll_in_s(spec, elapsed_s=0.0)


def next_poll_in_s(spec: ModelSpec, *, elapsed_s: float) -> float:
    """Check rarely while the job is young, often as its expected finish nears, and less
    often again the later it runs.

    Half the expected remaining time, bounded by the settings, so the checks close in on
    the expected finish geometrically (about eight for a job that takes as long as
    expected). Past it, a quarter of the overrun: a job 4 s late is checked every 1 s, one
    40 s late every 10 s. A fixed short interval for every late job would feed on itself:
    a poller that falls behind makes every job late, and late jobs asked for more checks.

    A job whose provider will call us back (`callback.token.enabled_for`) is checked at
    most every CALLBACK_POLL_INTERVAL_S: polling is then only the fallback for a callback
    that is lost or late.
    """
    settings = get_settings()
    remaining = spec.typical_latency_s - elapsed_s
    wait = remaining / 2 if remaining > 0 else -remaining / 4
    wait = min(settings.poll_max_interval_s, max(settings.poll_min_interval_s, wait))
    if callback_token.enabled_for(spec.provider):
        return max(wait, settings.callback_poll_interval_s)
    return wait


@dataclass(frozen=True)
class Moving:
    """A check whose answer moves its job, for the round to record with the others."""

    move: Move
    elapsed_s: float
    expected_s: float


def check(ticket: PollTicket) -> Reschedule | Moving | None:
    """Ask the provider about one job. An answer is returned for the round to record with
    the others: a `Reschedule` when it moves nothing (most checks), a `Moving` when it
    moves the job. None when the check recorded what it had to itself (a failed request,
    a deadline)."""
    settings = get_settings()
    spec = get_model(ticket.model)
    adapter = adapter_for(ticket.provider)
    elapsed = (utcnow() - ticket.submitted_at).total_seconds() if ticket.submitted_at else 0.0
    if elapsed > settings.hosted_job_deadline_s:
        _give_up(ticket, elapsed)
        return None
    try:
        status = adapter.status(spec.provider_model, ticket.submission)
    except RetryableProviderError as exc:
        record_outcome(ticket.provider, exc)
        delay = max(exc.retry_after_s or 0.0, settings.poll_min_interval_s * 4)
        with session_scope() as session:
            hosted.postpone_poll(session, ticket, in_s=delay, reason=exc.code)
        log.warning("job.poll_failed job_id=%s reason=%s", ticket.job_id, exc.code)
        return None
    except PermanentProviderError as exc:
        with session_scope() as session:
            attempt.fail(session, ticket.job_id, code=exc.code, message=str(exc))
        return None
    record_outcome(ticket.provider, None)
    next_in_s = next_poll_in_s(spec, elapsed_s=elapsed)
    same = hosted.unchanged(ticket, status, next_poll_in_s=next_in_s)
    if same is not None:
        _publish(ticket, status, elapsed, spec.typical_latency_s)
        return same
    return Moving(Move(ticket, status, next_in_s), elapsed, spec.typical_latency_s)


def record_moves(moving: list[Moving]) -> None:
    """Record a round's moving answers in one transaction, and send the finalize of each
    job the provider finished once it commits.

    Should that transaction fail for any reason but an outage (a deadlock, one job's
    surprise), each answer is recorded in a transaction of its own, so one job cannot
    hold back the others.
    """
    try:
        with session_scope() as session:
            advances = hosted.apply_moves(session, [each.move for each in moving])
            _finalize_finished(session, advances)
    except Exception as exc:
        if is_unavailable(exc):
            raise
        log.warning("poller.moves_one_by_one count=%s error=%s", len(moving), exc)
        for each in moving:
            try:
                with session_scope() as session:
                    _finalize_finished(session, hosted.apply_moves(session, [each.move]))
            except Exception as one_exc:
                if is_unavailable(one_exc):
                    raise
                log.exception("job.poll_crashed job_id=%s", each.move.ticket.job_id)
    for each in moving:
        _publish(each.move.ticket, each.move.status, each.elapsed_s, each.expected_s)


def _finalize_finished(session: Session, advances: dict[uuid.UUID, Advance]) -> None:
    for job_id, advance in advances.items():
        if advance.finalize:
            finalize_after_commit(session, job_id)


def _publish(ticket: PollTicket, status: RemoteStatus, elapsed_s: float, expected_s: float) -> None:
    signals.publish_remote(ticket.job_id, status, elapsed_s=elapsed_s, expected_s=expected_s)


def _give_up(ticket: PollTicket, elapsed: float) -> None:
    """A client-side deadline: cancel at the provider, fail the job with a clear reason."""
    spec = get_model(ticket.model)
    try:
        adapter_for(ticket.provider).cancel(spec.provider_model, ticket.submission)
    except (RetryableProviderError, PermanentProviderError) as exc:
        log.warning("job.deadline_cancel_failed job_id=%s reason=%s", ticket.job_id, exc.code)
    with session_scope() as session:
        attempt.fail(
            session,
            ticket.job_id,
            code="provider_timeout",
            message=f"the provider had not finished after {elapsed:.0f} s; canceled there",
        )


def poll_once(
    pool: ThreadPoolExecutor, batch: int, stranded: list[PollTicket] | None = None
) -> int:
    """One round: take the due jobs, check them all, return how many were checked.

    A check the database cut short leaves its job leased to this poller: it goes into
    `stranded` (for `release` once the database is back) and the outage is raised after
    the round's other checks have ended."""
    with session_scope() as session:
        tickets = hosted.take_due_polls(session, now=utcnow(), limit=batch, lease_s=POLL_LEASE_S)
    away: BaseException | None = None
    same: list[Reschedule] = []
    moving: list[Moving] = []
    for ticket, future in [(ticket, pool.submit(check, ticket)) for ticket in tickets]:
        try:
            answer = future.result()
        except Exception as exc:  # one job's surprise must not stop the others' polling
            if is_unavailable(exc):
                away = away or exc
                if stranded is not None:
                    stranded.append(ticket)
                continue
            log.exception("job.poll_crashed")
            continue
        if isinstance(answer, Reschedule):
            same.append(answer)
        elif answer is not None:
            moving.append(answer)
    # Each is written even when a check or the other write met an outage.
    unchanged = _write_or_strand(lambda: _reschedule(same), [a.ticket for a in same], stranded)
    moved = _write_or_strand(
        lambda: record_moves(moving), [a.move.ticket for a in moving], stranded
    )
    away = away or unchanged or moved
    if away is not None:
        raise away
    return len(tickets)


def _reschedule(same: list[Reschedule]) -> None:
    with session_scope() as session:
        hosted.reschedule_polls(session, same)


def _write_or_strand(
    write: Callable[[], None], tickets: list[PollTicket], stranded: list[PollTicket] | None
) -> BaseException | None:
    """Record a round's answers with `write`; in a database outage their tickets go into
    `stranded` and the outage is returned, for the round to raise once it has ended."""
    if not tickets:
        return None
    try:
        write()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        if stranded is not None:
            stranded.extend(tickets)
        return exc
    return None


def release(stranded: list[PollTicket]) -> None:
    """Give back at once the polls an outage cut short, instead of waiting out their lease."""
    with session_scope() as session:
        for ticket in stranded:
            hosted.postpone_poll(session, ticket, in_s=0.0, reason="database_unavailable")
    stranded.clear()


def run(stop: threading.Event) -> None:
    concurrency = get_settings().poller_concurrency
    log.info("poller.started concurrency=%s", concurrency)
    outage = Outage("database")
    backoff = IDLE_WAIT_S
    stranded: list[PollTicket] = []
    with ThreadPoolExecutor(concurrency, thread_name_prefix="poll") as pool:
        while not stop.is_set():
            try:
                if stranded:
                    release(stranded)
                checked = poll_once(pool, concurrency * 4, stranded)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                outage.failed(exc)
                stop.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
                continue
            outage.recovered()
            backoff = IDLE_WAIT_S
            if checked == 0:
                stop.wait(IDLE_WAIT_S)
    log.info("poller.stopped")
