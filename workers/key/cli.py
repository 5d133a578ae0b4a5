"""`abstrakt-queue keys create|list|update|revoke`, and which key a CLI command acts as.

Imports the domain only when a command runs, so `abstrakt-queue --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workers.key.caller import Caller
    from workers.key.models import ApiKey
    from workers.key.service import Limits

API_KEY_ENV = "ABSTRAKT_API_KEY"
MONTH = timedelta(days=30)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="keys_command", required=True)

    create = sub.add_parser("create", help="make a key; it is printed once, on the last line")
    create.add_argument("--name", required=True, help="unique, e.g. the service that uses it")
    create.add_argument("--owner", help="whose jobs the key sees (default: its name)")
    _limit_arguments(create)
    create.set_defaults(run=_create)

    sub.add_parser("list", help="every key: limits, last use, spend").set_defaults(run=_list)

    update = sub.add_parser("update", help="change a key's limits")
    update.add_argument("key", help="the key's name or its shown prefix (ak_…)")
    _limit_arguments(update)
    update.set_defaults(run=_update)

    revoke = sub.add_parser("revoke", help="refuse a key from now on (within AUTH_CACHE_S)")
    revoke.add_argument("key", help="the key's name or its shown prefix (ak_…)")
    revoke.set_defaults(run=_revoke)


def _limit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rpm", type=int, help="requests per minute")
    parser.add_argument("--max-in-flight", type=int, help="jobs queued or running at once")
    parser.add_argument("--budget-usd", type=float, help="spend allowed per period")
    parser.add_argument("--budget-period", choices=["1d", "7d", "30d"])
    parser.add_argument(
        "--webhook-url",
        help="the webhook of the key's jobs that name none ('' clears it); see README Webhooks",
    )
    parser.add_argument(
        "--webhook-events",
        help="comma-separated: completed (default), started, progress, preview",
    )


def _limits(args: argparse.Namespace) -> Limits:
    from workers.key.service import Limits

    return Limits(
        rpm=args.rpm,
        max_in_flight=args.max_in_flight,
        budget_usd=args.budget_usd,
        budget_period=args.budget_period,
    )


def _set_webhook(session: Session, key: ApiKey, args: argparse.Namespace) -> None:
    from workers.key import service

    if args.webhook_url is None and args.webhook_events is None:
        return
    url = args.webhook_url if args.webhook_url is not None else key.webhook_url
    events = args.webhook_events.split(",") if args.webhook_events else key.webhook_events
    service.set_webhook_default(session, key, url=url or None, events=events if url else None)


def _create(args: argparse.Namespace) -> int:
    from workers.db.engine import session_scope
    from workers.key import service

    limits = _limits(args)
    with session_scope() as session:
        key, token = service.create(session, name=args.name, owner=args.owner, limits=limits)
        _set_webhook(session, key, args)
        summary = _describe(key)
    sys.stdout.write(f"created {summary}\nthe key is shown once; keep it now:\n{token}\n")
    return 0


def _update(args: argparse.Namespace) -> int:
    from workers.db.engine import session_scope
    from workers.key import service

    limits = _limits(args)
    with session_scope() as session:
        key = service.update_limits(session, args.key, limits)
        _set_webhook(session, key, args)
        summary = _describe(key)
    sys.stdout.write(f"updated {summary}\n")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from workers.db.engine import session_scope
    from workers.key import service

    with session_scope() as session:
        summary = _describe(service.revoke(session, args.key))
    sys.stdout.write(f"revoked {summary}\n")
    return 0


def _list(args: argparse.Namespace) -> int:
    from workers.db.base import utcnow
    from workers.db.engine import session_scope
    from workers.job.usage import reserved_and_spent
    from workers.key import service
    from workers.key.service import caller_of

    rows = [
        ("name", "prefix", "owner", "rpm", "in flight", "budget", "spent", "last used", "revoked")
    ]
    now = utcnow()
    with session_scope() as session:
        for key in service.all_keys(session):
            # This budget period's spend; a key without a budget shows its last 30 days.
            since = caller_of(key).period(now)[0] if key.budget_usd is not None else now - MONTH
            spent = reserved_and_spent(session, owner=key.owner, since=since)
            budget = (
                f"${key.budget_usd:g}/{key.budget_period_days}d"
                if key.budget_usd is not None
                else "-"
            )
            rows.append(
                (
                    key.name,
                    key.prefix,
                    key.owner,
                    str(key.rpm or "-"),
                    str(key.max_in_flight or "-"),
                    budget,
                    f"${spent:.2f}",
                    key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "never",
                    key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "no",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        sys.stdout.write("\n")
    return 0


def _describe(key: ApiKey) -> str:
    limits = [
        f"{name} {value}"
        for name, value in (
            ("rpm", key.rpm),
            ("max-in-flight", key.max_in_flight),
            ("budget-usd", key.budget_usd),
            ("budget-days", key.budget_period_days),
        )
        if value is not None
    ]
    if key.webhook_url:
        limits.append(f"webhook {key.webhook_url} ({','.join(key.webhook_events or [])})")
    return f"{key.name} ({key.prefix}…, owner {key.owner}; {', '.join(limits) or 'no limits'})"


def acting_caller(api_key: str | None) -> Caller:
    """The caller a CLI command acts as: `--api-key`, else `ABSTRAKT_API_KEY`, else the
    development key that `up` keeps under VAR_DIR; anonymous when auth is disabled.
    Raises `Unauthorized` when there is none or it is not a live key."""
    from workers.key import devkey
    from workers.key.caller import ANONYMOUS
    from workers.key.service import authenticate
    from workers.settings import get_settings

    if get_settings().auth_disabled:
        return ANONYMOUS
    token = api_key or os.environ.get(API_KEY_ENV) or devkey.read()
    if not token:
        raise Unauthorized(
            f"this command acts as an API key: pass --api-key or set {API_KEY_ENV} "
            "(`abstrakt-queue keys create` makes one; `up` keeps a development key)"
        )
    caller = authenticate(token)
    if caller is None:
        raise Unauthorized("the API key is unknown or revoked")
    return caller


class Unauthorized(Exception):
    pass
