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

from chip2chat.errors import ConfigError
from chip2chat.hardware.memory import energy_per_bit_j
from chip2chat.hardware.spec import Accelerator
from chip2chat.silicon.catalog import SiliconCatalog, load_catalog
from chip2chat.silicon.design import ChipDesign, hbm_entries
from chip2chat.units import parse_quantity

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


def dies_per_wafer(die_area_m2: float, diameter_m: float = WAFER_DIAMETER_M) -> float:
    """Gross dies per wafer: wafer area / die area minus the partial dies lost along the edge."""
    return math.pi * (diameter_m / 2) ** 2 / die_area_m2 - math.pi * diameter_m / math.sqrt(2 * die_area_m2)


def murphy_yield(die_area_m2: float, defects_per_m2: float) -> float:
    """Murphy's yield model ((1 - exp(-A D)) / (A D))^2 (B. T. Murphy, Proc. IEEE 52, 1964)."""
    ad = die_area_m2 * defects_per_m2
    return 1.0 if ad == 0 else ((1 - math.exp(-ad)) / ad) ** 2


def evaluate(design: ChipDesign, catalog: SiliconCatalog | None = None) -> SiliconReport:
    cat = catalog or load_catalog(design.overrides)
    node = cat.nodes[design.process_node]
    dies = design.compute_dies
    hbm = design.hbm
    entry = hbm_entries().get((hbm.generation, hbm.stack_height))
    if entry is None:
        heights = sorted(h for g, h in hbm_entries() if g == hbm.generation)
        raise ConfigError(design.name, "hbm.stack_height",
                          f"{hbm.generation} has no {hbm.stack_height}-high stack in the memory catalog; "
                          f"allowed: {', '.join(map(str, heights))}")
    # --- area of one compute die ---
    bf16 = design.peak_flops["bf16"] / dies
    area = {
        "tensor": bf16 * node.tensor_area_m2_per_flops * (cat.reference_clock_hz / design.clock_hz) * cat.spare_compute,
        "sram": design.sram_bytes / dies / node.sram_bytes_per_m2 * cat.spare_sram,
        "hbm_phy": (hbm.sites or hbm.stacks) / dies * cat.hbm_phy_area_m2.get(hbm.generation, 0.0),
        "links": design.scale_up.bandwidth_bytes_per_s / dies * cat.link_area_m2_per_byte_s,
        "pcie": cat.pcie_area_m2 / dies,
    }
    core = sum(area.values())
    area["die_to_die"] = core * cat.die_to_die_fraction if dies > 1 else 0.0
    area["uncore"] = (core + area["die_to_die"]) * cat.uncore_fraction / (1 - cat.uncore_fraction)
    die_area = sum(area.values())
    if die_area > cat.reticle_m2:
        need = math.ceil(die_area * dies / cat.reticle_m2)
        raise ConfigError(design.name, "compute_dies",
                          f"a compute die of {die_area / 1e-6:,.0f} mm2 exceeds the reticle limit of "
                          f"{cat.reticle_m2 / 1e-6:,.0f} mm2; use compute_dies >= {need + (need == dies)}")
    # --- HBM along the die edges (near-square dies, two long edges each) ---
    pitch = cat.hbm4_site_pitch_m if hbm.generation.startswith("HBM4") else cat.hbm_site_pitch_m
    sites = dies * 2 * int(math.sqrt(die_area) // pitch)
    if (hbm.sites or hbm.stacks) > sites:
        raise ConfigError(design.name, "hbm.stacks",
                          f"{hbm.sites or hbm.stacks} stacks need as many sites along the die edges; "
                          f"{dies} die(s) of {die_area / 1e-6:,.0f} mm2 have room for {sites} "
                          f"({pitch * 1e3:.1f} mm each); allowed: 1-{sites}")
    capacity = hbm.stacks * parse_quantity(entry["capacity"], "B")
    per_pin = hbm.pin_rate_bytes_per_s or parse_quantity(entry["pin_rate"], "B/s")
    bandwidth = hbm.stacks * per_pin * entry["interface_width_bits"]
    hbm_cost = capacity * cat.hbm_cost_usd_per_byte.get(hbm.generation, max(cat.hbm_cost_usd_per_byte.values()))
    # --- package ---
    interposer = dies * die_area + hbm.stacks * cat.hbm_site_area_m2
    fitting = [p for p, limit in sorted(cat.interposers.items(), key=lambda x: x[1]) if interposer <= limit]
    if design.package != "auto" and design.package not in fitting or not fitting:
        allowed = ", ".join(f"{p} (<= {v / 1e-6:,.0f} mm2)" for p, v in cat.interposers.items())
        raise ConfigError(design.name, "package", f"dies and stacks need a {interposer / 1e-6:,.0f} mm2 interposer; "
                                                  f"allowed: {allowed}")
    package = fitting[0] if design.package == "auto" else design.package
    # --- cost ---
    dpw = dies_per_wafer(die_area)
    y = murphy_yield(die_area, node.defect_density_per_m2)
    die_cost = node.wafer_price_usd / (dpw * y)
    package_cost = interposer * cat.package_usd_per_m2
    test = cat.test_fraction * (dies * die_cost + package_cost)
    # --- power at full load ---
    compute_w = design.peak_flops["bf16"] * node.energy_per_flop_bf16_j
    hbm_w = bandwidth * 8 * energy_per_bit_j(hbm.generation)
    static_w = cat.static_fraction * design.tdp_w
    full = compute_w + hbm_w + static_w
    sustained = min(1.0, max(0.0, (design.tdp_w - static_w - hbm_w) / compute_w))
    return SiliconReport(
        name=design.name, process_node=design.process_node, compute_dies=dies, die_area_m2=die_area, area_m2=area,
        dies_per_wafer=dpw, die_yield=y, die_cost_usd=die_cost, hbm_sites=sites, hbm_capacity_bytes=capacity,
        hbm_bandwidth_bytes_per_s=bandwidth, hbm_cost_usd=hbm_cost, package=package, interposer_area_m2=interposer,
        package_cost_usd=package_cost, test_cost_usd=test,
        unit_cost_usd=dies * die_cost + hbm_cost + package_cost + test,
        compute_power_w=compute_w, hbm_power_w=hbm_w, static_power_w=static_w, full_load_power_w=full,
        tdp_w=design.tdp_w, sustained_compute_fraction=sustained)


def to_accelerator(design: ChipDesign, report: SiliconReport) -> Accelerator:
    """The design as the cost model's Accelerator, with its node's energy per FLOP."""
    node_e = load_catalog(design.overrides).nodes[design.process_node].energy_per_flop_bf16_j
    bf16 = design.peak_flops["bf16"]
    return Accelerator(
        name=design.name, vendor="custom", process_node=design.process_node, compute_dies=design.compute_dies,
        die_area=report.die_area_m2, peak_flops=dict(design.peak_flops),
        memory={"generation": design.hbm.generation, "stacks": design.hbm.stacks,
                "capacity": report.hbm_capacity_bytes, "bandwidth": report.hbm_bandwidth_bytes_per_s},
        sram=design.sram_bytes,
        scale_up={"bandwidth": design.scale_up.bandwidth_bytes_per_s, "domain": design.scale_up.domain},
        tdp=design.tdp_w,
        energy_per_flop={d: node_e * bf16 / p for d, p in design.peak_flops.items()},
        static_power=report.static_power_w,
        sources=[f"chip2chat silicon model of design {design.name!r} (catalog/silicon.yaml coefficients)"])
