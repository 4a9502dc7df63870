"""Check the silicon model on real chips: derived vs published die area and power.

Every design in catalog/designs/ that names its catalog `chip` is modelled and compared with that
chip's published die area (one compute die) and TDP from accelerators.yaml, where chip facts live."""

from __future__ import annotations

from chip2chat.catalog import CATALOG_DIR
from chip2chat.errors import ConfigError
from chip2chat.hardware.load import load_hardware
from chip2chat.silicon.design import load_design
from chip2chat.silicon.model import evaluate

DESIGNS = CATALOG_DIR / "designs"


def known_designs() -> list:
    """(catalog chip id, its Accelerator, the design modelling it), in file order."""
    out = []
    for path in sorted(DESIGNS.glob("*.yaml")):
        design = load_design(path)
        if design.chip:
            chip_id, hw = load_hardware(design.chip)
            out.append((chip_id, hw, design))
    return out


def check_known() -> list[dict]:
    rows = []
    for chip, hw, design in known_designs():
        area, tdp = (hw.die_area_m2 if hw.compute_dies == design.compute_dies else None), hw.tdp_w
        row = {"chip": chip, "published_die_area_mm2": area and area / 1e-6, "published_tdp_w": tdp}
        try:
            r = evaluate(design)
        except ConfigError as exc:  # a single-die description that cannot be built
            row.update(modelled_die_area_mm2=None, area_error_pct=None, full_load_power_w=None, within_tdp=None,
                       verdict=f"multi-die design: {str(exc).split(': ', 2)[-1]}")
            rows.append(row)
            continue
        row.update(modelled_die_area_mm2=r.die_area_m2 / 1e-6,
                   area_error_pct=(r.die_area_m2 / area - 1) * 100 if area else None,
                   full_load_power_w=r.full_load_power_w, within_tdp=r.full_load_power_w <= tdp,
                   unit_cost_usd=r.unit_cost_usd,
                   verdict="ok" if area and abs(r.die_area_m2 / area - 1) <= 0.15 and r.full_load_power_w <= tdp
                   else "outside 15% / TDP")
        rows.append(row)
    return rows
