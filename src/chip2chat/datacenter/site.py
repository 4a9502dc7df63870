"""Where the fleet runs: a catalog site (catalog/sites.yaml) with the scenario's overrides, in SI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from chip2chat.catalog import read_yaml
from chip2chat.errors import ConfigError, NotFoundError, StrictModel, validated
from chip2chat.units import UnitError, parse_quantity, quantity

Cooling = Literal["air", "liquid"]
"""How the hall rejects heat: air (CRAH/chillers) or direct liquid cooling (warm-water loops)."""


class SitePower(StrictModel):
    """The power a site can draw from a year on (one step of its grid connection schedule)."""

    year: int = Field(ge=2000, le=2100)
    power_w: Annotated[float, quantity("W", 0.0, 1e11, "100 MW"), Field(ge=0)] = Field(alias="power")
    """Facility power available from that year on (what the grid connection carries), e.g. 100 MW."""


def _share(example: str):
    """A validator for a share of 0 to 100 % written with its unit ('90 %'): outside that range is
    one clear line."""

    def parse(value, info):
        if value is None:
            return None
        x = parse_quantity(value, "1", bare_ok=bool(info.context and info.context.get("si_units")), example=example)
        if not 0.0 <= x <= 1.0:
            raise UnitError(f"{x * 100:g} % is outside 0 % to 100 % (a share of the load, e.g. '{example}')")
        return x

    return BeforeValidator(parse)


class SiteEnergy(StrictModel):
    """Where a site's energy comes from: its power schedule, grid, cooling and supply options."""

    power: list[SitePower] | None = None
    """The site's power by year; before the first year it has none; None: unlimited."""
    grid: str | None = None
    """Its grid in catalog/energy/grids.yaml (hourly carbon and price shapes, climate)."""
    cooling: Cooling = "air"
    onsite_w: Annotated[float, quantity("W", 0.0, 1e11, "100 MW"), Field(ge=0)] = Field(default=0.0, alias="onsite")
    """Most on-site generation (gas turbines and fuel cells together) the site may build beside its
    grid connection; it adds to the power the site has. Default 0: the grid connection only."""
    supply: list[str] | None = None
    """Supply options the mix may use beside the grid (catalog/energy/supply.yaml); None: all of them."""
    supply_max: dict[str, Annotated[float, quantity("W", 0.0, 1e11, "50 MW")]] = {}
    """Most a supply option may have: MW for PPAs and generators, MW of power for the battery."""
    carbon_target: Annotated[float, quantity("tCO2/year", 0.0, 1e10, "50000 tCO2/year")] | None = None
    """Most tCO2 a year the site's supply may emit (the grid's hourly carbon, on-site fuel)."""
    cfe_target: Annotated[float, _share("90 %")] | None = None
    """Least 24/7 carbon-free share of the site's load, 0 to 100 % ('90 %'): the load matched by
    carbon-free supply hour by hour (PPAs used, the grid's carbon-free share, clean battery
    discharge; energy/cfe.py). None: no target."""
    overflow: list[str] = []
    """Catalog sites (sites.yaml) that take, in order, the demand this site has no power for; each
    with its own power schedule, PUE, grid and supply. What none can power is reported unmet."""

    @field_validator("overflow")
    @classmethod
    def _known_sites(cls, names: list[str]) -> list[str]:
        known = list(catalog_sites())
        for name in names:
            if name not in known:
                raise ValueError(f"unknown site {name!r}; catalog sites: {', '.join(known)}")
        return names


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
    energy: SiteEnergy = SiteEnergy()
    """Power schedule, grid, cooling and supply options (energy/)."""


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
    entry: dict = {}
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
                      servers_per_rack_max=site.servers_per_rack_max, energy=_energy(site, entry),
                      **values)


def _energy(site, entry: dict) -> SiteEnergy:
    """The catalog site's `energy:` mapping, the scenario's `site.energy` fields replacing it."""
    raw = dict(entry.get("energy") or {})
    given = getattr(site, "energy", None)
    catalog = validated(SiteEnergy, raw, f"catalog sites.yaml: {site.catalog}") if raw else SiteEnergy()
    if given is None:
        return catalog
    return catalog.model_copy(update={k: getattr(given, k) for k in given.model_fields_set})


def grid_power_w(energy: SiteEnergy, year: int) -> float | None:
    """What the site's grid connection carries in `year` (the latest step at or before it; 0 before
    the first); None when it has no schedule (unlimited)."""
    if energy.power is None:
        return None
    steps = [p.power_w for p in sorted(energy.power, key=lambda p: p.year) if p.year <= year]
    return steps[-1] if steps else 0.0


def site_power_w(energy: SiteEnergy, year: int) -> float | None:
    """Facility power the site has in `year`: its grid connection plus the on-site generation it may
    build; None when the connection is unlimited."""
    grid = grid_power_w(energy, year)
    return None if grid is None else grid + energy.onsite_w
