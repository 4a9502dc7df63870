"""Where the fleet runs: a catalog site (catalog/sites.yaml) with the scenario's overrides, in SI."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chip2chat.catalog import read_yaml
from chip2chat.errors import ConfigError, NotFoundError

_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)")


@dataclass(frozen=True)
class SiteParams:
    name: str
    pue: float
    rack_power_w: float
    electricity_usd_per_mwh: float
    grid_carbon_g_per_kwh: float
    facility_capex_usd_per_mw: float  # per MW of IT capacity
    facility_amortization_years: float
    chip_amortization_years: float
    server_overhead: float
    chips_per_server: int
    servers_per_rack_max: int


SITE_FIELDS = ("pue", "rack_power_kw", "electricity_usd_per_mwh", "grid_carbon_g_per_kwh", "facility_capex_usd_per_mw",
               "facility_amortization_years", "chip_amortization_years", "server_overhead")
"""Scenario site fields a site without a catalog entry must give."""


def catalog_sites() -> dict:
    """catalog/sites.yaml's sites by id (the file also holds server figures, which are not sites)."""
    return {k: v for k, v in read_yaml("sites.yaml").items() if k != "servers" and isinstance(v, dict)}


def _num(entry, field: str, site: str) -> float:
    if isinstance(entry, dict):
        entry = entry.get("value")
    if isinstance(entry, (int, float)) and not isinstance(entry, bool):
        return float(entry)
    m = _NUMBER.match(str(entry))
    if not m:
        raise ConfigError("catalog sites.yaml", f"{site}.{field}", f"expected a number, got {entry!r}")
    value = float(m.group(1))
    return value * 1e6 if "MUSD" in str(entry) else value * 1e3 if re.search(r"\bkW\b", str(entry)) else value


def resolve_site(site) -> SiteParams:
    """The scenario's `site`: a catalog entry, overridden field by field."""
    base: dict = {}
    name = "custom site"
    if site.catalog is not None:
        sites = catalog_sites()
        if site.catalog not in sites:
            raise NotFoundError("site", site.catalog, list(sites))
        entry, name = sites[site.catalog], site.catalog
        base = {
            "pue": _num(entry["pue"], "pue", name),
            "rack_power_w": _num(entry["rack_power"], "rack_power", name),
            "electricity_usd_per_mwh": _num(entry["electricity_price"], "electricity_price", name),
            "grid_carbon_g_per_kwh": _num(entry["grid_carbon"], "grid_carbon", name),
            "facility_capex_usd_per_mw": _num(entry["facility_capex"], "facility_capex", name),
            "facility_amortization_years": _num(entry["facility_amortization"], "facility_amortization", name),
            "chip_amortization_years": _num(entry["chip_amortization"], "chip_amortization", name),
            "server_overhead": _num(entry["server_overhead"], "server_overhead", name),
        }
    given = {"pue": site.pue, "rack_power_w": site.rack_power_kw and site.rack_power_kw * 1e3,
             "electricity_usd_per_mwh": site.electricity_usd_per_mwh, "grid_carbon_g_per_kwh": site.grid_carbon_g_per_kwh,
             "facility_capex_usd_per_mw": site.facility_capex_usd_per_mw,
             "facility_amortization_years": site.facility_amortization_years,
             "chip_amortization_years": site.chip_amortization_years, "server_overhead": site.server_overhead}
    values = {**base, **{k: v for k, v in given.items() if v is not None}}
    missing = [k for k in given if k not in values]
    if missing:
        raise ConfigError("scenario", f"site.{missing[0]}", "missing: give it, or name a catalog site (site.catalog)")
    return SiteParams(name=name, chips_per_server=site.chips_per_server,
                      servers_per_rack_max=site.servers_per_rack_max, **values)
