"""The plan's power-limited view: MW needed vs available, the power cap, users served, the supply mix.

For each option and year the plan's fleet needs facility power at its busiest month (provisioned
IT power x that month's PUE). Where the site has less, it serves only part of the demand, and a
power cap may serve more: at cap c a chip is provisioned c + the server's overhead (which does not
shrink with the cap) and carries the throughput ratio r(c) of the cost model's estimate of the
scenario's turn under the cap (engine/timing.py; a compute-bound prefill slows, a memory-bound
decode barely). Users served at cap c = daily users x min(1, available / needed(c) x r(c)); the
cap that serves the most is chosen (the TDP on ties) where its fleet, re-simulated with the capped
chips at the rate a capped step carries (its SLO rate x r(c)), still meets the p99 TTFT and TPOT
of the SLO (`recheck`, datacenter/capacity.capped_within_slo; the next cap otherwise, at most
RECHECKS of them, then the TDP). The candidates are screened first by the estimate's latency
ratios (`_ratios`), so a cap the static batch already puts outside the SLO is never simulated.

For the cheapest option each year, the served fleet's hourly load (static power all day, dynamic
energy per output token times the hour's token rate, times the server overhead and the month's
PUE) goes to the supply-mix LP (mix.py) with the site's hourly grid price and carbon (grid.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chip2chat.datacenter.site import SiteParams, grid_power_w, resolve_site, site_power_w
from chip2chat.energy.grid import load_grid, hourly_carbon, hourly_price, monthly_pue
from chip2chat.energy.mix import InfeasibleMix, solve_mix
from chip2chat.energy.power_cap import cap_curve, cap_grid, static_w
from chip2chat.energy.supply import catalog_options, supply_option
from chip2chat.errors import Chip2ChatError, within

BATCH = 64
"""Static batch of the cap-ratio estimate: a busy decode batch of a serving replica."""
DAYS_PER_YEAR = 365.0


@dataclass
class EnergyView:
    site: str
    """The site's name, and those its demand overflows to ('us-hyperscale + kr-seoul')."""
    power: pd.DataFrame
    """One row per (option, year, site that demand reaches): MW needed and available, the chosen cap,
    users offered, served and left (unmet at the last site), and the requests and output tokens a
    year those users would have asked for."""
    supply: pd.DataFrame
    """One row per (year, site) of the cheapest option's served fleet: the mix, $/MWh, tCO2, 24/7 CFE
    share, $/Mtok."""
    mixes: dict = field(default_factory=dict)
    """(site, year) -> MixResult (its hourly dispatch for the plot)."""
    cap_curve: pd.DataFrame | None = None
    """Tokens/s and tokens per joule against the cap, for the chips of the plan."""
    pue_monthly: list = field(default_factory=list)


def _curve(scenario, option, hw, fractions=None) -> pd.DataFrame:
    svc = scenario.service
    input_len, output_len = scenario.tokens_per_turn()
    return cap_curve(svc.model, hw, tp=option.tp, weight_dtype=svc.weight_dtype, kv_dtype=svc.kv_dtype,
                     input_len=input_len, output_len=output_len, batch=BATCH, engine=option.engine or svc.engine,
                     fractions=fractions).assign(option=option.name)


def _ratios(curve: pd.DataFrame, slo, p99_ttft_ms: float, p99_tpot_ms: float) -> dict:
    """cap -> (throughput ratio, energy-per-token ratio) against the TDP (the curve's first row), for
    the caps under which the option's simulated p99 TTFT and TPOT at its sizing load, stretched by
    the estimate's latency ratios, stay within the SLO (or no worse than at the TDP)."""
    base = curve.iloc[0]
    out = {}
    for r in curve.itertuples():
        ttft = p99_ttft_ms * r.ttft_s / base.ttft_s
        tpot = p99_tpot_ms * r.tpot_s / base.tpot_s
        if (ttft <= max(slo.ttft_ms, p99_ttft_ms) or math.isnan(ttft)) and (tpot <= max(slo.tpot_ms, p99_tpot_ms)
                                                                           or math.isnan(tpot)):
            out[float(r.cap_w)] = (r.output_tokens_per_s / base.output_tokens_per_s, base.tokens_per_j / r.tokens_per_j)
    return out


