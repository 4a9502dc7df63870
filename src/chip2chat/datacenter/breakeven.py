"""Does a custom chip pay off? Its break-even fleet and year against each GPU, and what moves the answer.

Within a plan each option's yearly cost is nearly linear in the tokens it serves: a custom chip
costs its NRE's yearly share (NRE / chip life, datacenter/nre.py) plus `a_custom` per output token
(chips, servers, network, facility, electricity, operations), a GPU `a_gpu` per token. They cost
the same at

    break-even demand T* = NRE per year / (a_gpu - a_custom)   [output tokens a year]

which the custom option serves with `T* x its chips per token` chips: the break-even fleet. The
per-token costs are read from the plan's last year that both options serve (the largest fleets,
where replica rounding matters least). Where a_gpu <= a_custom the custom chip never pays, at any
volume. The break-even year is the first plan year whose demand reaches T*: more demand can only
bring it earlier, and a larger NRE only raise T* (tests/datacenter/test_breakeven.py).

The tornado moves one lever at a time between a low and a high value and reports the custom
chip's cumulative saving over the plan against the cheapest GPU (positive: the custom chip
pays), from the plan's own yearly costs plus the lever's change, without re-simulating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NEVER = "never within the plan"

LEVERS = {
    "NRE": (0.5, 2.0, ("x0.5 to x2: headline NRE figures run high for replicated AI arrays "
                       "(Semiconductor Engineering); Reuters' N3 estimate could double with software")),
    "HBM price": (0.5, 1.5, "x0.5 to x1.5 of the catalog's HBM $/GB (a low-confidence contract price)"),
    "yield": (0.5, 2.0, "defect density x0.5 (better yield) to x2 (worse)"),
    "GPU price": (0.7, 1.3, "x0.7 to x1.3: street prices vary +-20-40% by volume and quarter"),
    "demand growth": (0.5, 1.5, "growth after the first year x0.5 to x1.5 (in log terms)"),
}
"""Lever -> (low, high, what the range means)."""


@dataclass(frozen=True)
class BreakEven:
    custom: str
    gpu: str
    custom_usd_per_mtok: float
    """The custom option's cost per million output tokens without its NRE, in the year compared."""
    gpu_usd_per_mtok: float
    nre_usd_per_year: float
    demand_tokens_per_year: float | None
    """Break-even output tokens a year; None: the custom chip never pays."""
    fleet_chips: float | None
    """Custom chips at the break-even demand; None: never."""
    year: int | None
    """First plan year whose demand reaches the break-even; None: never within the plan."""
    compared_year: int
    largest_fleet: float
    """The custom option's largest fleet in the plan (chips)."""

    @property
    def why(self) -> str:
        base = (f"{self.custom} costs ${self.custom_usd_per_mtok:,.3f}/Mtok output before NRE vs {self.gpu} "
                f"${self.gpu_usd_per_mtok:,.3f} ({self.compared_year})")
        if self.fleet_chips is None:
            return f"{base}: it never pays, at any volume"
        reach = (f"the plan reaches it in {self.year}" if self.year is not None else
                 f"{NEVER}: its largest fleet is {self.largest_fleet:,.0f} chips")
        return (f"{base}; the NRE's ${self.nre_usd_per_year / 1e6:,.0f}M a year is recovered at "
                f"{self.fleet_chips:,.0f} chips: {reach}")


def break_even_demand(nre_usd_per_year: float, custom_usd_per_token: float, gpu_usd_per_token: float) -> float | None:
    """Output tokens a year at which the custom chip (NRE included) costs what the GPU does; None: never."""
    saving = gpu_usd_per_token - custom_usd_per_token
    if saving <= 0:
        return None
    return nre_usd_per_year / saving


def break_even_year(years, demand_by_year, demand: float | None) -> int | None:
    """The first year whose demand reaches `demand`; None where none does."""
    if demand is None:
        return None
    for year, d in sorted(zip(years, demand_by_year)):
        if d >= demand:
            return int(year)
    return None


def _served(table: pd.DataFrame, option: str) -> pd.DataFrame:
    rows = table[(table["option"] == option) & table["meets_slo"].astype(bool) & table["deployable"].astype(bool)]
    return rows.set_index("year").sort_index()


