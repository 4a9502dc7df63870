"""A plan's money summary: the assumptions it rests on, and whether each custom design pays off.

`custom_chip_economics` compares every custom design option with every catalog-chip option
(datacenter/breakeven.py), at the plan's site and at each of the scenario's `compare_sites`, and
builds the tornado against the cheapest GPU of the last year; `plan_assumptions` lists every price
and coefficient with its source, for the report's panel.

At another site the fleets are the plan's (serving capacity does not depend on the site): only the
money moves, with the site's PUE (facility energy = IT energy x PUE), electricity price and
facility capex (`at_site`).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from chip2chat.datacenter.breakeven import break_even_table, tornado
from chip2chat.datacenter.economics import fleet_costs, per_million_tokens
from chip2chat.datacenter.prices import Assumption, Prices
from chip2chat.catalog import read_yaml
from chip2chat.datacenter.site import catalog_sites, resolve_site


def plan_assumptions(site, prices: Prices, chip_prices: dict, designs: dict | None = None) -> list[Assumption]:
    """Chip prices, the custom designs' silicon coefficients, the site's figures and the economics
    catalog's, each with its kind and source. `designs`: option name -> ChipDesign."""
    out = [Assumption(f"{option}: unit price", f"${p.unit_price_usd:,.0f}", p.kind, "", p.source)
           for option, p in chip_prices.items()]
    out += [Assumption(f"{option}: NRE ({p.node})", f"${p.nre_usd / 1e6:,.0f}M", "estimate", "",
                       "catalog/economics.yaml nre (see below), or the option's nre_usd")
            for option, p in chip_prices.items() if p.nre_usd]
    for option, design in (designs or {}).items():
        out += silicon_assumptions(option, design)
    entry = catalog_sites().get(site.name, {})
    where = ("; ".join(entry.get("sources", [])) or "the scenario's site") + (
        " (catalog/sites.yaml; the scenario may override a figure)")
    figures = (f"PUE {site.pue:g}; electricity ${site.electricity_usd_per_mwh:,.1f}/MWh; grid carbon "
               f"{site.grid_carbon_g_per_kwh:,.0f} g/kWh; facility capex ${site.facility_capex_usd_per_mw / 1e6:,.1f}M "
               f"per MW of IT over {site.facility_amortization_years:g} years; chips, servers and network over "
               f"{site.chip_amortization_years:g} years; server power {site.server_overhead:g}x the accelerators'; "
               f"racks of {site.rack_power_w / 1e3:,.0f} kW")
    out.append(Assumption(f"site {site.name}", figures, "site", "", where))
    return out + list(prices.assumptions)


def silicon_assumptions(option: str, design) -> list[Assumption]:
    """The silicon coefficients a design's manufacturing cost rests on (catalog/silicon.yaml, with
    the design's overrides): its node's wafer price and defect density, its HBM's $/GB, CoWoS $/mm2."""
    from chip2chat.silicon.catalog import load_catalog

    raw = read_yaml("silicon.yaml")
    cat = load_catalog(design.overrides)
    node, gen = cat.nodes[design.process_node], design.hbm.generation
    node_entry, hbm_entry = raw["process_nodes"][design.process_node], raw["hbm_cost_per_gb"].get(gen, {})
    node_sources = "; ".join(node_entry.get("sources", []))
    return [
        Assumption(f"{option}: {design.process_node} wafer price", f"${node.wafer_price_usd:,.0f}", "estimate",
                   str(node_entry.get("year", "")), node_sources),
        Assumption(f"{option}: {design.process_node} defect density", f"{node.defect_density_per_m2 / 1e4:g} /cm²",
                   "estimate", str(node_entry.get("year", "")), node_sources),
        Assumption(f"{option}: {gen} price", f"${cat.hbm_cost_usd_per_byte.get(gen, float('nan')) * 1e9:,.1f}/GB",
                   "estimate", str(hbm_entry.get("year", "")), "; ".join(hbm_entry.get("sources", []))),
        Assumption(f"{option}: CoWoS package", f"${cat.package_usd_per_m2 * 1e-6:,.2f}/mm² of interposer", "estimate",
                   "", "; ".join(raw["interposer"]["cost_per_mm2"].get("sources", []))),
    ]