@dataclass(frozen=True)
class _Site:
    """A site as the view uses it: its figures, its grid (or None) and its PUE by month."""

    params: SiteParams
    grid: object
    pue: np.ndarray

    @classmethod
    def of(cls, params: SiteParams) -> "_Site":
        e = params.energy
        grid = load_grid(e.grid) if e.grid else None
        pue = monthly_pue(params.pue, grid.temperature_c, e.cooling) if grid else np.full(12, params.pue)
        return cls(params, grid, pue)


def _sites(site: SiteParams) -> list[_Site]:
    """The site, then the catalog sites its demand overflows to, in order."""
    from chip2chat.datacenter.scenario import Site

    out = [_Site.of(site)]
    for name in site.energy.overflow:
        out.append(_Site.of(resolve_site(Site(catalog=name))))
    return out


def _ranked_caps(ratios: dict, needed_w: float, available_w: float, overhead: float, tdp_w: float) -> list:
    """[(cap, share of `needed_w`'s demand served)], most served first (the higher cap on ties), the
    TDP among them: at cap c a chip is provisioned c + (overhead - 1) x TDP (the server's share does
    not shrink) and runs at the cap's throughput ratio."""
    out = {tdp_w: min(1.0, available_w / needed_w) if needed_w > 0 else 1.0}
    for cap_w, (speed, _) in ratios.items():
        needed_c = needed_w * (cap_w + (overhead - 1.0) * tdp_w) / (overhead * tdp_w)
        out.setdefault(cap_w, min(1.0, available_w / needed_c * speed) if needed_c > 0 else 1.0)
    return sorted(out.items(), key=lambda cs: (-round(cs[1], 9), -cs[0]))


RECHECKS = 3
"""Caps re-simulated per option and configuration at most (the most serving first); past them the TDP."""


def _best_cap(ranked: list, tdp_w: float, check) -> tuple[float, float, str]:
    """(cap, share served, note): the first of `ranked` whose capped fleet `check(cap)` finds within
    the SLO (None: not re-simulated); the TDP needs no check (the plan sized the fleet at it)."""
    tried = []
    for cap_w, served in ranked:
        if cap_w >= tdp_w or check is None:
            return cap_w, served, _missed(tried)
        if len(tried) == RECHECKS:
            break
        ok, why = check(cap_w)
        if ok:
            return cap_w, served, _missed(tried)
        tried.append(f"{cap_w:.0f} W ({why})")
    return tdp_w, next(s for c, s in ranked if c >= tdp_w), _missed(tried)


def _missed(tried: list) -> str:
    return "re-simulated, the SLO missed at " + "; ".join(tried) if tried else ""


