"""Frame sizes: presets rotated by an aspect ratio, and the label of a width × height."""

from __future__ import annotations

from fractions import Fraction

from workers.media.formats import PRESETS

LABELS = ("16:9", "9:16", "1:1", "4:3", "3:4")


def aspect_label(width: int, height: int) -> str:
    ratio = Fraction(width, height)
    for label in LABELS:
        a, b = (int(x) for x in label.split(":"))
        if abs(float(ratio) - a / b) < 0.01:
            return label
    return f"{ratio.numerator}:{ratio.denominator}"


def apply_aspect(size: tuple[int, int], aspect: str) -> tuple[int, int]:
    """`size` turned to `aspect`. A preset (a landscape size) keeps its short edge, as "480p"
    means 480 lines whatever the shape; a square default keeps its edge as the long one."""
    a, b = (int(x) for x in aspect.split(":"))
    long_edge, short_edge = max(size), min(size)
    if long_edge == short_edge:
        return (
            (long_edge, _even(long_edge * b / a))
            if a >= b
            else (_even(long_edge * a / b), long_edge)
        )
    return (
        (_even(short_edge * a / b), short_edge)
        if a >= b
        else (short_edge, _even(short_edge * b / a))
    )


def preset_of(size: tuple[int, int]) -> str | None:
    """The preset whose short edge this size has (854×480 and 480×480 are both 480p)."""
    return next((name for name, preset in PRESETS.items() if min(size) == min(preset)), None)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)
