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

MM2 = 1e-6  # m2 per mm2

# unit as written -> (prefixes it takes, factor to its base unit, base unit). Physical quantities
# go to SI; catalog figures that the code keeps in their own units (prices per MWh, carbon per
# kWh, years) have those as their base. This is the one table of units in chip2chat.
_UNITS: dict[str, tuple[str, float, str]] = {
    "B/s": ("big", 1.0, "B/s"),
    "b/s": ("big", 0.125, "B/s"),  # bits per second -> bytes per second
    "Bps": ("big", 1.0, "B/s"),
    "B": ("big", 1.0, "B"),
    "b": ("big", 0.125, "B"),
    "bit": ("big", 0.125, "B"),
    "FLOP/s": ("big", 1.0, "FLOP/s"),
    "FLOPS": ("big", 1.0, "FLOP/s"),
    "FLOP": ("big", 1.0, "FLOP"),
    "OP/s": ("big", 1.0, "FLOP/s"),
    "OPS": ("big", 1.0, "FLOP/s"),
    "W": ("big", 1.0, "W"),
    "Wh": ("big", 3600.0, "J"),  # watt-hours -> joules
    "J": ("small", 1.0, "J"),
    "s": ("small", 1.0, "s"),
    "Hz": ("big", 1.0, "Hz"),
    "m2": ("small2", 1.0, "m2"),
    "m": ("small", 1.0, "m"),
    "%": ("none", 0.01, "1"),
    "/cm2": ("none", 1e4, "1/m2"),  # defect density
    "MTr/mm2": ("none", 1e6 / MM2, "1/m2"),  # transistors per area
    "MB/mm2": ("none", 1e6 / MM2, "B/m2"),  # SRAM density
    "USD": ("big", 1.0, "USD"),
    "USD/GB": ("none", 1e-9, "USD/B"),
    "USD/mm2": ("none", 1 / MM2, "USD/m2"),
    "USD/MW": ("big", 1.0, "USD/MW"),  # '12.7 MUSD/MW': the prefix belongs to the dollars
    "USD/MWh": ("none", 1.0, "USD/MWh"),
    "g/kWh": ("none", 1.0, "g/kWh"),
    "kg/MWh": ("none", 1.0, "g/kWh"),
    "kg/MMBtu": ("none", 1.0, "kg/MMBtu"),  # fuel carbon
    "MMBtu/MWh": ("none", 1.0, "MMBtu/MWh"),  # heat rate
    "USD/MMBtu": ("none", 1.0, "USD/MMBtu"),  # fuel price
    "USD/kW": ("big", 1e3, "USD/MW"),  # generator capex
    "USD/kWh": ("none", 1e3, "USD/MWh"),  # storage capex per energy stored
    "USD/kW/year": ("none", 1e3, "USD/MW/year"),  # fixed O&M
    "degC": ("none", 1.0, "degC"),
    "tCO2/year": ("none", 1.0, "tCO2/year"),
    "h": ("none", 3600.0, "s"),
    "years": ("none", 1.0, "year"),
    "year": ("none", 1.0, "year"),
}

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_PATTERN = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-zµ]*?)({'|'.join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))})\s*$")
_SMALL2 = {"": 1.0, "m": 1e-6, "c": 1e-4, "u": 1e-12, "µ": 1e-12}


class UnitError(ValueError):
    """A quantity string that cannot be read, with what was expected."""


def parse_quantity(text: str | float | int, expect: str, bare_ok: bool = False, example: str | None = None) -> float:
    """Parse '4.8 TB/s', '141 GB', '700 W', '989 TFLOP/s', '9.6 Gb/s', '3.9 pJ', '814 mm2'.

    `expect` is the base unit wanted ('B/s', 'B', 'FLOP/s', 'W', 'J', 's', 'Hz', 'm2', 'm', 'USD',
    'USD/B', 'USD/m2', 'B/m2', '1/m2', 'USD/MW', 'USD/MWh', 'g/kWh', 'year', '1' for a fraction in %).
    A number without a unit is an error (`bandwidth: 3.35` is not 3.35 B/s) unless `bare_ok`:
    then it is taken as already in the base unit (values computed in code). Returns a float in
    base units. `example` replaces the generic example in the error messages ('500 ms').
    """
    if isinstance(text, bool):
        raise UnitError(f"expected a quantity in {expect}, got {text!r}")
    if isinstance(text, (int, float)):
        if not bare_ok:
            raise UnitError(f"{text!r} has no unit; write it with one, e.g. {_shown(expect, example)}")
        return float(text)
    match = _PATTERN.match(str(text))
    if not match:
        raise UnitError(f"cannot read {text!r} as a quantity in {expect} (e.g. {_shown(expect, example)})")
    number, prefix, unit = match.groups()
    kind, factor, base = _UNITS[unit]
    if base != expect:
        raise UnitError(f"{text!r} is in {unit}, expected a quantity in {expect} (e.g. {_shown(expect, example)})")
    if prefix in _BINARY and kind == "big":
        scale = _BINARY[prefix]
    elif kind == "big" and prefix in _DECIMAL:
        scale = _DECIMAL[prefix]
    elif kind == "small" and prefix in _SMALL:
        scale = _SMALL[prefix]
    elif kind == "small2" and prefix in _SMALL2:
        scale = _SMALL2[prefix]
    elif kind == "none" and prefix == "":
        scale = 1.0
    else:
        raise UnitError(f"unknown prefix {prefix!r} in {text!r}")
    return float(number) * scale * factor


def unit_base(unit: str) -> str:
    """The base unit a written unit converts to: unit_base('mm2') == 'm2', unit_base('MUSD/MW') == 'USD/MW'."""
    match = _PATTERN.match(f"1 {unit}")
    if not match:
        raise UnitError(f"unknown unit {unit!r}")
    return _UNITS[match.group(3)][2]


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


def _shown(expect: str, example: str | None) -> str:
    """The example an error message shows (built only when there is an error)."""
    return f"'{example}'" if example else _example(expect)


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
