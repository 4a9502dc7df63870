"""`plan`: demand by year -> replicas at the SLO -> chips, servers, racks, MW, MWh, tCO2, money.

For each fleet option the configuration search finds its serving configurations and what each
carries within the SLO, its own tp/pp among them (capacity.py); each year's peak request rate then
needs ceil(peak / (capacity x target utilisation)) replicas (+ spare ones) of the configuration
that needs the fewest chips, so never more than at the option's fixed tp. Power
follows the daily load curve: a replica draws its static power plus a dynamic energy per output
token, times the server overhead, times the PUE for the facility (applied once, here). Annual
energy is that power integrated over the day's per-minute curve, times 365. Costs per year: chips
amortized over their life, the facility's capex per MW of IT capacity amortized over its life,
and electricity. The cheapest option that meets the SLO is marked per year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd

from chip2chat.catalog import CATALOG_DIR
from chip2chat.datacenter.capacity import Headroom, OptionCapacity, capped_within_slo, in_processes
from chip2chat.datacenter.capacity import option_capacity as search_capacity
from chip2chat.datacenter.economics import fleet_costs, per_million_tokens
from chip2chat.datacenter.nre import catalog_price, design_price
from chip2chat.datacenter.payoff import custom_chip_economics, plan_assumptions
from chip2chat.datacenter.prices import Prices, load_prices
from chip2chat.datacenter.scenario import FleetOption, Scenario
from chip2chat.datacenter.site import SiteParams, resolve_site
from chip2chat.energy.view import EnergyView, power_view
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
COST_COLUMNS = ("chip_capex_usd", "server_capex_usd", "network_capex_usd", "facility_capex_usd", "electricity_usd",
                "operations_usd", "nre_usd", "total_cost_usd")
"""A year's cost lines (economics.fleet_costs), in USD; the total is their sum."""


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
    prices: dict = field(default_factory=dict)
    """Per option: its datacenter.nre.ChipPrice (unit price, kind, source, NRE)."""
    assumptions: list = field(default_factory=list)
    """Every price and coefficient the money rests on (datacenter.prices.Assumption), with its source."""
    break_even: pd.DataFrame | None = None
    """Per (custom design, GPU): break-even fleet and year, or never, and why (datacenter/breakeven.py)."""
    tornado: pd.DataFrame | None = None
    """The custom design's cumulative saving against the cheapest GPU, lever by lever."""
    energy: EnergyView | None = None
    """The site's power-limited view and supply mix by year (energy/view.py)."""


def resolve_chip(option: FleetOption, prices: Prices, where: str = "options[0]"):
    """(accelerator, ChipPrice) of a fleet option; the option's `tdp` replaces the chip's. A catalog
    chip is priced at the option's unit_price_usd or its catalog price; a design at its modelled
    manufacturing cost plus the design partner's markup, with its node's NRE (datacenter/nre.py)."""
    if option.hardware is not None:
        hw = option.hardware if isinstance(option.hardware, Accelerator) else load_hardware(option.hardware)[1]
        price = catalog_price(hw, option.unit_price_usd, where)
    else:
        design = option_design(option)
        report = evaluate(design)
        hw = to_accelerator(design, report)
        price = design_price(design.process_node, report.unit_cost_usd, prices, given_usd=option.unit_price_usd,
                             nre_usd=option.nre_usd, partner=option.design_partner)
    if option.tdp_w is not None:
        hw = hw.model_copy(update={"tdp_w": option.tdp_w})
    return hw, price


def option_design(option: FleetOption):
    """The option's chip design: a name in catalog/designs/ or a path."""
    candidate = CATALOG_DIR / "designs" / f"{option.design}.yaml"
    return load_design(candidate if candidate.exists() else option.design)


def resolve_decode(option: FleetOption, prices: Prices, where: str, hw, search: bool):
    """(accelerator, ChipPrice) of the option's decode chip, or None when it names none."""
    if option.decode is None:
        return None
    if not search:
        raise Chip2ChatError("decode: a decode chip needs the configuration search (sizing.search: true)")
    dec = decode_chip(option)
    if dec.name == hw.name:
        raise Chip2ChatError(f"decode: {dec.name} is the option's own chip; name another chip, or drop decode")
    return dec, catalog_price(dec, option.decode.unit_price_usd, f"{where}.decode")


def decode_chip(option: FleetOption):
    """The option's decode chip as an Accelerator (its `tdp` in place of the chip's), or None."""
    d = option.decode
    if d is None:
        return None
    dec = d.hardware if isinstance(d.hardware, Accelerator) else load_hardware(d.hardware)[1]
    return dec if d.tdp_w is None else dec.model_copy(update={"tdp_w": d.tdp_w})


