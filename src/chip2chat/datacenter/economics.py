"""$ per million tokens of a chip: its unit cost amortized over its life, plus its electricity.

$ per million output tokens = (unit cost x chips / amortization + power x PUE x electricity price)
/ tokens per second. Defaults: a 5-year chip life (hyperscalers' server depreciation,
catalog/sites.yaml chip_amortization) and the 2023 US industrial average electricity price,
8.06 US cents/kWh (EIA via Statista, shared/facts/datacenter_energy.csv). Floats or numpy arrays.
"""

from __future__ import annotations

SECONDS_PER_YEAR = 365.25 * 24 * 3600
ECONOMICS = {"amortization_years": 5.0, "electricity_usd_per_kwh": 0.0806, "pue": 1.0}


def economics(unit_cost_usd, chips, tokens_per_s, power_w, econ: dict) -> dict:
    """$ per million output tokens from amortized chips and electricity (floats or arrays)."""
    e = {**ECONOMICS, **econ}
    capex_per_s = unit_cost_usd * chips / (e["amortization_years"] * SECONDS_PER_YEAR)
    energy_per_s = power_w * e["pue"] * e["electricity_usd_per_kwh"] / 3.6e6
    return {"usd_per_mtok": (capex_per_s + energy_per_s) / tokens_per_s * 1e6,
            "capex_usd_per_mtok": capex_per_s / tokens_per_s * 1e6}
