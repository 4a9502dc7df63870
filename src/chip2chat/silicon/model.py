"""Area, yield, cost and power of a chip design, every coefficient from catalog/silicon.yaml.

Per compute die: tensor units (dense bf16 FLOP/s x area per TFLOP/s at the reference clock,
scaled by reference / design clock, plus spare units), SRAM (bytes / density, plus spares), HBM
PHYs, scale-up SerDes and PCIe, die-to-die links when there are several dies, and the uncore (a
share of the die). Yield: Murphy's model ((1 - e^-AD) / AD)^2; dies per wafer: the gross-die
formula pi r^2 / A - pi d / sqrt(2 A) on 300 mm wafers. HBM stacks sit along the two long edges of
each die, one site per `hbm_site_pitch`. Unit cost = dies / yield + HBM + interposer package +
test. Power at full load = peak bf16 FLOP/s x energy per FLOP of the node + HBM traffic at full
bandwidth x energy per bit + static power (a share of the TDP).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from chip2chat.errors import ConfigError
from chip2chat.hardware.memory import energy_per_bit_j
from chip2chat.hardware.spec import Accelerator
from chip2chat.silicon.catalog import SiliconCatalog, load_catalog
from chip2chat.silicon.design import ChipDesign, hbm_entries
from chip2chat.units import SI_CONTEXT, parse_quantity

WAFER_DIAMETER_M = 0.300


@dataclass(frozen=True)
class SiliconReport:
    name: str
    process_node: str
    compute_dies: int
    die_area_m2: float  # one compute die
    area_m2: dict  # breakdown of one die: tensor, sram, hbm_phy, links, pcie, die_to_die, uncore
    dies_per_wafer: float
    die_yield: float
    die_cost_usd: float
    hbm_sites: int
    hbm_capacity_bytes: float
    hbm_bandwidth_bytes_per_s: float
    hbm_cost_usd: float
    package: str
    interposer_area_m2: float
    package_cost_usd: float
    test_cost_usd: float
    unit_cost_usd: float
    compute_power_w: float
    hbm_power_w: float
    static_power_w: float
    full_load_power_w: float
    tdp_w: float
    sustained_compute_fraction: float  # below 1 when full load would exceed the TDP

    def to_dict(self) -> dict:
        return asdict(self)


def dies_per_wafer(die_area_m2, diameter_m: float = WAFER_DIAMETER_M):
    """Gross dies per wafer: wafer area / die area minus the partial dies lost along the edge."""
    return np.pi * (diameter_m / 2) ** 2 / die_area_m2 - np.pi * diameter_m / np.sqrt(2 * die_area_m2)


def murphy_yield(die_area_m2, defects_per_m2):
    """Murphy's yield model ((1 - exp(-A D)) / (A D))^2 (B. T. Murphy, Proc. IEEE 52, 1964)."""
    ad = np.asarray(die_area_m2 * defects_per_m2, dtype=float)
    safe = np.where(ad > 0, ad, 1.0)
    return np.where(ad > 0, ((1 - np.exp(-safe)) / safe) ** 2, 1.0)


def derive(cat: SiliconCatalog, node, hbm_generation: str, hbm_entry: dict, *, bf16_flops, clock_hz, sram_bytes,
           stacks, sites, link_bandwidth, dies, tdp_w, pin_rate_bytes_per_s=None) -> dict:
    """Every derived quantity of a design, on floats or numpy arrays alike (vectorised sweeps).

    Feasibility is returned, not raised: `over_reticle`, `hbm_sites`, `interposer_m2` (the caller
    compares with the limits). np functions keep the arithmetic identical for both uses.
    """
    per_die = np.asarray(bf16_flops, dtype=float) / dies
    area = {
        "tensor": per_die * node.tensor_area_m2_per_flops * (cat.reference_clock_hz / clock_hz) * cat.spare_compute,
        "sram": sram_bytes / dies / node.sram_bytes_per_m2 * cat.spare_sram,
        "hbm_phy": sites / dies * cat.hbm_phy_area_m2.get(hbm_generation, 0.0),
        "links": link_bandwidth / dies * cat.link_area_m2_per_byte_s,
        "pcie": cat.pcie_area_m2 / dies + 0 * per_die,
    }
    core = sum(area.values())
    area["die_to_die"] = np.where(np.asarray(dies) > 1, core * cat.die_to_die_fraction, 0.0)
    area["uncore"] = (core + area["die_to_die"]) * cat.uncore_fraction / (1 - cat.uncore_fraction)
    die_area = sum(area.values())
    pitch = cat.hbm4_site_pitch_m if hbm_generation.startswith("HBM4") else cat.hbm_site_pitch_m
    hbm_sites = dies * 2 * np.floor(np.sqrt(die_area) / pitch)
    capacity = stacks * parse_quantity(hbm_entry["capacity"], "B")
    per_pin = parse_quantity(hbm_entry["pin_rate"], "B/s") if pin_rate_bytes_per_s is None else pin_rate_bytes_per_s
    bandwidth = stacks * per_pin * hbm_entry["interface_width_bits"]
    hbm_cost = capacity * cat.hbm_cost_usd_per_byte.get(hbm_generation, max(cat.hbm_cost_usd_per_byte.values()))
    interposer = dies * die_area + stacks * cat.hbm_site_area_m2
    dpw = dies_per_wafer(die_area)
    die_yield = murphy_yield(die_area, node.defect_density_per_m2)
    die_cost = node.wafer_price_usd / (dpw * die_yield)
    package_cost = interposer * cat.package_usd_per_m2
    test = cat.test_fraction * (dies * die_cost + package_cost)
    compute_w = bf16_flops * node.energy_per_flop_bf16_j
    hbm_w = bandwidth * 8 * energy_per_bit_j(hbm_generation)
    static_w = cat.static_fraction * tdp_w
    return {"area": area, "die_area_m2": die_area, "over_reticle": die_area > cat.reticle_m2, "hbm_sites": hbm_sites,
            "hbm_capacity_bytes": capacity, "hbm_bandwidth_bytes_per_s": bandwidth, "hbm_cost_usd": hbm_cost,
            "interposer_m2": interposer, "dies_per_wafer": dpw, "die_yield": die_yield, "die_cost_usd": die_cost,
            "package_cost_usd": package_cost, "test_cost_usd": test,
            "unit_cost_usd": dies * die_cost + hbm_cost + package_cost + test,
            "compute_power_w": compute_w, "hbm_power_w": hbm_w, "static_power_w": static_w,
            "full_load_power_w": compute_w + hbm_w + static_w,
            "sustained_compute_fraction": np.clip((tdp_w - static_w - hbm_w) / compute_w, 0.0, 1.0)}


