"""Checks of Python API arguments: a wrong type or value is a one-line Chip2ChatError naming the
argument and what it takes, never a TypeError from deep inside.

Leaf module: imports only chip2chat.errors.
"""

from __future__ import annotations

import math

from chip2chat.errors import Chip2ChatError


def positive_int(name: str, value, low: int = 1) -> int:
    """An int >= low (a bool is not an int here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise Chip2ChatError(f"{name} must be {what}, got {value!r}")
    return value


def number(name: str, value, *, low: float | None = None, high: float | None = None, low_open: bool = False,
           optional: bool = False) -> float | None:
    """A finite number in [low, high] ((low, high] with low_open); None where `optional`."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Chip2ChatError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    if too_low or (high is not None and value > high):
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"<= {high:g}"
        raise Chip2ChatError(f"{name} must be {' and '.join(p for p in (lo, hi) if p)}, got {value!r}")
    return float(value)


def one_of(name: str, value, choices) -> str:
    if value not in choices:
        raise Chip2ChatError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def instance(name: str, value, types: tuple[type, ...], what: str):
    """`value` if it is one of `types`; else an error saying `what` the argument takes."""
    if not isinstance(value, types):
        raise Chip2ChatError(f"{name} must be {what}, got {value!r}")
    return value