def custom_chip_economics(scenario, table, chip_prices: dict, site, prices: Prices) -> dict:
    """{'break_even': DataFrame or None, 'tornado': DataFrame or None} for the plan's custom designs."""
    customs = [o.name for o in scenario.options if o.design is not None]
    gpus = [o.name for o in scenario.options if o.hardware is not None]
    if not customs or not gpus or "total_cost_usd" not in table:
        return {"break_even": None, "tornado": None}
    be = break_even_table(table, customs, gpus)
    be.insert(0, "site", site.name)
    others = []
    for other in getattr(scenario, "compare_sites", []):
        there = resolve_site(other)
        at = break_even_table(at_site(table, there, prices, chip_prices), customs, gpus)
        at.insert(0, "site", there.name)
        others.append(at)
    be = pd.concat([be, *others], ignore_index=True)
    served = table[table["meets_slo"].astype(bool) & table["deployable"].astype(bool)]
    last = served[served["year"] == served["year"].max()] if len(served) else served
    gpu_rows = last[last["option"].isin(gpus)]
    custom = customs[0]
    if gpu_rows.empty or custom not in set(served["option"]):
        return {"break_even": be, "tornado": None}
    gpu = str(gpu_rows.loc[gpu_rows["total_cost_usd"].idxmin(), "option"])
    option = next(o for o in scenario.options if o.name == custom)
    price = chip_prices[custom]
    t = tornado(table, custom, gpu, amortization_years=site.chip_amortization_years,
                operations_share=prices.operations_share_per_year,
                custom_unit_price_at=_unit_price_at(option, price))
    t.insert(0, "gpu", gpu)
    t.insert(0, "custom", custom)
    return {"break_even": be, "tornado": t}


def at_site(table: pd.DataFrame, site, prices: Prices, chip_prices: dict) -> pd.DataFrame:
    """The plan's fleets re-costed at another site: facility energy, tCO2 and every cost line with
    its PUE, grid carbon, electricity price, facility capex and amortization."""
    out = table.copy()
    served = out["it_mwh"].notna() if "it_mwh" in out else pd.Series(False, index=out.index)
    for i in out.index[served]:
        row = out.loc[i]
        mwh = float(row["it_mwh"]) * site.pue
        costs = fleet_costs(chips=float(row["chips"]), unit_price_usd=float(row["unit_price_usd"]),
                            it_w=float(row["it_mw"]) * 1e6, facility_mwh=mwh, site=site, prices=prices,
                            nre_usd=chip_prices[row["option"]].nre_usd)
        out.loc[i, list(costs)] = list(costs.values())
        tokens = per_million_tokens(costs["total_cost_usd"], float(row["output_tokens"]), float(row["input_tokens"]))
        out.loc[i, list(tokens)] = list(tokens.values())
        out.loc[i, ["annual_mwh", "facility_mw", "tco2"]] = [mwh, float(row["it_mw"]) * site.pue,
                                                             mwh * site.grid_carbon_g_per_kwh / 1000.0]
    return out


def _unit_price_at(option, price):
    """The design's unit price (manufacturing x (1 + markup)) with its HBM price or defect density scaled."""
    from chip2chat.datacenter.plan import option_design
    from chip2chat.silicon.catalog import load_catalog
    from chip2chat.silicon.model import evaluate

    design = option_design(option)
    base = load_catalog(design.overrides)

    def at(hbm_factor: float = 1.0, defect_factor: float = 1.0) -> float:
        if price.manufacturing_usd is None or price.kind == "scenario":
            return price.unit_price_usd  # a price the scenario fixed does not move with the silicon
        node = base.nodes[design.process_node]
        node = replace(node, defect_density_per_m2=node.defect_density_per_m2 * defect_factor)
        cat = replace(base, nodes={**base.nodes, design.process_node: node},
                      hbm_cost_usd_per_byte={g: v * hbm_factor for g, v in base.hbm_cost_usd_per_byte.items()})
        return evaluate(design, cat).unit_cost_usd * (1.0 + price.markup)

    return at
