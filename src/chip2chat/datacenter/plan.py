"""`plan`: demand by year -> replicas at the SLO -> chips, servers, racks, MW, MWh, tCO2, money.

For each fleet option the serving simulator finds what one replica carries within the SLO
(capacity.py); each year's peak request rate then needs ceil(peak / capacity) replicas. Power
follows the daily load curve: a replica draws its static power plus a dynamic energy per output
token, times the server overhead, times the PUE for the facility (applied once, here). Annual
energy is that power integrated over the day's per-minute curve, times 365. Costs per year: chips
amortized over their life, the facility's capex per MW of IT capacity amortized over its life,
and electricity. The cheapest option that meets the SLO is marked per year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chip2chat.catalog import CATALOG_DIR
from chip2chat.datacenter.capacity import ReplicaCapacity, replica_capacity
from chip2chat.datacenter.scenario import FleetOption, Scenario
from chip2chat.datacenter.site import SiteParams, resolve_site
from chip2chat.engine.plan import ParallelPlan
from chip2chat.errors import Chip2ChatError, DoesNotFitError, within
from chip2chat.hardware.load import load_hardware
from chip2chat.hardware.spec import Accelerator
from chip2chat.serving.config import Slo
from chip2chat.silicon.design import load_design
from chip2chat.silicon.model import evaluate, to_accelerator

SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.0
J_PER_MWH = 3.6e9


@dataclass
class PlanResult:
    name: str
    description: str
    slo: Slo
    """The latency objectives every option was sized against."""
    table: pd.DataFrame
    """One row per (option, year); see `plan` for the columns."""
    latency: dict = field(default_factory=dict)
    """Per option: TTFT and TPOT samples (ms) at the sizing load."""
    capacities: dict = field(default_factory=dict)
    site: SiteParams | None = None
    voice: pd.DataFrame | None = None


def resolve_chip(option: FleetOption):
    """(accelerator, unit price in USD) of a fleet option; the option's `tdp` replaces the chip's."""
    if option.hardware is not None:
        hw = option.hardware if isinstance(option.hardware, Accelerator) else load_hardware(option.hardware)[1]
        price = option.unit_price_usd
    else:
        path = option.design
        candidate = CATALOG_DIR / "designs" / f"{path}.yaml"
        design = load_design(candidate if candidate.exists() else path)
        report = evaluate(design)
        hw, price = to_accelerator(design, report), option.unit_price_usd or report.unit_cost_usd
    if option.tdp_w is not None:
        hw = hw.model_copy(update={"tdp_w": option.tdp_w})
    return hw, price


def option_capacity(scenario: Scenario, option: FleetOption, hw, slo: Slo) -> ReplicaCapacity:
    svc, sz = scenario.service, scenario.sizing
    input_len, output_len = scenario.tokens_per_turn()
    return replica_capacity(svc.model, hw, plan=ParallelPlan(tp=option.tp, pp=option.pp),
                            weight_dtype=svc.weight_dtype, kv_dtype=svc.kv_dtype, engine=option.engine or svc.engine,
                            input_len=input_len,
                            output_len=output_len, slo=slo, scheduling=option.scheduling(),
                            requests=sz.requests_per_point, grid_points=sz.grid_points, seed=sz.seed)


def rack_problem(site: SiteParams, tdp_w: float | None, chip: str) -> str:
    """Why the option's servers cannot be deployed at the site ('' when they can)."""
    if tdp_w is None:
        return (f"{chip} has no published TDP, so its power, racks and energy are unknown: give the option "
                f"a `tdp` (e.g. tdp: 1000 W)")
    server_w = site.chips_per_server * tdp_w * site.server_overhead
    if server_w > site.rack_power_w:
        return (f"one {site.chips_per_server}-chip server draws {server_w / 1e3:.1f} kW ({site.chips_per_server} x "
                f"{tdp_w:,.0f} W x server overhead {site.server_overhead:g}), more than the site's "
                f"{site.rack_power_w / 1e3:.0f} kW racks: raise site.rack_power_kw or lower site.chips_per_server")
    return ""