def option_capacity(scenario: Scenario, option: FleetOption, hw, slo: Slo, unit_gpus: int) -> OptionCapacity:
    """The option's serving configurations at the SLO on `unit_gpus` chips (one server), its own
    tp/pp among them (datacenter/capacity.py)."""
    svc, sz = scenario.service, scenario.sizing
    input_len, output_len = scenario.tokens_per_turn()
    return search_capacity(svc.model, hw, plan=ParallelPlan(tp=option.tp, pp=option.pp), scheduling=option.scheduling(),
                           weight_dtype=svc.weight_dtype, kv_dtype=svc.kv_dtype, engine=option.engine or svc.engine,
                           input_len=input_len, output_len=output_len, slo=slo, unit_gpus=unit_gpus,
                           search=sz.search, headroom=Headroom(sz.headroom.target_utilization, sz.headroom.spare_replicas),
                           prefix=scenario.prefix_sharing(), decode_hardware=decode_chip(option),
                           requests=sz.requests_per_point,
                           finalists=sz.finalists, tolerance=sz.tolerance, seed=sz.seed)


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


def size_year(cap: OptionCapacity, *, daily_requests: float, output_tokens_per_request: int, curve: np.ndarray,
              site: SiteParams, tdp_w: float | None, unit_price_usd: float, input_tokens_per_request: int = 0,
              prices: Prices | None = None, nre_usd: float = 0.0, decode=None) -> dict:
    """One option in one year: the fleet, its energy over the daily curve, and its yearly cost.
    `decode`: (accelerator, ChipPrice) of the option's decode chip: where the year's deployment
    uses it, the price and TDP per chip are the chips' mix (the `decode_chips` column counts them).

    Power, racks, energy and money are NaN where they cannot be had: a chip without a TDP, or a
    server that draws more than one rack may (see `rack_problem`)."""
    mean_rate = daily_requests / SECONDS_PER_DAY
    peak_rate = mean_rate * float(curve.max())
    # the configuration that needs the fewest chips at this peak, with the headroom (capacity.py)
    deployment, replicas = cap.sized(peak_rate)
    chips = replicas * deployment.devices
    extra = {}
    if decode is not None:
        share = dict(deployment.chips).get(decode[0].name, 0) / deployment.devices
        unit_price_usd = (1 - share) * unit_price_usd + share * decode[1].unit_price_usd
        tdp_w = None if tdp_w is None or decode[0].tdp_w is None else (1 - share) * tdp_w + share * decode[0].tdp_w
        extra = {"decode_chip": decode[0].name, "decode_chips": round(chips * share)}
    servers = math.ceil(chips / site.chips_per_server)
    tokens = daily_requests * DAYS_PER_YEAR * output_tokens_per_request
    input_tokens = daily_requests * DAYS_PER_YEAR * input_tokens_per_request
    fixed = cap.fixed
    fleet = {"peak_request_rate": peak_rate, "configuration": deployment.label, "mode": deployment.candidate.mode,
             "replicas": replicas, "chips": chips, "servers": servers, "output_tokens": tokens,
             "input_tokens": input_tokens, "p99_ttft_ms": deployment.p99_ttft_ms, "p99_tpot_ms": deployment.p99_tpot_ms,
             "fixed_tp_chips": fixed.steps_for(peak_rate, cap.headroom) * fixed.devices if fixed else math.nan, **extra}
    if rack_problem(site, tdp_w, ""):
        nan = float("nan")
        return {**fleet, **{k: nan for k in ("racks", "it_mw", "facility_mw", "it_mwh", "annual_mwh", "tco2",
                                             *COST_COLUMNS, "usd_per_mtok", "usd_per_mtok_all_tokens",
                                             "j_per_token")}}
    server_w = site.chips_per_server * tdp_w * site.server_overhead
    servers_per_rack = min(site.servers_per_rack_max, int(site.rack_power_w // server_w))
    racks = math.ceil(servers / servers_per_rack)
    it_w = chips * tdp_w * site.server_overhead  # provisioned (nameplate) IT power
    facility_w = it_w * site.pue
    # power over the day, minute by minute: static + dynamic energy per output token x token rate
    token_rate = mean_rate * curve * output_tokens_per_request
    it_power = (replicas * deployment.static_power_w + deployment.dynamic_j_per_output_token * token_rate) \
        * site.server_overhead
    it_mwh = float(it_power.mean()) * SECONDS_PER_DAY * DAYS_PER_YEAR / J_PER_MWH
    facility_mwh = it_mwh * site.pue
    costs = fleet_costs(chips=chips, unit_price_usd=unit_price_usd, it_w=it_w, facility_mwh=facility_mwh, site=site,
                        prices=prices or load_prices(), nre_usd=nre_usd)
    return {**fleet, "racks": racks, "it_mw": it_w / 1e6, "facility_mw": facility_w / 1e6, "it_mwh": it_mwh,
            "annual_mwh": facility_mwh, "tco2": facility_mwh * site.grid_carbon_g_per_kwh / 1000.0, **costs,
            **per_million_tokens(costs["total_cost_usd"], tokens, input_tokens),
            "j_per_token": facility_mwh * J_PER_MWH / tokens}


def plan(scenario: Scenario, progress=None, workers: int = 1) -> PlanResult:
    """Every option in every year. An option that does not fit the chip's memory, misses the SLO,
    or cannot be deployed at the site (no TDP, servers above the rack power) is reported with a
    note and never marked cheapest; the others are sized. `workers`: processes that search the
    options' configurations side by side (the same answer)."""
    site = resolve_site(scenario.site)
    d = scenario.demand
    curve = d.load_curve.weights()
    slo = scenario.service.slo.objective()  # read once; every option is sized against it
    prices = load_prices(scenario.economics)
    input_len, output_len = scenario.tokens_per_turn()
    rows, latency, caps, chip_prices = [], {}, {}, {}
    caps_by_inputs: dict[str, OptionCapacity] = {}  # options alike but for their price share one search
    searches = _searches(scenario, prices, site, slo, workers)
    for i, option in enumerate(scenario.options):
        where = f"options[{i}] ({option.name})"
        try:
            hw, price = resolve_chip(option, prices, f"options[{i}]")
            decode = resolve_decode(option, prices, f"options[{i}]", hw, scenario.sizing.search)
        except Chip2ChatError as exc:
            raise within(where, exc) from None
        chip_prices[option.name] = price
        try:
            key = _inputs(option)
            cap = caps_by_inputs.get(key) or (searches[key].result() if key in searches else option_capacity(
                scenario, option, hw, slo, max(site.chips_per_server, option.tp * option.pp)))
        except DoesNotFitError as exc:
            rows += [_unserved(scenario, option, year, hw, price.unit_price_usd, str(exc)) for year in d.years]
            if progress:
                progress(i + 1, len(scenario.options))
            continue
        except Chip2ChatError as exc:
            raise within(where, exc) from None
        caps_by_inputs[key] = cap
        if decode is not None:  # two kinds of chip: deployments compare by what their chips cost
            cap = replace(cap, chip_weights={hw.name: price.unit_price_usd, decode[0].name: decode[1].unit_price_usd})
        caps[option.name] = cap
        latency[option.name] = {"ttft_ms": cap.ttft_ms, "tpot_ms": cap.tpot_ms}
        problem = rack_problem(site, hw.tdp_w, hw.name) or (decode and rack_problem(site, decode[0].tdp_w,
                                                                                  decode[0].name))
        for year in d.years:
            sized = size_year(cap, daily_requests=d.daily_requests(year), output_tokens_per_request=output_len,
                              input_tokens_per_request=input_len, curve=curve, site=site, tdp_w=hw.tdp_w,
                              unit_price_usd=price.unit_price_usd, prices=prices, nre_usd=price.nre_usd, decode=decode)
            rows.append({"option": option.name, "year": year.year, "daily_users": year.daily_users,
                         "chip": hw.name, "calibration": hw.calibration, "engine": cap.engine, "fidelity": cap.fidelity,
                         **sized,
                         "unit_price_usd": price.unit_price_usd, "price_kind": price.kind,
                         "meets_slo": cap.meets_slo, "deployable": not problem,
                         "note": "; ".join(n for n in (cap.note, problem) if n)})
        if progress:
            progress(i + 1, len(scenario.options))
    table = pd.DataFrame(rows)
    table["cheapest"] = False
    eligible = table[table["meets_slo"] & table["deployable"]]
    for _, group in eligible.groupby("year"):
        table.loc[group["total_cost_usd"].idxmin(), "cheapest"] = True
    money = custom_chip_economics(scenario, table, chip_prices, site, prices)
    return PlanResult(name=scenario.name, description=scenario.description, slo=slo, table=table, latency=latency,
                      capacities=caps, site=site, voice=_voice(scenario, table, caps), prices=chip_prices,
                      assumptions=plan_assumptions(site, prices, chip_prices,
                                                   {o.name: option_design(o) for o in scenario.options if o.design}),
                      energy=power_view(scenario, site, table, lambda option: resolve_chip(option, prices)[0],
                                        recheck=lambda option, *cap: capped_within_slo(caps[option.name], *cap)),
                      **money)


def _searches(scenario: Scenario, prices, site, slo: Slo, workers: int) -> dict:
    """Each distinct option's capacity started in `workers` processes ({} for one worker; an option
    whose chip cannot be resolved is left to the loop, which reports it)."""
    jobs = {}
    for i, option in enumerate(scenario.options):
        try:
            hw, _ = resolve_chip(option, prices, f"options[{i}]")
        except Chip2ChatError:
            continue
        unit = max(site.chips_per_server, option.tp * option.pp)
        jobs.setdefault(_inputs(option), partial(option_capacity, scenario, option, hw, slo, unit))
    return in_processes(jobs, workers)


def _inputs(option: FleetOption) -> str:
    """What an option's capacity depends on: everything but its name and money."""
    return option.model_dump_json(exclude={"name": True, "unit_price_usd": True, "nre_usd": True,
                                           "design_partner": True, "decode": {"unit_price_usd"}})


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
