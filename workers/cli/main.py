"""`abstrakt-queue`: run the system, or talk to it from a shell.

Errors a user can fix are printed as one line on stderr (exit 2), never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from typing import Any

from kombu.exceptions import OperationalError as KombuOperationalError
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from workers.catalog.loader import CatalogError
from workers.catalog.registry import all_models
from workers.cli import models
from workers.errors import DomainError
from workers.key import cli as keys
from workers.prewarm import cli as prewarm
from workers.settings import get_settings
from workers.stats import cli as stats

# The webhooks queue is served by workers of its own (`up` starts one): see workers/queues.py.
# `up` also gives the hosted queue a threads-pool worker of its own; a plain `worker`
# serves it too, so one worker runs every kind of job.
ALL_QUEUES = "jobs,hosted,prewarm,maintenance"


def _cmd_migrate(_: argparse.Namespace) -> int:
    from workers.db.migrate import upgrade

    upgrade()
    print("database is at the latest migration")
    return 0


def _cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "api.app:create_server_app",
        factory=True,
        host=args.host,
        port=args.port,
        # WebSocket pings keep idle streams open through proxies and find dead peers.
        ws="websockets-sansio",
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        ws_max_size=get_settings().max_body_bytes,
    )
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from workers.celery_app import app

    all_models()  # a mistake in the catalog (or MODELS_FILE) stops the start, not a job

    concurrency = args.concurrency or get_settings().worker_concurrency
    app.worker_main(
        [
            "worker",
            f"--queues={args.queues}",
            f"--concurrency={concurrency}",
            f"--loglevel={args.loglevel}",
            f"--pool={args.pool}",
            *([f"--hostname={args.hostname}"] if args.hostname else []),
        ]
    )
    return 0


def _cmd_poller(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from workers.job.run import poller

    all_models()
    logging.basicConfig(level=args.loglevel, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    poller.run(stop)
    return 0


def _cmd_beat(_: argparse.Namespace) -> int:
    from workers.celery_app import app

    # Beat keeps its schedule under VAR_DIR, which a fresh checkout on Postgres and Redis
    # has not made yet (nothing else wrote there first).
    get_settings().var_dir.mkdir(parents=True, exist_ok=True)
    app.start(["beat", "--loglevel=INFO"])
    return 0


def _cmd_flower(args: argparse.Namespace) -> int:
    from workers.celery_app import app

    basic_auth = args.basic_auth or os.environ.get("FLOWER_BASIC_AUTH", "")
    if args.address not in ("127.0.0.1", "localhost", "::1") and not basic_auth:
        print(
            f"error: Flower on {args.address} would be open to anyone: set "
            "FLOWER_BASIC_AUTH=user:password (or --basic-auth), or listen on 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    argv = ["flower", f"--address={args.address}", f"--port={args.port}", "--persistent=True"]
    argv.append(f"--db={settings.var_dir / 'flower.db'}")
    if basic_auth:
        argv.append(f"--basic-auth={basic_auth}")
    app.start(argv)
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    from workers.cli.supervisor import supervise
    from workers.db.migrate import upgrade

    all_models()  # refuse a bad MODELS_FILE once, before starting its processes on it
    upgrade()
    from workers.key import devkey

    dev_key, made_now = devkey.ensure()
    # Shown once, when made; afterwards only where it is kept.
    key_line = f"new development API key: {dev_key}" if made_now else "development API key"
    # Media URLs must point at this API unless the operator chose another public address.
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{args.host}:{args.port}")
    me = [sys.executable, "-m", "workers.cli"]
    return supervise(
        {
            "api": [*me, "api", "--host", args.host, "--port", str(args.port)],
            "worker": [*me, "worker", "--queues", "jobs,prewarm,maintenance"],
            # Hosted jobs mostly wait on their provider: many threads in one process.
            "hosted": [*me, "worker", "--queues", "hosted", "--pool", "threads"]
            + ["--concurrency", str(get_settings().hosted_concurrency)]
            + ["--hostname", "hosted@%h"],
            # Webhooks on a worker of their own: a slow receiver never holds a job's slot.
            "hooks": [*me, "worker", "--queues", "webhooks", "--pool", "threads"]
            + ["--concurrency", "8", "--hostname", "webhooks@%h"],
            "beat": [*me, "beat"],
            "poller": [*me, "poller"],
        },
        banner=f"abstrakt-queue is up: API on http://{args.host}:{args.port} "
        f"(docs at /docs); Ctrl-C stops it\n"
        f"{key_line} (kept in {devkey.path()})",
    )


def _cmd_submit(args: argparse.Namespace) -> int:
    from workers.job import producer
    from workers.job.schemas import JobCreate

    params: dict[str, Any] = {}
    for name in (
        "prompt",
        "negative_prompt",
        "duration",
        "aspect_ratio",
        "fps",
        "seed",
        "num_images",
        "image_url",
        "video_url",
    ):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if args.resolution:
        params["resolution"] = _resolution(args.resolution)
    request = JobCreate(
        model=args.model,
        input=params,
        priority=args.priority,
        idempotency_key=args.key,
        preview=args.preview,
    )
    caller = keys.acting_caller(args.api_key)
    accepted = producer.submit(request, caller=caller)
    if not args.wait:
        print(json.dumps({"id": str(accepted.id), "status": accepted.status}))
        return 0
    return _print_when_done(accepted.id, args.timeout, owner=caller.owner)


def _resolution(value: str) -> str | dict[str, int]:
    if "x" in value:
        width, _, height = value.partition("x")
        if width.isdigit() and height.isdigit():
            return {"width": int(width), "height": int(height)}
    return value


def _print_when_done(job_id: uuid.UUID, timeout_s: float, *, owner: str) -> int:
    from workers.cli.progress import follow_until_done
    from workers.db.engine import session_scope
    from workers.job.reader import read_job

    follow_until_done(job_id, owner=owner, timeout_s=timeout_s)
    with session_scope() as session:
        job = read_job(session, job_id, owner=owner)
    print(job.model_dump_json(indent=2))
    return 0 if job.status == "succeeded" else 1


def _cmd_emulate(args: argparse.Namespace) -> int:
    """Hand the rest of the command line to the emulator, a tool that is not in the wheel."""
    try:
        from emulator.cli import main as emulate
    except ModuleNotFoundError as exc:
        if exc.name != "emulator":
            raise
        print(
            "error: `abstrakt-queue emulate` is a development tool that runs only from a "
            "source checkout (pip install -e .); this installation does not include it",
            file=sys.stderr,
        )
        return 2
    return emulate(args.rest, prog="abstrakt-queue emulate")


def _cmd_status(args: argparse.Namespace) -> int:
    from workers.db.engine import session_scope
    from workers.job.reader import read_job

    owner = keys.acting_caller(args.api_key).owner
    with session_scope() as session:
        print(read_job(session, args.job_id, owner=owner).model_dump_json(indent=2))
    return 0


def _cmd_usage(args: argparse.Namespace) -> int:
    from workers.db.base import utcnow
    from workers.db.engine import session_scope
    from workers.job import usage

    try:
        start, end = usage.window(args.start, args.end, utcnow())
    except usage.BadWindow as exc:
        print(f"error: --{exc.field}: {exc.message}", file=sys.stderr)
        return 2
    # An operator may name any owner (`prewarm`: pre-generation); otherwise the key's own.
    owner = args.owner or keys.acting_caller(args.api_key).owner
    with session_scope() as session:
        report = usage.usage(session, owner=owner, start=start, end=end, group_by=args.group_by)
    if args.json:
        print(report.model_dump_json(by_alias=True, indent=2))
        return 0
    print(f"usage of {owner} from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    table = [
        [args.group_by, "jobs", "ok", "failed", "canceled", "cached", "video s", "images"]
        + ["spend $", "pending $"]
    ]
    for row in [*report.rows, report.total]:
        counts = (row.jobs, row.succeeded, row.failed, row.canceled, row.from_cache)
        table.append(
            [row.key, *map(str, counts), f"{row.video_seconds:.2f}", str(row.images)]
            + [f"{row.spend_usd:.6f}", f"{row.pending_usd:.6f}"]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    table.insert(len(table) - 1, ["-" * width for width in widths])
    for line in table:
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        print("  ".join(cells).rstrip())
    return 0


def _safe_url() -> str:
    """The database URL with any password hidden, for error messages."""
    return make_url(get_settings().database_url).render_as_string(hide_password=True)


def _job_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a job id (a UUID)") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="abstrakt-queue", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="migrate, then run API, worker, beat and poller in one command")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.set_defaults(run=_cmd_up)

    api = sub.add_parser("api", help="run the HTTP API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.set_defaults(run=_cmd_api)

    worker = sub.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--queues", default=ALL_QUEUES)
    worker.add_argument("--concurrency", type=int, default=None)
    worker.add_argument("--pool", default="prefork", help="prefork (default), threads or solo")
    worker.add_argument("--loglevel", default="INFO", help="DEBUG also logs each task's arguments")
    worker.add_argument("--hostname", help="the node name, e.g. webhooks@%%h (default celery@%%h)")
    worker.set_defaults(run=_cmd_worker)

    sub.add_parser("beat", help="run the Celery beat scheduler").set_defaults(run=_cmd_beat)
    poller = sub.add_parser("poller", help="follow jobs waiting at hosted providers (one per host)")
    poller.add_argument("--loglevel", default="INFO")
    poller.set_defaults(run=_cmd_poller)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=_cmd_migrate)

    flower = sub.add_parser("flower", help="run Flower, the Celery monitor")
    flower.add_argument("--address", default="127.0.0.1")
    flower.add_argument("--port", type=int, default=5555)
    flower.add_argument("--basic-auth", help="user:password (always set one in production)")
    flower.set_defaults(run=_cmd_flower)

    submit = sub.add_parser("submit", help="enqueue a generation job")
    submit.add_argument("model", help="a model id or alias, e.g. local/video (see `models`)")
    submit.add_argument("--prompt")
    submit.add_argument("--negative-prompt", dest="negative_prompt")
    submit.add_argument("--duration", type=float)
    submit.add_argument("--resolution", help="480p, 720p, 1080p or WIDTHxHEIGHT")
    submit.add_argument("--aspect-ratio", dest="aspect_ratio")
    submit.add_argument("--fps", type=int)
    submit.add_argument("--seed", type=int)
    submit.add_argument("--num-images", dest="num_images", type=int)
    submit.add_argument(
        "--image-url", dest="image_url", help="https URL of the image to start from"
    )
    submit.add_argument(
        "--video-url", dest="video_url", help="https URL of the video to interpolate"
    )
    submit.add_argument("--priority", type=int, default=5)
    submit.add_argument("--key", help="idempotency key")
    submit.add_argument(
        "--wait", action="store_true", help="show live progress and wait for the job to finish"
    )
    submit.add_argument(
        "--preview", action="store_true", help="video: render a first-frame preview too"
    )
    submit.add_argument("--timeout", type=float, default=600.0)
    _api_key_argument(submit)
    submit.set_defaults(run=_cmd_submit)

    # Its flags belong to the emulator (see `emulate --help`): everything after the word
    # goes to it unparsed, so that building this parser never imports it.
    sub.add_parser(
        "emulate",
        help="serve the fal, OpenAI, Gemini and Replicate protocols on loopback "
        "(from a source checkout)",
        add_help=False,
    ).set_defaults(run=_cmd_emulate, takes_rest=True)

    status = sub.add_parser("status", help="show a job")
    status.add_argument("job_id", type=_job_id)
    _api_key_argument(status)
    status.set_defaults(run=_cmd_status)

    spend = sub.add_parser("usage", help="jobs, seconds of video, images and spend, as a table")
    spend.add_argument(
        "--from",
        dest="start",
        metavar="FROM",
        help="a date (from its UTC midnight) or an ISO 8601 time; default: 30 days before --to",
    )
    spend.add_argument(
        "--to", dest="end", metavar="TO", help="a date (included) or an ISO 8601 time; default: now"
    )
    spend.add_argument("--group-by", dest="group_by", choices=("model", "day"), default="model")
    _api_key_argument(spend)
    spend.add_argument(
        "--owner", help="whose jobs; default: API callers' (prewarm: pre-generation)"
    )
    spend.add_argument("--json", action="store_true", help="print JSON instead of a table")
    spend.set_defaults(run=_cmd_usage)

    stats.add_arguments(
        sub.add_parser("stats", help="p50/p90/p99 of end-to-end time and of each phase, as a table")
    )
    prewarm.add_arguments(
        sub.add_parser("prewarm", help="manage the prompts pre-generated into the shared cache")
    )
    keys.add_arguments(sub.add_parser("keys", help="create, list, update and revoke API keys"))
    models.add_arguments(sub.add_parser("models", help="the catalog of models, as a table"))
    return parser


def _api_key_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-key",
        help=f"act as this key (default: ${keys.API_KEY_ENV}, else the development key)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "takes_rest", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    try:
        code: int = args.run(args)
        return code
    except (DomainError, keys.Unauthorized) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except CatalogError as exc:
        print(f"error: the model catalog: {exc}", file=sys.stderr)
    except ValidationError as exc:
        for err in exc.errors():
            print(f"error: {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
    except SQLAlchemyError as exc:
        reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()[0]
        print(f"error: database {_safe_url()} failed: {reason}", file=sys.stderr)
    except KombuOperationalError as exc:
        print(f"error: the broker is unreachable ({exc}); check BROKER_URL", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2