def hbm_entry(design: ChipDesign) -> dict:
    entry = hbm_entries().get((design.hbm.generation, design.hbm.stack_height))
    if entry is None:
        heights = sorted(h for g, h in hbm_entries() if g == design.hbm.generation)
        raise ConfigError(design.name, "hbm.stack_height",
                          f"{design.hbm.generation} has no {design.hbm.stack_height}-high stack in the memory "
                          f"catalog; allowed: {', '.join(map(str, heights))}")
    return entry


def evaluate(design: ChipDesign, catalog: SiliconCatalog | None = None) -> SiliconReport:
    """Derive one design; a design that cannot be built is a one-line error naming the field."""
    cat = catalog or load_catalog(design.overrides)
    hbm, dies = design.hbm, design.compute_dies
    d = derive(cat, cat.nodes[design.process_node], hbm.generation, hbm_entry(design),
               bf16_flops=design.peak_flops["bf16"], clock_hz=design.clock_hz, sram_bytes=design.sram_bytes,
               stacks=hbm.stacks, sites=hbm.sites or hbm.stacks, link_bandwidth=design.scale_up.bandwidth_bytes_per_s,
               dies=dies, tdp_w=design.tdp_w, pin_rate_bytes_per_s=hbm.pin_rate_bytes_per_s)
    die_area = float(d["die_area_m2"])
    if d["over_reticle"]:
        need = math.ceil(die_area * dies / cat.reticle_m2)
        raise ConfigError(design.name, "compute_dies",
                          f"a compute die of {die_area / 1e-6:,.0f} mm2 exceeds the reticle limit of "
                          f"{cat.reticle_m2 / 1e-6:,.0f} mm2; use compute_dies >= {need + (need == dies)}")
    sites = int(d["hbm_sites"])
    if (hbm.sites or hbm.stacks) > sites:
        pitch = cat.hbm4_site_pitch_m if hbm.generation.startswith("HBM4") else cat.hbm_site_pitch_m
        raise ConfigError(design.name, "hbm.stacks",
                          f"{hbm.sites or hbm.stacks} stacks need as many sites along the die edges; "
                          f"{dies} die(s) of {die_area / 1e-6:,.0f} mm2 have room for {sites} "
                          f"({pitch * 1e3:.1f} mm each); allowed: 1-{sites}")
    package = choose_package(cat, float(d["interposer_m2"]), design.package)
    if package is None:
        allowed = ", ".join(f"{p} (<= {v / 1e-6:,.0f} mm2)" for p, v in cat.interposers.items())
        raise ConfigError(design.name, "package", f"dies and stacks need a {float(d['interposer_m2']) / 1e-6:,.0f} "
                                                  f"mm2 interposer; allowed: {allowed}")
    scalar = {k: float(v) for k, v in d.items() if k not in ("area", "over_reticle", "interposer_m2", "hbm_sites")}
    return SiliconReport(name=design.name, process_node=design.process_node, compute_dies=dies,
                         area_m2={k: float(v) for k, v in d["area"].items()}, hbm_sites=sites, package=package,
                         interposer_area_m2=float(d["interposer_m2"]), tdp_w=design.tdp_w, **scalar)


def choose_package(cat: SiliconCatalog, interposer_m2: float, wanted: str) -> str | None:
    """The smallest interposer technology that holds the dies and stacks (or the one asked for)."""
    fitting = [p for p, limit in sorted(cat.interposers.items(), key=lambda x: x[1]) if interposer_m2 <= limit]
    if wanted != "auto":
        return wanted if wanted in fitting else None
    return fitting[0] if fitting else None


def to_accelerator(design: ChipDesign, report: SiliconReport) -> Accelerator:
    """The design as the cost model's Accelerator, with its node's energy per FLOP."""
    node_e = load_catalog(design.overrides).nodes[design.process_node].energy_per_flop_bf16_j
    bf16 = design.peak_flops["bf16"]
    return Accelerator.model_validate(dict(
        name=design.name, vendor="custom", process_node=design.process_node, compute_dies=design.compute_dies,
        die_area=report.die_area_m2, peak_flops=dict(design.peak_flops),
        memory={"generation": design.hbm.generation, "stacks": design.hbm.stacks,
                "capacity": report.hbm_capacity_bytes, "bandwidth": report.hbm_bandwidth_bytes_per_s},
        sram=design.sram_bytes,
        scale_up={"bandwidth": design.scale_up.bandwidth_bytes_per_s, "domain": design.scale_up.domain},
        tdp=design.tdp_w,
        energy_per_flop={d: node_e * bf16 / p for d, p in design.peak_flops.items()},
        static_power=report.static_power_w, calibration=design.calibration,
        sources=[f"chip2chat silicon model of design {design.name!r} (catalog/silicon.yaml coefficients)"]),
        context=SI_CONTEXT)
