"""The one home of cost arithmetic: $ per million tokens of a chip (`economics`, for sweeps) and a
fleet's yearly cost line by line (`fleet_costs`, for the plan).

`economics`: a chip's unit cost amortized over its life, plus its electricity.

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


def fleet_costs(*, chips: float, unit_price_usd: float, it_w: float, facility_mwh: float, site, prices,
                nre_usd: float = 0.0) -> dict:
    """One year of a fleet's cost, in USD, every line by itself and their total.

    Hardware (chips, the servers around them, the scale-out network) is amortized over the chips'
    life; the facility's capex per MW of IT capacity over its own; electricity is the facility's
    energy at the site's price; operations a share of the hardware's capex each year; a custom
    chip's NRE a yearly program cost, NRE / chip life (datacenter/nre.py says why).
    `site` is a SiteParams, `prices` a datacenter.prices.Prices."""
    life = site.chip_amortization_years
    chip_usd = chips * unit_price_usd
    server_usd = chips * prices.host_usd_per_chip
    network_usd = chips * prices.network_usd_per_chip
    costs = {"chip_capex_usd": chip_usd / life, "server_capex_usd": server_usd / life,
             "network_capex_usd": network_usd / life,
             "facility_capex_usd": it_w / 1e6 * site.facility_capex_usd_per_mw / site.facility_amortization_years,
             "electricity_usd": facility_mwh * site.electricity_usd_per_mwh,
             "operations_usd": prices.operations_share_per_year * (chip_usd + server_usd + network_usd),
             "nre_usd": nre_usd / life}
    costs["total_cost_usd"] = sum(costs.values())
    return costs


def per_million_tokens(total_cost_usd: float, output_tokens: float, input_tokens: float) -> dict:
    """$ per million tokens two ways: per output token (what the user reads or hears) and per
    token processed (prompt + output), both labelled in every table and report."""
    return {"usd_per_mtok": total_cost_usd / (output_tokens / 1e6),
            "usd_per_mtok_all_tokens": total_cost_usd / ((output_tokens + input_tokens) / 1e6)}