def power_view(scenario, site: SiteParams, table: pd.DataFrame, chip_of, recheck=None) -> EnergyView:
    """The power-limited view of a plan's table; `chip_of(option)` gives an option's Accelerator.
    Demand the site cannot power goes to the sites of `site.energy.overflow`, in order; what none
    can power is unmet. `recheck(option, configuration, share of the TDP, throughput_ratio)` ->
    (within the SLO, why not): the capped fleet re-simulated (datacenter/capacity.capped_within_slo); None: the
    caps are judged by the estimate's latency ratios alone."""
    sites = _sites(site)
    output_len = scenario.tokens_per_turn()[1]
    rows, curves, ratios_by_option, cap_notes, checked = [], [], {}, {}, {}
    for i, option in enumerate(scenario.options):
        part = table[(table["option"] == option.name)]
        if part.empty or "it_mw" not in part or part["it_mw"].isna().all():
            continue
        hw = chip_of(option)
        for r in part.itertuples():
            if not isinstance(r.it_mw, float) or math.isnan(r.it_mw):
                continue
            tokens_per_user = r.output_tokens / r.daily_users  # output tokens a user asks for in a year
            offered = r.daily_users
            for k, st in enumerate(sites):
                if k and offered <= 0:
                    break
                available = site_power_w(st.params.energy, r.year)
                # provisioned IT power for the demand still offered, at this site's busiest month
                needed_w = r.it_mw * 1e6 * offered / r.daily_users * float(st.pue.max())
                row = {"option": option.name, "year": r.year, "site": st.params.name, "mw_needed": needed_w / 1e6,
                       "mw_available": math.nan if available is None else available / 1e6, "power_bound": False,
                       "cap_w": hw.tdp_w, "users_offered": offered, "users_served": offered}
                if available is not None and needed_w > available:
                    if option.name not in ratios_by_option:
                        try:
                            curve = _curve(scenario, option, hw, [c / hw.tdp_w for c in cap_grid(hw)])
                            ratios_by_option[option.name] = _ratios(curve, scenario.service.slo.objective(),
                                                                    getattr(r, "p99_ttft_ms", math.nan),
                                                                    getattr(r, "p99_tpot_ms", math.nan))
                        except Chip2ChatError as exc:  # the cost model cannot cap it: the TDP only, said why
                            ratios_by_option[option.name] = {}
                            cap_notes[option.name] = f"no power cap tried: {within(f'options[{i}]', exc)}"
                    ratios = ratios_by_option[option.name]
                    config = getattr(r, "configuration", "")

                    def check(cap_w, option=option, config=config, ratios=ratios, tdp_w=hw.tdp_w):
                        key = (option.name, config, cap_w)
                        if key not in checked:
                            checked[key] = recheck(option, config, cap_w / tdp_w, ratios[cap_w][0])
                        return checked[key]

                    ranked = _ranked_caps(ratios, needed_w, available, st.params.server_overhead, hw.tdp_w)
                    cap_w, served, why = _best_cap(ranked, hw.tdp_w, check if recheck else None)
                    row.update(power_bound=True, cap_w=cap_w, users_served=offered * served)
                    row["note"] = "; ".join(n for n in (cap_notes.get(option.name, ""), why) if n)
                else:
                    row["note"] = ""
                row["users_unmet"] = offered - row["users_served"]  # what this site leaves (to the next)
                row["tokens_unmet"] = row["users_unmet"] * tokens_per_user
                row["requests_unmet"] = row["tokens_unmet"] / output_len
                row["served_share"] = row["users_served"] / r.daily_users
                rows.append(row)
                offered = row["users_unmet"]
    power = pd.DataFrame(rows)
    supply, mixes = _supply(table, power, sites, ratios_by_option, chip_of, scenario)
    for option in _plotted(scenario, table):
        try:
            curves.append(_curve(scenario, option, chip_of(option)))
        except Chip2ChatError:
            continue  # a chip the cost model cannot cap (no TDP): no curve, the view stands
    return EnergyView(site=" + ".join(st.params.name for st in sites), power=power, supply=supply, mixes=mixes,
                      cap_curve=pd.concat(curves, ignore_index=True) if curves else None,
                      pue_monthly=sites[0].pue.tolist())


def _plotted(scenario, table: pd.DataFrame) -> list:
    """The options whose tokens-per-joule curve the report draws: each year's cheapest, once."""
    if "cheapest" not in table:
        return []
    names = list(dict.fromkeys(table.loc[table["cheapest"], "option"]))
    return [o for o in scenario.options if o.name in names]


def _options(energy) -> dict:
    names = energy.supply if energy.supply is not None else catalog_options()
    return {n: supply_option(n) for n in names}


