"""`abstrakt-queue stats`: the key owner's latency statistics as a table (or JSON).

Imports the domain only when the command runs, so `abstrakt-queue --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window", default="24h", help="how far back: 30m, 24h, 7d (default 24h)")
    parser.add_argument(
        "--group-by",
        dest="group_by",
        default="model",
        help="comma-separated: model, duration, resolution, provider (default model)",
    )
    parser.add_argument(
        "--api-key", help="act as this key (default: $ABSTRAKT_API_KEY, else the development key)"
    )
    parser.add_argument("--owner", help="whose jobs; default: the key's (prewarm: pre-generation)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from workers.db.base import utcnow
    from workers.db.engine import session_scope
    from workers.key import cli as keys
    from workers.stats import latency

    try:
        names = latency.parse_group_by(args.group_by)
        latency.parse_window(args.window)
    except latency.BadParameter as exc:
        sys.stderr.write(f"error: --{exc.field.replace('_', '-')}: {exc.message}\n")
        return 2
    # An operator may name any owner (`prewarm`: pre-generation); otherwise the key's own.
    owner = args.owner or keys.acting_caller(args.api_key).owner
    with session_scope() as session:
        report = latency.latency(
            session, owner=owner, now=utcnow(), window=args.window, group_by=names
        )
    if args.json:
        _line(report.model_dump_json(by_alias=True, indent=2))
        return 0
    _line(
        f"latency of {owner}'s jobs that ended from {report.start:%Y-%m-%d %H:%M} "
        f"to {report.end:%Y-%m-%d %H:%M} UTC (ms; percentiles over jobs that generated)"
    )
    header = [*names, "jobs", "errors", "cached", "measure", "count", "p50", "p90", "p99"]
    table = [header]
    for group in report.groups:
        labels = [group.group[name] for name in names]
        counts = [str(group.jobs), f"{group.error_rate:.1%}", str(group.from_cache)]
        measures = [("end_to_end", group.end_to_end), *group.phases.items()]
        first = True
        for measure, figures in measures:
            lead = [*labels, *counts] if first else [""] * (len(labels) + 3)
            first = False
            if figures is None:
                table.append([*lead, measure, "0", "-", "-", "-"])
                continue
            table.append(
                [*lead, measure, str(figures.count)]
                + [f"{v:.1f}" for v in (figures.p50_ms, figures.p90_ms, figures.p99_ms)]
            )
    if not report.groups:
        _line("no jobs ended in this window")
        return 0
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    left = len(names) + 3  # group labels and measure names align left, figures right
    for line in table:
        cells = [
            cell.ljust(width) if i < len(names) or i == left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        _line("  ".join(cells).rstrip())
    return 0


def _line(text: str) -> None:
    sys.stdout.write(text + "\n")
