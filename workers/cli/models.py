"""`abstrakt-queue models`: the catalog as a table (the README's is its `--markdown`)."""

from __future__ import annotations

import argparse

from workers.catalog.registry import all_models
from workers.catalog.table import markdown, plain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--markdown", action="store_true", help="a Markdown table (the README's model table)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Every model of the catalog (with MODELS_FILE's, and MODEL_PRICES_USD's prices)."""
    print(markdown(all_models()) if args.markdown else plain(all_models()), end="")
    return 0
