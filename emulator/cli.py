"""The emulator's command line: `abstrakt-queue emulate` and `python -m emulator`.

The product's CLI imports this module only when `emulate` runs and hands it the rest of
the command line, so its flags are defined here alone.
"""

from __future__ import annotations

import argparse
import sys

import uvicorn

from emulator.app import create_app
from emulator.config import EmulatorConfig, FaultKind, ModelSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback by default)")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--queue-s", type=float, default=1.0, help="seconds in provider queue")
    parser.add_argument("--generation-s", type=float, default=3.0, help="seconds generating")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="0..1 per API request")
    parser.add_argument(
        "--faults",
        default=",".join(FaultKind),
        help=f"comma list of fault kinds from: {', '.join(FaultKind)}",
    )
    parser.add_argument("--fail-rate", type=float, default=0.0, help="0..1 jobs that fail")
    parser.add_argument("--retry-after-s", type=float, default=1.0)
    parser.add_argument("--timeout-s", type=float, default=30.0, help="delay of a timeout fault")
    parser.add_argument("--fps", type=int, default=24, help="frame rate of rendered videos")
    parser.add_argument(
        "--media-scale", type=float, default=1.0, help="render media at this fraction of size"
    )
    parser.add_argument(
        "--stock-media",
        action="store_true",
        help="render one file per distinct media spec (kind, size, length, fps) and serve it "
        "to every job with that spec, sparing the host's CPU under load",
    )
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the fault dice")


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    defaults = ModelSettings().updated(
        {
            "queue_s": args.queue_s,
            "generation_s": args.generation_s,
            "fault_rate": args.fault_rate,
            "faults": args.faults,
            "fail_rate": args.fail_rate,
            "retry_after_s": args.retry_after_s,
            "timeout_s": args.timeout_s,
            "fps": args.fps,
            "media_scale": args.media_scale,
        }
    )
    return EmulatorConfig(
        defaults=defaults, api_key=args.api_key, seed=args.seed, stock_media=args.stock_media
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ValueError as exc:
        sys.stderr.write(f"emulator: {exc}\n")
        return 2
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")
    return 0


def main(argv: list[str] | None = None, prog: str = "python -m emulator") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Loopback emulator of the fal, Replicate, OpenAI Videos and Gemini Veo APIs.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