def _supply(table, power, sites, ratios, chip_of, scenario) -> tuple[pd.DataFrame, dict]:
    """The supply mix of each year's cheapest option at each site that serves part of it, at the cap
    and share the power view chose. `mixes`: (site, year) -> MixResult."""
    if power.empty or "cheapest" not in table:
        return pd.DataFrame(), {}
    hour_weights = scenario.demand.load_curve.weights().reshape(24, -1).mean(axis=1)  # mean 1 over the day
    rows, mixes = [], {}
    for r in table[table["cheapest"]].itertuples():
        if not r.it_mwh > 0:
            continue
        hw = chip_of(next(o for o in scenario.options if o.name == r.option))
        for st in sites:
            p = power[(power["option"] == r.option) & (power["year"] == r.year) & (power["site"] == st.params.name)]
            if p.empty or st.grid is None or not p.iloc[0]["users_served"] > 0:
                continue
            mix_row, mix = _site_mix(r, p.iloc[0], st, hw, ratios, hour_weights)
            rows.append(mix_row)
            if mix is not None:
                mixes[(st.params.name, r.year)] = mix
    return pd.DataFrame(rows), mixes


def _site_mix(r, p, st: _Site, hw, ratios, hour_weights):
    """(supply row, MixResult or None) of one site's share of a year's cheapest fleet."""
    site, energy, grid = st.params, st.params.energy, st.grid
    share = float(p["served_share"])
    energy_ratio = ratios.get(r.option, {}).get(float(p["cap_w"]), (1.0, 1.0))[1]
    # IT power through the day: the chips' static power all day (the model's static share of the
    # provisioned IT power), the rest of the plan's annual IT energy following the load curve; the
    # served share and the cap's energy per token scale both
    static_mw = r.it_mw * static_w(hw) / hw.tdp_w * share
    mean_mw = r.it_mwh / (DAYS_PER_YEAR * 24.0) * share * energy_ratio
    static_mw = min(static_mw, mean_mw)
    load = np.outer(st.pue, static_mw + (mean_mw - static_mw) * hour_weights)
    grid_w = grid_power_w(energy, r.year)
    connection = grid_w / 1e6 if grid_w is not None else float(load.max()) * 10.0
    head = {"year": r.year, "option": r.option, "site": site.name, "mw_needed": p["mw_needed"],
            "mw_available": p["mw_available"], "cap_w": p["cap_w"], "served_share": share}
    options = _options(energy)
    try:
        mix = solve_mix(load, grid_mw=connection, price_usd_per_mwh=hourly_price(grid, site.electricity_usd_per_mwh),
                        wholesale_usd_per_mwh=grid.wholesale_mean_usd_per_mwh * grid.price_shape,
                        carbon_g_per_kwh=hourly_carbon(grid, site.grid_carbon_g_per_kwh), options=options,
                        grid=energy.grid, gas_usd_per_mmbtu=grid.gas_usd_per_mmbtu, max_mw=_max_mw(energy, options),
                        carbon_target_t=energy.carbon_target, onsite_mw=energy.onsite_w / 1e6,
                        cfe_target=energy.cfe_target, grid_cfe_share=grid.carbon_free_share)
    except InfeasibleMix as exc:  # the year has no mix here; the plan and the other years stand
        return {**head, "note": str(exc)}, None
    tokens = r.output_tokens * share
    flat = mix.load_mwh * site.electricity_usd_per_mwh
    return {**head, "note": "", "load_mwh": mix.load_mwh, "peak_load_mw": float(load.max()),
            **{f"mw_{k}": v for k, v in mix.capacity_mw.items()}, **{f"mwh_{k}": v for k, v in mix.energy_mwh.items()},
            "supply_usd": mix.total_usd, "usd_per_mwh": mix.usd_per_mwh, "tco2": mix.tco2, "cfe_share": mix.cfe_share,
            "usd_per_mtok_energy": mix.total_usd / (tokens / 1e6), "usd_per_mtok_energy_flat": flat / (tokens / 1e6),
            "tco2_flat": mix.load_mwh * site.grid_carbon_g_per_kwh / 1000.0}, mix


def _max_mw(energy, options) -> dict:
    """supply_max in the LP's units: MW, and MWh for a battery (its power x its duration)."""
    out = {}
    for name, w in energy.supply_max.items():
        if name not in options:
            raise Chip2ChatError(f"site energy: supply_max names {name!r}, which is not among the supply options "
                                 f"({', '.join(options)})")
        o = options[name]
        out[name] = w / 1e6 * (o.duration_s / 3600.0 if hasattr(o, "duration_s") else 1.0)
    return out
