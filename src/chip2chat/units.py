"""Human units in catalog files, converted once to SI base units.

Leaf module: imports nothing from chip2chat. The one home of unit parsing: `parse_quantity` for a
value, `quantity` for a pydantic field (a number without its unit is an error there, and so is a
value outside the field's plausible range).

Decimal prefixes are used for bandwidth, capacity and rates, as vendors quote them
(1 TB/s = 1e12 B/s, 1 GB = 1e9 B); binary prefixes are honoured only where written
(GiB, MiB). Inside the code everything is seconds, bytes, FLOP, watts, joules.
"""

from __future__ import annotations

import math
import re

_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_SMALL = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}

# unit name -> (allowed prefix table, factor to the SI base of that quantity)
_UNITS: dict[str, tuple[str, float]] = {
    "B/s": ("big", 1.0),
    "b/s": ("big", 0.125),  # bits per second -> bytes per second
    "Bps": ("big", 1.0),
    "B": ("big", 1.0),
    "b": ("big", 0.125),
    "bit": ("big", 0.125),
    "FLOP/s": ("big", 1.0),
    "FLOPS": ("big", 1.0),
    "FLOP": ("big", 1.0),
    "OP/s": ("big", 1.0),
    "OPS": ("big", 1.0),
    "W": ("big", 1.0),
    "Wh": ("big", 3600.0),  # watt-hours -> joules
    "J": ("small", 1.0),
    "s": ("small", 1.0),
    "Hz": ("big", 1.0),
    "m2": ("small2", 1.0),
}

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_PATTERN = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµ]*?)({'|'.join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))})\s*$")

# What each quantity is called in error messages, and its base unit.
QUANTITIES = {
    "bandwidth": "B/s",
    "bytes": "B",
    "flops": "FLOP/s",
    "work": "FLOP",
    "power": "W",
    "energy": "J",
    "time": "s",
    "frequency": "Hz",
    "area": "m2",
    "bitrate": "b/s",
}
_BASE = {"B/s": "B/s", "b/s": "B/s", "Bps": "B/s", "B": "B", "b": "B", "bit": "B", "FLOP/s": "FLOP/s", "FLOP": "FLOP",
         "FLOPS": "FLOP/s", "OP/s": "FLOP/s", "OPS": "FLOP/s", "W": "W", "Wh": "J", "J": "J", "s": "s",
         "Hz": "Hz", "m2": "m2"}


class UnitError(ValueError):
    """A quantity string that cannot be read, with what was expected."""


def parse_quantity(text: str | float | int, expect: str, bare_ok: bool = False, example: str | None = None) -> float:
    """Parse '4.8 TB/s', '141 GB', '700 W', '989 TFLOP/s', '9.6 Gb/s', '3.9 pJ', '814 mm2'.

    `expect` is the SI base unit wanted ('B/s', 'B', 'FLOP/s', 'W', 'J', 's', 'Hz', 'm2').
    A number without a unit is an error (`bandwidth: 3.35` is not 3.35 B/s) unless `bare_ok`:
    then it is taken as already in the base unit (values computed in code). Returns a float in
    base units. `example` replaces the generic example in the error messages ('500 ms').
    """
    shown = f"'{example}'" if example else _example(expect)
    if isinstance(text, bool):
        raise UnitError(f"expected a quantity in {expect}, got {text!r}")
    if isinstance(text, (int, float)):
        if not bare_ok:
            raise UnitError(f"{text!r} has no unit; write it with one, e.g. {shown}")
        return float(text)
    match = _PATTERN.match(str(text))
    if not match:
        raise UnitError(f"cannot read {text!r} as a quantity in {expect} (e.g. {shown})")
    number, prefix, unit = match.groups()
    if _BASE[unit] != expect:
        raise UnitError(f"{text!r} is in {unit}, expected a quantity in {expect} (e.g. {shown})")
    kind, factor = _UNITS[unit]
    if prefix in _BINARY and kind == "big":
        scale = _BINARY[prefix]
    elif kind == "big" and prefix in _DECIMAL:
        scale = _DECIMAL[prefix]
    elif kind == "small" and prefix in _SMALL:
        scale = _SMALL[prefix]
    elif kind == "small2" and prefix in ("", "m", "c"):
        scale = {"": 1.0, "m": 1e-6, "c": 1e-4}[prefix]
    else:
        raise UnitError(f"unknown prefix {prefix!r} in {text!r}")
    return float(number) * scale * factor


SI_CONTEXT = {"si_units": True}
"""Pydantic validation context for values computed in code: bare numbers are SI base units."""


def quantity(expect: str, low: float | None = None, high: float | None = None, example: str | None = None):
    """A pydantic BeforeValidator for a dimensioned field in `expect` base units.

    A string is parsed with its unit; a bare number is an error naming an example, except under
    the SI_CONTEXT validation context (`Model.model_validate(data, context=SI_CONTEXT)`). The
    result must be finite and, where given, within [low, high]: a plausibility range that catches
    a wrong prefix (3.35 GB/s of HBM bandwidth) or a missing one."""
    from pydantic import BeforeValidator

    def parse(value, info):
        if value is None:
            return None
        si = bool(info.context and info.context.get("si_units"))
        x = parse_quantity(value, expect, bare_ok=si, example=example)
        if not math.isfinite(x):
            raise UnitError(f"{value!r} is not a finite quantity")
        if low is not None and high is not None and not low <= x <= high:
            raise UnitError(f"{format_si(x, expect)} is outside the plausible range {format_si(low, expect)} to "
                            f"{format_si(high, expect)}; check the unit and its prefix")
        return x

    return BeforeValidator(parse)


def _example(expect: str) -> str:
    return {
        "B/s": "'4.8 TB/s'",
        "B": "'141 GB'",
        "FLOP/s": "'989 TFLOP/s'",
        "W": "'700 W'",
        "J": "'3.9 pJ'",
        "s": "'2 us'",
        "Hz": "'1.98 GHz'",
        "m2": "'814 mm2'",
    }.get(expect, "'1 unit'")


def format_si(value: float, unit: str, digits: int = 3) -> str:
    """Format a base-unit value with a decimal prefix: format_si(4.8e12, 'B/s') -> '4.8 TB/s'."""
    if value == 0 or value != value:  # zero or NaN
        return f"{value:g} {unit}"
    for prefix, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3),
                          ("", 1.0), ("m", 1e-3), ("µ", 1e-6), ("n", 1e-9), ("p", 1e-12)):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"