def compare(table: pd.DataFrame, custom: str, gpu: str) -> BreakEven | None:
    """The custom option against one GPU option in a plan table; None where they share no served year."""
    c, g = _served(table, custom), _served(table, gpu)
    years = sorted(set(c.index) & set(g.index))
    if not years:
        return None
    last = years[-1]
    nre = float(c.loc[last, "nre_usd"])
    a_c = (float(c.loc[last, "total_cost_usd"]) - nre) / float(c.loc[last, "output_tokens"])
    a_g = float(g.loc[last, "total_cost_usd"]) / float(g.loc[last, "output_tokens"])
    demand = break_even_demand(nre, a_c, a_g)
    chips_per_token = float(c.loc[last, "chips"]) / float(c.loc[last, "output_tokens"])
    return BreakEven(custom=custom, gpu=gpu, custom_usd_per_mtok=a_c * 1e6, gpu_usd_per_mtok=a_g * 1e6,
                     nre_usd_per_year=nre, demand_tokens_per_year=demand,
                     fleet_chips=None if demand is None else demand * chips_per_token,
                     year=break_even_year(c.index, c["output_tokens"], demand), compared_year=int(last),
                     largest_fleet=float(c["chips"].max()))


def break_even_table(table: pd.DataFrame, customs: list[str], gpus: list[str]) -> pd.DataFrame:
    """One row per (custom design, GPU): break-even fleet and year (or never) and why."""
    rows = []
    for custom in customs:
        for gpu in gpus:
            be = compare(table, custom, gpu)
            if be is None:
                rows.append({"custom": custom, "gpu": gpu, "break_even_chips": np.nan, "break_even_year": NEVER,
                             "why": f"{custom} and {gpu} serve no common year within the SLO at the site"})
                continue
            rows.append({"custom": custom, "gpu": gpu, "compared_year": be.compared_year,
                         "custom_usd_per_mtok_before_nre": be.custom_usd_per_mtok,
                         "gpu_usd_per_mtok": be.gpu_usd_per_mtok, "nre_usd_per_year": be.nre_usd_per_year,
                         "break_even_chips": np.nan if be.fleet_chips is None else be.fleet_chips,
                         "break_even_year": NEVER if be.year is None else str(be.year),
                         "largest_custom_fleet": be.largest_fleet, "why": be.why})
    return pd.DataFrame(rows)


def cumulative_saving(table: pd.DataFrame, custom: str, gpu: str) -> float:
    """The custom option's saving over the plan's years against the GPU (sum of yearly totals)."""
    c, g = _served(table, custom), _served(table, gpu)
    years = sorted(set(c.index) & set(g.index))
    return float(g.loc[years, "total_cost_usd"].sum() - c.loc[years, "total_cost_usd"].sum())


def tornado(table: pd.DataFrame, custom: str, gpu: str, *, amortization_years: float, operations_share: float,
            custom_unit_price_at) -> pd.DataFrame:
    """The cumulative saving at each lever's low and high value, the others at the plan's.

    `custom_unit_price_at(hbm_factor=1.0, defect_factor=1.0)` gives the custom chip's unit price
    (manufacturing x (1 + markup)) with the HBM price or the defect density scaled."""
    c, g = _served(table, custom), _served(table, gpu)
    years = sorted(set(c.index) & set(g.index))
    c, g = c.loc[years], g.loc[years]
    base = float(g["total_cost_usd"].sum() - c["total_cost_usd"].sum())
    per_unit_year = 1.0 / amortization_years + operations_share  # a unit price's yearly weight (capex + operations)
    base_price = custom_unit_price_at()

    def custom_price_change(**factor) -> float:
        return -float(c["chips"].sum()) * (custom_unit_price_at(**factor) - base_price) * per_unit_year

    tokens = c["output_tokens"].to_numpy(dtype=float)
    variable = ((g["total_cost_usd"] / g["output_tokens"]) - (c["total_cost_usd"] - c["nre_usd"]) / c["output_tokens"])

    def demand_change(exponent: float) -> float:
        scaled = tokens[0] * (tokens / tokens[0]) ** exponent
        return float((variable.to_numpy(dtype=float) * (scaled - tokens)).sum())

    change = {
        "NRE": lambda f: -(f - 1.0) * float(c["nre_usd"].sum()),
        "HBM price": lambda f: custom_price_change(hbm_factor=f),
        "yield": lambda f: custom_price_change(defect_factor=f),
        "GPU price": lambda f: (f - 1.0) * float((g["chips"] * g["unit_price_usd"]).sum()) * per_unit_year,
        "demand growth": demand_change,
    }
    rows = [{"lever": lever, "low": low, "high": high, "range": text, "saving_low_usd": base + change[lever](low),
             "saving_high_usd": base + change[lever](high), "saving_base_usd": base}
            for lever, (low, high, text) in LEVERS.items()]
    out = pd.DataFrame(rows)
    out["swing_usd"] = (out["saving_high_usd"] - out["saving_low_usd"]).abs()
    return out.sort_values("swing_usd", ascending=False, kind="stable").reset_index(drop=True)
