"""Where the fleet runs: a catalog site (catalog/sites.yaml) with the scenario's overrides, in SI."""

from __future__ import annotations

from dataclasses import dataclass

from chip2chat.catalog import read_yaml
from chip2chat.errors import ConfigError, NotFoundError
from chip2chat.units import UnitError, parse_quantity


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


# SiteParams field <- (catalog key, its base unit; '' for a plain number)
_CATALOG_FIELDS = {"pue": ("pue", ""), "rack_power_w": ("rack_power", "W"),
                   "electricity_usd_per_mwh": ("electricity_price", "USD/MWh"),
                   "grid_carbon_g_per_kwh": ("grid_carbon", "g/kWh"), "facility_capex_usd_per_mw": ("facility_capex", "USD/MW"),
                   "facility_amortization_years": ("facility_amortization", "year"),
                   "chip_amortization_years": ("chip_amortization", "year"), "server_overhead": ("server_overhead", "")}


def _num(entry, unit: str, where: str) -> float:
    """A catalog site figure in `unit` (units.py parses it), or a plain number where unit is ''."""
    if isinstance(entry, dict):
        entry = entry.get("value")
    try:
        if unit:
            return parse_quantity(entry, unit)
        if isinstance(entry, bool) or not isinstance(entry, (int, float)):
            raise UnitError(f"expected a plain number, got {entry!r}")
        return float(entry)
    except UnitError as exc:
        raise ConfigError("catalog sites.yaml", where, str(exc)) from None


def resolve_site(site) -> SiteParams:
    """The scenario's `site`: a catalog entry, overridden field by field."""
    base: dict = {}
    name = "custom site"
    if site.catalog is not None:
        sites = catalog_sites()
        if site.catalog not in sites:
            raise NotFoundError("site", site.catalog, list(sites))
        entry, name = sites[site.catalog], site.catalog
        base = {name: _num(entry[key], unit, f"{site.catalog}.{key}") for name, (key, unit) in _CATALOG_FIELDS.items()}
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
