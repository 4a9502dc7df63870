"""Power caps: a chip run below its TDP, through the cost model.

The cap is a field of the chip (Accelerator.power_cap_w) and engine/timing.py is its one home in
the cost model: a step that would draw more than the cap runs at a lower clock, slower by about
(headroom ratio) ** (1 / dvfs_exponent) where it is compute-bound and not at all where its own
power stays under the cap (memory-bound decode). This module holds what the catalog says about
each chip (catalog/energy/power_caps.yaml: the fitted DVFS exponent, the lowest cap the driver
takes, the caps the plan tries) and builds capped chips from it.
"""

from __future__ import annotations

import math

import pandas as pd

from chip2chat.catalog import read_yaml
from chip2chat.errors import Chip2ChatError, ConfigError
from chip2chat.hardware.spec import Accelerator
from chip2chat.units import UnitError, parse_quantity

CATALOG = "energy/power_caps.yaml"


def _profile(hw: Accelerator) -> dict:
    return read_yaml(CATALOG).get("profiles", {}).get(hw.calibration, {})


def dvfs_exponent(hw: Accelerator) -> float:
    """The chip's fitted DVFS exponent (catalog/energy/power_caps.yaml), else Accelerator's default."""
    value = _profile(hw).get("dvfs_exponent")
    return hw.dvfs_exponent if value is None else float(value)


def min_cap_w(hw: Accelerator) -> float:
    """The lowest cap the plan uses: the driver's lowest (catalog) where that leaves the cost model
    some power for work, else the model's static power plus 10% of the TDP (the model's static
    share, 30% of the TDP by default, is above a Hopper's measured idle, so the driver's 200 W
    floor would leave an H200 nothing to compute with)."""
    floor = static_w(hw) + 0.1 * hw.tdp_w
    entry = _profile(hw).get("min_cap")
    if entry is not None:
        try:
            return max(floor, parse_quantity(entry, "W"))
        except UnitError as exc:
            raise ConfigError(f"catalog {CATALOG}", f"profiles.{hw.calibration}.min_cap", str(exc)) from None
    return floor


def static_w(hw: Accelerator) -> float:
    """Static power as the cost model takes it (the chip's figure, else its profile's share of the TDP)."""
    if hw.static_power_w is not None:
        return hw.static_power_w
    from chip2chat.hardware.calibration import load_profile

    return hw.tdp_w * load_profile(hw.calibration).static_power_fraction


def capped(hw: Accelerator, cap_w: float) -> Accelerator:
    """The chip run at `cap_w` (its TDP or below) with its DVFS exponent; the TDP itself returns the
    chip unchanged. A cap above the TDP, below the driver's minimum, or for a chip without a TDP
    is refused in one line."""
    if hw.tdp_w is None:
        raise Chip2ChatError(f"{hw.name} has no published TDP, so it cannot be power-capped: give it a tdp")
    if not math.isfinite(cap_w) or cap_w > hw.tdp_w * (1 + 1e-9):
        raise Chip2ChatError(f"power cap {cap_w:g} W for {hw.name}: must be at most its TDP ({hw.tdp_w:g} W)")
    lowest = min_cap_w(hw)
    if cap_w < lowest - 1e-9:
        raise Chip2ChatError(f"power cap {cap_w:g} W for {hw.name}: below the lowest it accepts ({lowest:g} W)")
    if cap_w >= hw.tdp_w:
        return hw
    return hw.model_copy(update={"power_cap_w": float(cap_w), "dvfs_exponent": dvfs_exponent(hw)})


def cap_grid(hw: Accelerator) -> list[float]:
    """The caps (W) the plan tries for a power-bound site: the catalog's fractions of the TDP, those
    the driver accepts, TDP first."""
    fractions = read_yaml(CATALOG)["defaults"]["caps"]
    lowest = min_cap_w(hw)
    return [hw.tdp_w * f for f in fractions if hw.tdp_w * f >= lowest]


def cap_curve(model: str, hw: Accelerator, *, tp: int, weight_dtype: str, kv_dtype: str, input_len: int,
              output_len: int, batch: int, engine: str | None = None, fractions=None) -> pd.DataFrame:
    """Output tokens/s and output tokens per joule of one static batch against the power cap (the
    cost model's estimate), one row per cap: the data of the tokens-per-joule plot."""
    from chip2chat.engine.estimate import estimate

    fractions = fractions or [f / 20 for f in range(20, 5, -1)]
    lowest = min_cap_w(hw)
    kwargs = {} if engine is None else {"engine": engine}
    rows = []
    for f in fractions:
        cap = hw.tdp_w * f
        if cap < lowest:
            continue
        e = estimate(model, capped(hw, cap), tp=tp, batch=batch, input_len=input_len, output_len=output_len,
                     weight_dtype=weight_dtype, kv_dtype=kv_dtype, **kwargs)
        rows.append({"chip": hw.name, "cap_w": cap, "cap_fraction": f, "ttft_s": e.ttft_s, "tpot_s": e.tpot_s,
                     "output_tokens_per_s": e.output_tokens_per_s,
                     "tokens_per_j": 1.0 / e.energy_per_output_token_j if e.energy_per_output_token_j else float("nan")})
    return pd.DataFrame(rows)
