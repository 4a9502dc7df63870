"""The supply mix: the cheapest supply that meets a site's load every hour, as a linear program.

Hours are a typical day per month (12 x 24), each weighted by its month's days, so sums are per
year. Per hour t, in MW (= MWh in that hour):

    grid import g_t + PPA energy used u_kt + generator output d_jt + battery discharge - charge
        = load_t                                         (every hour is met)
    g_t + sum_k u_kt <= grid connection                  (PPA energy reaches the site through the grid)
    u_kt <= output per MW_kt x contracted MW_k;  d_jt <= built MW_j
    charge, discharge <= E / duration;  state of charge <= E, cyclic over each typical day,
    state_{t+1} = state_t + round trip x charge_t - discharge_t
    sum of PPA output over the year <= the year's load   (contracts no larger than the load)
    optionally tCO2/year = sum_t w_t (grid carbon_t g_t + generator carbon_j d_jt) <= target,
    and a 24/7 carbon-free share: sum_t w_t matched_t >= target x sum_t w_t load_t (cfe.py).

Under a CFE target the contracts may exceed the load (hourly matching needs surplus in sunny or
windy hours, which earns no CFE credit): the cap above then holds only the contracts that earn
money on their own (strike below the wholesale price they are settled against, summed over the
year), which the LP would otherwise buy without limit; a contract that costs money is bought only
as far as the target needs it.

Cost per year: every MWh drawn through the grid (g and u) at the site's hourly price; each PPA
as a contract for differences: (strike - wholesale_t) on its whole output; generators' capex over
their life, fixed O&M per MW and fuel + variable O&M per MWh; the battery's capex over its life
and fixed O&M per MW. PPA energy counts as carbon-free in the hour it is used (24/7 matching);
grid energy carries the hour's grid carbon. Solved with scipy's HiGHS (`linprog(method="highs")`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from chip2chat.energy import cfe
from chip2chat.energy.grid import DAYS_IN_MONTH, NEXT_HOUR
from chip2chat.energy.supply import Battery, Generator, Ppa
from chip2chat.errors import Chip2ChatError

HOURS = 12 * 24
USE_PREFERENCE_USD_PER_MWH = 1e-3
"""A PPA MWh used costs this much less than a grid MWh at the same price, so that ties go to the
energy already paid for (it changes no cost above a tenth of a cent per MWh)."""


class InfeasibleMix(Chip2ChatError):
    """No supply within the options and limits meets the load (or the carbon or CFE target)."""


@dataclass
class MixResult:
    capacity_mw: dict
    """MW contracted or built per option (the battery in MWh, under its name)."""
    energy_mwh: dict
    """MWh per year by source: grid, each PPA's used energy, each generator, battery losses."""
    cost_usd: dict
    """USD per year by source."""
    load_mwh: float
    tco2: float
    cfe_share: float = float("nan")
    """24/7 carbon-free score: the load matched by carbon-free supply hour by hour (cfe.py), 0..1."""
    dispatch: dict = field(repr=False, default_factory=dict)
    """(12, 24) MW by source (grid, PPAs used, generators, battery discharge as +, charge as -)."""

    @property
    def total_usd(self) -> float:
        return float(sum(self.cost_usd.values()))

    @property
    def usd_per_mwh(self) -> float:
        return self.total_usd / self.load_mwh if self.load_mwh else float("nan")


def _check(name: str, array, shape, what: str) -> np.ndarray:
    a = np.asarray(array, dtype=float)
    if a.shape != shape or not np.isfinite(a).all():
        raise Chip2ChatError(f"supply mix: {name} must be {what} ({shape}), got shape {a.shape}")
    return a


