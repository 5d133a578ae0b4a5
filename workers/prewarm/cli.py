"""`abstrakt-queue prewarm add|list|remove|run|load`: manage the deployment's own
pre-generation list (owner `prewarm`; keys manage theirs through the API).

Imports the domain only when a command runs, so `abstrakt-queue --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OPERATOR = "prewarm"  # `workers.job.models.PREWARM_OWNER`, without importing the domain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="prewarm_command", required=True)

    add = sub.add_parser("add", help="list a prompt for pre-generation")
    add.add_argument("model", help="a model id, e.g. local/video (see GET /v1/models)")
    add.add_argument("--prompt", required=True)
    add.add_argument("--duration", type=float)
    add.add_argument("--resolution", help="480p, 720p, 1080p or WIDTHxHEIGHT")
    add.add_argument("--aspect-ratio", dest="aspect_ratio")
    add.add_argument("--seed", type=int)
    add.set_defaults(run=_add)

    sub.add_parser("list", help="show the list and each prompt's cache state").set_defaults(
        run=_list
    )

    remove = sub.add_parser("remove", help="unlist a prompt (its cached result stays)")
    remove.add_argument("prompt_id", type=int)
    remove.set_defaults(run=_remove)

    sub.add_parser(
        "run", help="start pre-generation of every due prompt now, outside the schedule"
    ).set_defaults(run=_run)

    load = sub.add_parser("load", help="add every prompt of a YAML file (all or nothing)")
    load.add_argument("file", type=Path, help="prompts: [{model: …, input: {prompt: …}}, …]")
    load.set_defaults(run=_load)


def _print(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _add(args: argparse.Namespace) -> int:
    from workers.db.base import utcnow
    from workers.db.engine import session_scope
    from workers.prewarm import service
    from workers.prewarm.schemas import PrewarmCreate

    params: dict[str, Any] = {"prompt": args.prompt}
    for name in ("duration", "aspect_ratio", "seed"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if args.resolution:
        width, _, height = args.resolution.partition("x")
        is_size = width.isdigit() and height.isdigit()
        params["resolution"] = (
            {"width": int(width), "height": int(height)} if is_size else args.resolution
        )
    with session_scope() as session:
        added = service.add(session, PrewarmCreate(model=args.model, input=params), owner=OPERATOR)
        read = service.read(session, added.prompt, utcnow())
    _print({**read.model_dump(mode="json"), "created": added.created})
    return 0


def _list(_: argparse.Namespace) -> int:
    from workers.db.base import utcnow
    from workers.db.engine import session_scope
    from workers.prewarm import service

    with session_scope() as session:
        prompts = service.list_prompts(session, utcnow(), owner=OPERATOR)
    _print([p.model_dump(mode="json") for p in prompts])
    return 0


def _remove(args: argparse.Namespace) -> int:
    from workers.db.engine import session_scope
    from workers.prewarm import service

    with session_scope() as session:
        service.remove(session, args.prompt_id, owner=OPERATOR)
    _print({"removed": args.prompt_id})
    return 0


def _run(_: argparse.Namespace) -> int:
    from workers.prewarm import scheduler

    _print(scheduler.run_now().model_dump(mode="json"))
    return 0


def _load(args: argparse.Namespace) -> int:
    from workers.db.engine import session_scope
    from workers.prewarm import service

    try:
        text = args.file.read_text()
    except OSError as exc:
        sys.stderr.write(f"error: cannot read {args.file}: {exc.strerror}\n")
        return 2
    with session_scope() as session:
        added = service.load_yaml(session, text, owner=OPERATOR)
        created = sum(a.created for a in added)
    _print({"added": created, "already_listed": len(added) - created})
    return 0
