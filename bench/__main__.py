"""`python -m bench [--quick] [--json PATH]`: one table of our figures beside bare Celery's.

Needs Postgres and Redis as for the tests (BENCH_PG_ADMIN_URL, BENCH_REDIS_URL override).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import env  # first: points the settings at the bench servers
from bench.cases import ALL_CASES, run_all
from bench.result import Result


def machine() -> dict[str, object]:
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
    }


def fmt(value: float | None) -> str:
    if value is None:
        return "not yet"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def table(results: list[Result]) -> str:
    rows = [("case", "metric", "ours", "bare Celery", "ratio", "goal", "met")]
    for r in results:
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "—"
        met = {True: "yes", False: "NO", None: "—"}[r.met]
        baseline = (
            fmt(r.baseline)
            if r.baseline is not None
            else ("—" if r.ours is not None else "not yet")
        )
        rows.append((r.case, r.metric, fmt(r.ours), baseline, ratio, r.goal, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a one-minute smoke run")
    parser.add_argument("--json", type=Path, default=Path("bench/results/latest.json"))
    parser.add_argument(
        "--only", default="", help="comma list of case numbers to run, e.g. 1,4 (default: all)"
    )
    args = parser.parse_args()
    only = frozenset(int(n) for n in args.only.split(",") if n) or ALL_CASES
    started = time.monotonic()
    env.create_database()
    try:
        results = run_all(args.quick, only)
    finally:
        env.drop_database()
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": args.quick,
        "duration_s": round(time.monotonic() - started, 1),
        "results": [asdict(r) | {"ratio": r.ratio} for r in results],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    print(table(results))
    for r in results:
        if r.detail:
            print(f"  {r.case}: {json.dumps(r.detail)}")
    m = report["machine"]
    print(
        f"\n{report['date']} · {m['cores']} cores, {m['memory_gib']} GiB · {report['duration_s']} s"
        f" · JSON in {args.json}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
