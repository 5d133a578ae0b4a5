"""The catalog as a table: `abstrakt-queue models` prints it, and the README's model table
is its `--markdown` form (a test keeps the two equal)."""

from __future__ import annotations

from collections.abc import Iterable

from workers.catalog.models import ModelSpec
from workers.catalog.pricing import Price, Unit, effective_price, money

HEADER = ("model", "aliases", "provider", "task", "tier", "latency", "inputs", "price")
_PER = {Unit.SECOND: "s", Unit.IMAGE: "image", Unit.MEGAPIXEL: "MP", Unit.REQUEST: "request"}


def rows(models: Iterable[ModelSpec]) -> list[tuple[str, ...]]:
    return [
        (
            spec.id,
            ", ".join(spec.aliases),
            spec.provider if spec.wire_id is None else f"{spec.provider} ({spec.wire_id})",
            spec.task,
            spec.tier,
            f"~{spec.typical_latency_s:g} s",
            _inputs(spec),
            _price(effective_price(spec)),
        )
        for spec in models
    ]


def markdown(models: Iterable[ModelSpec]) -> str:
    lines = [_md_row(HEADER), _md_row(tuple("---" for _ in HEADER))]
    lines += [_md_row((f"`{row[0]}`", *row[1:])) for row in rows(models)]
    return "\n".join(lines) + "\n"


def plain(models: Iterable[ModelSpec]) -> str:
    table = [HEADER, *rows(models)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in table
    )


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _inputs(spec: ModelSpec) -> str:
    inputs, parts = spec.inputs, []
    for name in inputs.names():
        if name == "duration" and inputs.duration is not None:
            d = inputs.duration
            if d.choices is not None and not d.trim:
                parts.append(f"duration {'/'.join(f'{c:g}' for c in d.choices)} s")
            else:
                low, high = d.bounds()
                parts.append(f"duration {low:g}–{high:g} s")
        elif name == "resolution" and inputs.resolution is not None:
            r = inputs.resolution
            offered = [*r.presets, *([f"{r.custom[0]}–{r.custom[1]} px"] if r.custom else [])]
            parts.append(f"resolution {'/'.join(offered)}")
        elif name == "num_images" and inputs.num_images is not None:
            parts.append(f"num_images ≤{inputs.num_images.max}")
        else:
            parts.append(name)
    return ", ".join(parts)


def _price(price: Price) -> str:
    if price.unit is Unit.FREE:
        return "free"
    per = _PER.get(price.unit, price.unit.value)
    if price.per != 1:
        per = f"{price.per:,} {per}"
    return f"{money(price.usd)}/{per}"
