"""Work that must happen only once a transaction has committed, and never if it rolls back.

A message naming a row must not reach a worker before the row is visible, nor be sent for a
row that was rolled back. So a sender registers the send on the session (`after_commit`),
and it runs right after the commit, in order; a rollback drops it. An action that raises is
logged and its `on_failure` runs (in a new transaction of its own): that is how a caller
leaves a trace for whatever re-sends later.

The hooks are attached to the project's sessionmaker by `workers.db.engine`, not to every
SQLAlchemy session in the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

log = logging.getLogger(__name__)

_PENDING = "abstrakt.after_commit"


@dataclass(frozen=True)
class Action:
    run: Callable[[], None]
    describe: str  # for the log: what was not done, e.g. "job.generate job_id=…"
    on_failure: Callable[[], None] | None = None


def after_commit(session: Session, action: Action) -> None:
    """Run `action` once `session`'s transaction commits; drop it if it rolls back."""
    session.info.setdefault(_PENDING, []).append(action)


def attach(factory: sessionmaker[Session]) -> None:
    event.listen(factory, "after_commit", _run_pending)
    event.listen(factory, "after_transaction_end", _drop_on_rollback)


def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        try:
            action.run()
        except Exception:
            log.exception("outbox.action_failed %s", action.describe)
            if action.on_failure is not None:
                try:
                    action.on_failure()
                except Exception:
                    log.exception("outbox.on_failure_failed %s", action.describe)


def _drop_on_rollback(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the list is already gone; whatever is left belongs to a rollback.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