def solve_mix(load_mw, *, grid_mw: float, price_usd_per_mwh, wholesale_usd_per_mwh, carbon_g_per_kwh,
              options: dict, grid: str, gas_usd_per_mmbtu: float, max_mw: dict | None = None,
              carbon_target_t: float | None = None, onsite_mw: float | None = None,
              cfe_target: float | None = None, grid_cfe_share=None) -> MixResult:
    """The cheapest supply for a (12, 24) facility load in MW. `options`: name -> Ppa, Battery or
    Generator (supply.py); `max_mw`: name -> most MW (MWh for a battery) it may have; `onsite_mw`:
    most MW of all generators together (None: no limit); `grid`: the grid id whose PPA prices and
    capacity factors apply; `cfe_target`: least 24/7 carbon-free share of the load, 0..1;
    `grid_cfe_share`: (12, 24) carbon-free share of the grid's energy by hour (None: 0)."""
    load = _check("load", load_mw, (12, 24), "MW per month and hour").ravel()
    price = _check("price", price_usd_per_mwh, (12, 24), "USD/MWh").ravel()
    wholesale = _check("wholesale", wholesale_usd_per_mwh, (12, 24), "USD/MWh").ravel()
    carbon = _check("carbon", carbon_g_per_kwh, (12, 24), "g/kWh").ravel() / 1000.0  # t per MWh
    if (load < 0).any() or grid_mw < 0:
        raise Chip2ChatError("supply mix: load and grid connection must be >= 0 MW")
    max_mw = max_mw or {}
    for name, cap in max_mw.items():
        if cap < 0:
            raise Chip2ChatError(f"supply mix: {name}: maximum capacity {cap:g} MW is negative; give 0 or more")
    w = np.repeat(DAYS_IN_MONTH, 24)
    n = HOURS
    cfe.check_target(cfe_target)
    grid_clean = cfe.grid_share(grid_cfe_share, n)
    ppas = {k: o for k, o in options.items() if isinstance(o, Ppa)}
    gens = {k: o for k, o in options.items() if isinstance(o, Generator)}
    batteries = {k: o for k, o in options.items() if isinstance(o, Battery)}
    if len(batteries) > 1:
        raise Chip2ChatError(f"supply mix: one battery option at most, got {', '.join(batteries)}")

    # variable blocks: hourly (n each) then one capacity per option
    blocks: dict[str, int] = {}
    size = 0

    def block(key: str, length: int) -> int:
        nonlocal size
        blocks[key] = size
        size += length
        return blocks[key]

    block("grid", n)
    for k in ppas:
        block(f"use:{k}", n)
    for j in gens:
        block(f"gen:{j}", n)
    for b in batteries:
        block("charge", n), block("discharge", n), block("state", n)
    for k in ppas:
        block(f"cap:{k}", 1)
    for j in gens:
        block(f"cap:{j}", 1)
    for b in batteries:
        block(f"cap:{b}", 1)
    if cfe_target is not None:  # matched carbon-free MW, and the battery's clean energy (cfe.py)
        block("match", n)
        if batteries:
            block("cleancharge", n), block("cleandischarge", n), block("cleanstate", n)

    cost = np.zeros(size)
    hours = np.arange(n)
    cost[blocks["grid"] + hours] = w * price
    out = {}
    for k, o in ppas.items():
        if grid not in o.price or grid not in o.capacity_factor:
            raise Chip2ChatError(f"supply option {k}: no price or capacity factor for grid {grid!r}; "
                                 f"it has {', '.join(o.price)}")
        out[k] = o.output_per_mw(grid).ravel()
        cost[blocks[f"use:{k}"] + hours] = w * (price - USE_PREFERENCE_USD_PER_MWH)
        cost[blocks[f"cap:{k}"]] = float((w * (o.price[grid] - wholesale) * out[k]).sum())
    for j, o in gens.items():
        cost[blocks[f"gen:{j}"] + hours] = w * (o.heat_rate_mmbtu_per_mwh * gas_usd_per_mmbtu + o.variable_om_usd_per_mwh)
        cost[blocks[f"cap:{j}"]] = o.capex_usd_per_mw / o.life_years + o.fixed_om_usd_per_mw_year
    for b, o in batteries.items():
        hours_stored = o.duration_s / 3600.0
        cost[blocks[f"cap:{b}"]] = o.capex_usd_per_mwh / o.life_years + o.fixed_om_usd_per_mw_year / hours_stored

    eq_rows, eq_rhs, ub_rows, ub_rhs = [], [], [], []

    def rows(entries, count):
        """A sparse block of `count` rows from (row index array, column index array, value array) triples."""
        r = np.concatenate([e[0] for e in entries])
        c = np.concatenate([e[1] for e in entries])
        v = np.concatenate([np.broadcast_to(e[2], len(e[0])) for e in entries])
        return sparse.csr_matrix((v, (r, c)), shape=(count, size))

    def hourly(key, value=1.0):
        return hours, blocks[key] + hours, value

    # every hour's load is met
    balance = [hourly("grid")] + [hourly(f"use:{k}") for k in ppas] + [hourly(f"gen:{j}") for j in gens]
    if batteries:
        balance += [hourly("discharge"), hourly("charge", -1.0)]
    eq_rows.append(rows(balance, n))
    eq_rhs.append(load)
    # the grid connection carries grid and PPA energy
    ub_rows.append(rows([hourly("grid")] + [hourly(f"use:{k}") for k in ppas], n))
    ub_rhs.append(np.full(n, grid_mw))
    for k in ppas:  # PPA energy used <= its output
        ub_rows.append(rows([hourly(f"use:{k}"), (hours, np.full(n, blocks[f"cap:{k}"]), -out[k])], n))
        ub_rhs.append(np.zeros(n))
    for j in gens:  # output <= built MW
        ub_rows.append(rows([hourly(f"gen:{j}"), (hours, np.full(n, blocks[f"cap:{j}"]), -1.0)], n))
        ub_rhs.append(np.zeros(n))
    for b, o in batteries.items():
        cap_col = np.full(n, blocks[f"cap:{b}"])
        rate = 3600.0 / o.duration_s
        for key in ("charge", "discharge"):
            ub_rows.append(rows([hourly(key), (hours, cap_col, -rate)], n))
            ub_rhs.append(np.zeros(n))
        ub_rows.append(rows([hourly("state"), (hours, cap_col, -1.0)], n))
        ub_rhs.append(np.zeros(n))
        eq_rows.append(rows([(hours, blocks["state"] + NEXT_HOUR, 1.0), hourly("state", -1.0),
                             hourly("charge", -o.round_trip), hourly("discharge")], n))
        eq_rhs.append(np.zeros(n))
    if gens and onsite_mw is not None:  # on-site generation within what the site may build
        if onsite_mw < 0:
            raise Chip2ChatError(f"supply mix: on-site generation limit {onsite_mw:g} MW is negative")
        ub_rows.append(rows([(np.zeros(len(gens), int), np.array([blocks[f"cap:{j}"] for j in gens]), 1.0)], 1))
        ub_rhs.append(np.array([onsite_mw]))
    capped = [k for k in ppas if cfe_target is None or cost[blocks[f"cap:{k}"]] < 0]
    if capped:  # contracts no larger than the year's load (under a CFE target: those that earn money)
        ub_rows.append(rows([(np.zeros(len(capped), int), np.array([blocks[f"cap:{k}"] for k in capped]),
                              np.array([float((w * out[k]).sum()) for k in capped]))], 1))
        ub_rhs.append(np.array([float((w * load).sum())]))
    emissions = np.zeros(size)
    emissions[blocks["grid"] + hours] = w * carbon
    for j, o in gens.items():
        emissions[blocks[f"gen:{j}"] + hours] = w * o.t_co2_per_mwh
    if carbon_target_t is not None:
        if carbon_target_t < 0:
            raise Chip2ChatError(f"supply mix: carbon target {carbon_target_t:g} tCO2/year is negative")
        ub_rows.append(sparse.csr_matrix(emissions))
        ub_rhs.append(np.array([carbon_target_t]))

    bounds = [(0, None)] * size
    for name, cap in max_mw.items():
        if f"cap:{name}" in blocks:
            bounds[blocks[f"cap:{name}"]] = (0, cap)
    clean_gens = [j for j, o in gens.items() if o.t_co2_per_mwh == 0]
    target_row = None
    if cfe_target is not None:
        for t in hours:
            bounds[blocks["match"] + t] = (0, load[t])
        # matched + clean charge <= PPA used + the grid's carbon-free share + clean generators + clean discharge
        clean = ([hourly("match"), hourly("grid", -grid_clean)] + [hourly(f"use:{k}", -1.0) for k in ppas]
                 + [hourly(f"gen:{j}", -1.0) for j in clean_gens])
        if batteries:
            clean += [hourly("cleancharge"), hourly("cleandischarge", -1.0)]
            for part, whole in (("cleancharge", "charge"), ("cleandischarge", "discharge"), ("cleanstate", "state")):
                ub_rows.append(rows([hourly(part), hourly(whole, -1.0)], n))  # clean energy within the battery's
                ub_rhs.append(np.zeros(n))
            o = next(iter(batteries.values()))
            eq_rows.append(rows([(hours, blocks["cleanstate"] + NEXT_HOUR, 1.0), hourly("cleanstate", -1.0),
                                 hourly("cleancharge", -o.round_trip), hourly("cleandischarge")], n))
            eq_rhs.append(np.zeros(n))
        ub_rows.append(rows(clean, n))
        ub_rhs.append(np.zeros(n))
        target_row = rows([(np.zeros(n, int), blocks["match"] + hours, -w)], 1)
    lp = dict(A_ub=sparse.vstack(ub_rows).tocsr(), b_ub=np.concatenate(ub_rhs), A_eq=sparse.vstack(eq_rows).tocsr(),
              b_eq=np.concatenate(eq_rhs), bounds=bounds, method="highs")
    if target_row is None:
        res = linprog(cost, **lp)
    else:
        res = linprog(cost, **{**lp, "A_ub": sparse.vstack([lp["A_ub"], target_row]).tocsr(),
                               "b_ub": np.append(lp["b_ub"], -cfe_target * float((w * load).sum()))})
    if res.status == 2:
        if target_row is None:
            raise InfeasibleMix(_why_infeasible(load, grid_mw, carbon_target_t))
        best = linprog(target_row.toarray().ravel(), **lp)  # the most CFE the options allow
        if best.status != 0:  # the load or the carbon target fails without the CFE target
            raise InfeasibleMix(_why_infeasible(load, grid_mw, carbon_target_t))
        raise InfeasibleMix(cfe.infeasible_message(cfe_target, -best.fun / float((w * load).sum())))
    if res.status != 0:
        raise Chip2ChatError(f"supply mix: the LP solver stopped: {res.message}")
    x = res.x
    result = _result(x, blocks, w, load, price, ppas, gens, batteries, emissions, cost)
    supply_clean = grid_clean * x[blocks["grid"] + hours]
    for key in [f"use:{k}" for k in ppas] + [f"gen:{j}" for j in clean_gens]:
        supply_clean = supply_clean + x[blocks[key] + hours]
    battery = None
    if batteries:
        battery = (x[blocks["charge"] + hours], x[blocks["discharge"] + hours], x[blocks["state"] + hours],
                   next(iter(batteries.values())).round_trip)
    result.cfe_share = cfe.score(load, w, supply_clean, battery)
    return result