def size_year(cap: ReplicaCapacity, *, daily_requests: float, output_tokens_per_request: int, curve: np.ndarray,
              site: SiteParams, tdp_w: float | None, unit_price_usd: float) -> dict:
    """One option in one year: the fleet, its energy over the daily curve, and its yearly cost.

    Power, racks, energy and money are NaN where they cannot be had: a chip without a TDP, or a
    server that draws more than one rack may (see `rack_problem`)."""
    mean_rate = daily_requests / SECONDS_PER_DAY
    peak_rate = mean_rate * float(curve.max())
    per_replica = cap.slo_rate_per_s or cap.max_rate_per_s  # an option that misses the SLO is sized at its maximum
    replicas = max(1, math.ceil(peak_rate / per_replica - 1e-9))
    chips = replicas * cap.devices
    servers = math.ceil(chips / site.chips_per_server)
    tokens = daily_requests * DAYS_PER_YEAR * output_tokens_per_request
    fleet = {"peak_request_rate": peak_rate, "replicas": replicas, "chips": chips, "servers": servers,
             "output_tokens": tokens}
    if rack_problem(site, tdp_w, ""):
        nan = float("nan")
        return {**fleet, **{k: nan for k in ("racks", "it_mw", "facility_mw", "it_mwh", "annual_mwh", "tco2",
                                             "chip_capex_usd", "facility_capex_usd", "electricity_usd",
                                             "total_cost_usd", "usd_per_mtok", "j_per_token")}}
    server_w = site.chips_per_server * tdp_w * site.server_overhead
    servers_per_rack = min(site.servers_per_rack_max, int(site.rack_power_w // server_w))
    racks = math.ceil(servers / servers_per_rack)
    it_w = chips * tdp_w * site.server_overhead  # provisioned (nameplate) IT power
    facility_w = it_w * site.pue
    # power over the day, minute by minute: static + dynamic energy per output token x token rate
    token_rate = mean_rate * curve * output_tokens_per_request
    it_power = (replicas * cap.static_power_w + cap.dynamic_j_per_output_token * token_rate) * site.server_overhead
    it_mwh = float(it_power.mean()) * SECONDS_PER_DAY * DAYS_PER_YEAR / J_PER_MWH
    facility_mwh = it_mwh * site.pue
    chip_capex = chips * unit_price_usd / site.chip_amortization_years
    facility_capex = it_w / 1e6 * site.facility_capex_usd_per_mw / site.facility_amortization_years
    electricity = facility_mwh * site.electricity_usd_per_mwh
    total = chip_capex + facility_capex + electricity
    return {**fleet, "racks": racks, "it_mw": it_w / 1e6, "facility_mw": facility_w / 1e6, "it_mwh": it_mwh,
            "annual_mwh": facility_mwh, "tco2": facility_mwh * site.grid_carbon_g_per_kwh / 1000.0,
            "chip_capex_usd": chip_capex, "facility_capex_usd": facility_capex, "electricity_usd": electricity,
            "total_cost_usd": total, "usd_per_mtok": total / (tokens / 1e6),
            "j_per_token": facility_mwh * J_PER_MWH / tokens}


def plan(scenario: Scenario, progress=None) -> PlanResult:
    """Every option in every year. An option that does not fit the chip's memory, misses the SLO,
    or cannot be deployed at the site (no TDP, servers above the rack power) is reported with a
    note and never marked cheapest; the others are sized."""
    site = resolve_site(scenario.site)
    d = scenario.demand
    curve = d.load_curve.weights()
    slo = scenario.service.slo.objective()  # read once; every option is sized against it
    rows, latency, caps = [], {}, {}
    for i, option in enumerate(scenario.options):
        where = f"options[{i}] ({option.name})"
        try:
            hw, price = resolve_chip(option)
        except Chip2ChatError as exc:
            raise within(where, exc) from None
        try:
            cap = option_capacity(scenario, option, hw, slo)
        except DoesNotFitError as exc:
            rows += [_unserved(scenario, option, year, hw, price, str(exc)) for year in d.years]
            if progress:
                progress(i + 1, len(scenario.options))
            continue
        except Chip2ChatError as exc:
            raise within(where, exc) from None
        caps[option.name] = cap
        latency[option.name] = {"ttft_ms": cap.ttft_ms, "tpot_ms": cap.tpot_ms}
        problem = rack_problem(site, hw.tdp_w, hw.name)
        for year in d.years:
            daily = year.daily_users * d.sessions_per_user_per_day * d.turns_per_session
            sized = size_year(cap, daily_requests=daily, output_tokens_per_request=scenario.tokens_per_turn()[1],
                              curve=curve, site=site, tdp_w=hw.tdp_w, unit_price_usd=price)
            rows.append({"option": option.name, "year": year.year, "daily_users": year.daily_users,
                         "chip": hw.name, "calibration": hw.calibration, "engine": cap.engine, "fidelity": cap.fidelity,
                         **sized,
                         "unit_price_usd": price, "meets_slo": cap.slo_rate_per_s is not None,
                         "deployable": not problem, "p99_ttft_ms": cap.p99_ttft_ms, "p99_tpot_ms": cap.p99_tpot_ms,
                         "note": "; ".join(n for n in (cap.note, problem) if n)})
        if progress:
            progress(i + 1, len(scenario.options))
    table = pd.DataFrame(rows)
    table["cheapest"] = False
    eligible = table[table["meets_slo"] & table["deployable"]]
    for _, group in eligible.groupby("year"):
        table.loc[group["total_cost_usd"].idxmin(), "cheapest"] = True
    return PlanResult(name=scenario.name, description=scenario.description, slo=slo, table=table, latency=latency,
                      capacities=caps, site=site, voice=_voice(scenario, table, caps))


def _unserved(scenario: Scenario, option: FleetOption, year, hw, price, note: str) -> dict:
    """The row of an option that cannot serve the model at all (it does not fit the chip's memory)."""
    return {"option": option.name, "year": year.year, "daily_users": year.daily_users, "chip": hw.name,
            "calibration": hw.calibration, "engine": option.engine or scenario.service.engine, "unit_price_usd": price,
            "meets_slo": False, "deployable": False, "note": note}


def _voice(scenario: Scenario, table: pd.DataFrame, caps: dict) -> pd.DataFrame | None:
    """Time to first audio with the cloud LLM's latencies of the cheapest option at its sizing load."""
    if scenario.voice is None:
        return None
    import numpy as np

    from chip2chat.voice.run import compare

    spec = scenario.voice
    cheapest = table[table["cheapest"]]
    if not caps:
        return None  # no option could serve the model: no cloud latencies to draw from
    option = cheapest["option"].iloc[-1] if len(cheapest) else next(iter(caps))
    cap = caps[option]
    df = compare(spec, np.asarray(cap.ttft_ms) / 1e3, np.asarray(cap.tpot_ms) / 1e3)
    df.insert(0, "cloud_option", option)
    return df
