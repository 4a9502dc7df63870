"""The silicon catalog (catalog/silicon.yaml) in SI units, with a design's overrides applied.

Every coefficient is a cited catalog entry; a design may override any of them by its dotted
path (e.g. `process_nodes.N3.wafer_price: 25000 USD`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from chip2chat.catalog import read_yaml
from chip2chat.errors import ConfigError
from chip2chat.units import UnitError, parse_quantity, unit_base

FILE = "silicon.yaml"
def value(entry, unit: str, where: str) -> float:
    """A catalog figure in its base unit (SI for physical quantities): `entry` is '0.41 mm2' (any
    unit of the same quantity), or a mapping with `value`; `unit` is the unit the catalog writes it
    in ('' for a plain number). A number without its unit is an error."""
    if isinstance(entry, dict):
        entry = entry.get("value")
    try:
        if unit == "":
            if isinstance(entry, bool) or not isinstance(entry, (int, float)):
                raise UnitError(f"expected a plain number, got {entry!r}")
            return float(entry)
        return parse_quantity(entry, unit_base(unit), example=f"1 {unit}")
    except UnitError as exc:
        raise ConfigError(f"catalog {FILE}", where, str(exc)) from None


@dataclass(frozen=True)
class Node:
    name: str
    wafer_price_usd: float
    defect_density_per_m2: float
    sram_bytes_per_m2: float
    tensor_area_m2_per_flops: float  # dense bf16 FLOP/s at the reference clock
    energy_per_flop_bf16_j: float


@dataclass(frozen=True)
class SiliconCatalog:
    nodes: dict[str, Node]
    reticle_m2: float
    reference_clock_hz: float
    spare_compute: float  # physical / enabled compute (spare SMs)
    spare_sram: float
    hbm_cost_usd_per_byte: dict[str, float]
    hbm_site_pitch_m: float
    hbm4_site_pitch_m: float
    hbm_site_area_m2: float
    hbm_phy_area_m2: dict[str, float]
    link_area_m2_per_byte_s: float  # SerDes area per B/s of scale-up bandwidth
    pcie_area_m2: float
    uncore_fraction: float
    die_to_die_fraction: float
    interposers: dict[str, float]  # package -> max interposer area
    package_usd_per_m2: float
    test_fraction: float
    static_fraction: float


def load_catalog(overrides: dict | None = None) -> SiliconCatalog:
    raw = copy.deepcopy(read_yaml(FILE))
    for path, new in (overrides or {}).items():
        _override(raw, path, new)
    nodes = {name: Node(name=name,
                        wafer_price_usd=value(n["wafer_price"], "USD", f"process_nodes.{name}.wafer_price"),
                        defect_density_per_m2=value(n["defect_density"], "/cm2", f"process_nodes.{name}.defect_density"),
                        sram_bytes_per_m2=value(n["sram_density"], "MB/mm2", f"process_nodes.{name}.sram_density"),
                        tensor_area_m2_per_flops=value(n["tensor_area_per_tflops"], "mm2",
                                                       f"process_nodes.{name}.tensor_area_per_tflops") / 1e12,
                        energy_per_flop_bf16_j=value(n["energy_per_flop_bf16"], "pJ",
                                                     f"process_nodes.{name}.energy_per_flop_bf16"))
             for name, n in raw["process_nodes"].items()}
    io = raw["io_area"]
    nvlink_link_bytes_s = 50e9  # one NVLink4 link: 25 GB/s each way (18 links = 900 GB/s)
    return SiliconCatalog(
        nodes=nodes,
        reticle_m2=value(raw["reticle_limit"], "mm2", "reticle_limit"),
        reference_clock_hz=1.8e9,  # the tensor_area_per_tflops entries are counted at 1.8 GHz
        spare_compute=float(raw["harvest_overhead"]["sm"]),
        spare_sram=float(raw["harvest_overhead"]["l2"]),
        hbm_cost_usd_per_byte={g.upper(): value(e, "USD/GB", f"hbm_cost_per_gb.{g}")
                               for g, e in raw["hbm_cost_per_gb"].items()},
        hbm_site_pitch_m=value(raw["hbm_site_pitch"], "mm", "hbm_site_pitch"),
        hbm4_site_pitch_m=value(raw["hbm_site_pitch"]["hbm4"], "mm", "hbm_site_pitch.hbm4"),
        hbm_site_area_m2=value(raw["hbm_stack_footprint"]["site_area_on_interposer"], "mm2",
                               "hbm_stack_footprint.site_area_on_interposer"),
        hbm_phy_area_m2={"HBM2": value(io["hbm2e_phy_per_stack"], "mm2", "io_area.hbm2e_phy_per_stack"),
                         "HBM2E": value(io["hbm2e_phy_per_stack"], "mm2", "io_area.hbm2e_phy_per_stack"),
                         "HBM3": value(io["hbm3_phy_and_controller_per_stack"], "mm2", "io_area.hbm3_phy"),
                         "HBM3E": value(io["hbm3_phy_and_controller_per_stack"], "mm2", "io_area.hbm3_phy"),
                         "HBM4": value(io["hbm4_phy_and_controller_per_stack"], "mm2", "io_area.hbm4_phy"),
                         "HBM4E": value(io["hbm4_phy_and_controller_per_stack"], "mm2", "io_area.hbm4_phy")},
        link_area_m2_per_byte_s=value(io["nvlink4_per_link"], "mm2", "io_area.nvlink4_per_link") / nvlink_link_bytes_s,
        pcie_area_m2=16 * value(io["pcie5_per_lane"], "mm2", "io_area.pcie5_per_lane"),
        uncore_fraction=float(io["uncore_fraction"]),
        die_to_die_fraction=float(raw["die_to_die"]["area_overhead_fraction"]),
        interposers={"cowos-s": value(raw["interposer"]["cowos_s_max"], "mm2", "interposer.cowos_s_max"),
                     "cowos-l": value(raw["interposer"]["cowos_l_max"], "mm2", "interposer.cowos_l_max")},
        package_usd_per_m2=value(raw["interposer"]["cost_per_mm2"], "USD/mm2", "interposer.cost_per_mm2"),
        test_fraction=value(raw["packaging_and_test"]["test_cost"], "%", "packaging_and_test.test_cost"),
        static_fraction=float(raw["power"]["static_and_uncore_fraction"]),
    )


def _override(raw: dict, path: str, new) -> None:
    keys = path.split(".")
    node = raw
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            raise ConfigError("design overrides", path, f"no catalog entry {k!r} at this path")
        node = node[k]
    if keys[-1] not in node:
        raise ConfigError("design overrides", path, f"no catalog entry {keys[-1]!r}; known: {', '.join(node)}")
    if isinstance(node[keys[-1]], dict) and "value" in node[keys[-1]]:
        node[keys[-1]] = {**node[keys[-1]], "value": new}
    else:
        node[keys[-1]] = new