def _why_infeasible(load, grid_mw, target) -> str:
    peak = float(load.max())
    if target is None:
        return (f"supply mix: the load's peak ({peak:,.1f} MW) exceeds the grid connection ({grid_mw:,.1f} MW) plus "
                f"the on-site generation allowed: raise the connection or the site's `onsite` generation")
    return (f"supply mix: carbon target {target:,.0f} tCO2/year cannot be met with the options and limits given "
            f"(grid connection {grid_mw:,.1f} MW, peak load {peak:,.1f} MW): raise the target or allow more "
            f"carbon-free supply (PPAs, batteries)")


def _result(x, blocks, w, load, price, ppas, gens, batteries, emissions, cost) -> MixResult:
    n = HOURS

    def series(key):
        return x[blocks[key]:blocks[key] + n]

    grid = series("grid")
    dispatch = {"grid": grid.reshape(12, 24)}
    energy = {"grid": float((w * grid).sum())}
    costs = {"grid": float((w * price * grid).sum())}
    capacity = {}

    def record(name: str, flow, energy_cost: float) -> None:
        """A supply's capacity, hourly flow, energy and cost (its energy cost plus its capacity's)."""
        cap = float(x[blocks[f"cap:{name}"]])
        capacity[name] = cap
        dispatch[name] = flow.reshape(12, 24)
        energy[name] = float((w * flow).sum())
        costs[name] = energy_cost + cap * float(cost[blocks[f"cap:{name}"]])

    for k in ppas:
        used = series(f"use:{k}")
        record(k, used, float((w * price * used).sum()))  # energy at the hour's price + the contract
    for j in gens:
        d = series(f"gen:{j}")
        record(j, d, float((cost[blocks[f"gen:{j}"]:blocks[f"gen:{j}"] + n] * d).sum()))
    for b in batteries:
        record(b, series("discharge") - series("charge"), 0.0)  # its energy is negative: its losses
    return MixResult(capacity_mw=capacity, energy_mwh=energy, cost_usd=costs, load_mwh=float((w * load).sum()),
                     tco2=float(emissions @ x), dispatch=dispatch)
