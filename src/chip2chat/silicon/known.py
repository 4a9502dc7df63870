"""Check the silicon model on real chips: derived vs published die area and power."""

from __future__ import annotations

from chip2chat.catalog import CATALOG_DIR
from chip2chat.errors import ConfigError
from chip2chat.silicon.design import load_design
from chip2chat.silicon.model import evaluate

DESIGNS = CATALOG_DIR / "designs"
# published die area (one compute die) and TDP: catalog/silicon.yaml known_chips (cited there)
PUBLISHED = {"h100-sxm": (814e-6, 700.0), "h200-sxm": (814e-6, 700.0), "mi300x": (None, 750.0)}


def check_known() -> list[dict]:
    rows = []
    for chip, (area, tdp) in PUBLISHED.items():
        design = load_design(DESIGNS / f"{chip}.yaml")
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
