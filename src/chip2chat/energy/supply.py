"""Supply options beside the grid: PPAs with hourly shapes, batteries, on-site generators.

catalog/energy/supply.yaml holds them, each figure with its unit and source; a scenario may name
which ones a site may use and cap what it can contract or build. Read once into SI-ish numbers:
money in USD, power in MW, energy in MWh, carbon in tCO2 (the supply-mix LP's own units).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from chip2chat.catalog import read_yaml
from chip2chat.errors import NotFoundError, StrictModel, validated
from chip2chat.units import quantity

CATALOG = "energy/supply.yaml"
_Price = Annotated[float, quantity("USD/MWh", 0.0, 1e4, "57 USD/MWh"), Field(ge=0)]
_Share = Annotated[float, quantity("1", 0.0, 1.0, "25 %"), Field(ge=0, le=1)]
_Years = Annotated[float, quantity("year", 1.0, 100.0, "20 years"), Field(gt=0)]
_PerMwYear = Annotated[float, quantity("USD/MW/year", 0.0, 1e7, "20 USD/kW/year"), Field(ge=0)]


class _Option(StrictModel):
    name: str
    sources: list[str] = Field(min_length=1)
    notes: str = ""


class Ppa(_Option):
    kind: Literal["ppa"]
    price: dict[str, _Price]
    """USD/MWh of output, by grid id."""
    capacity_factor: dict[str, _Share]
    hourly: dict[Literal["winter", "spring", "summer", "autumn"], list[Annotated[float, Field(ge=0)]]]

    def output_per_mw(self, grid: str) -> np.ndarray:
        """(12, 24) MW of output per MW contracted, averaging to the grid's capacity factor."""
        from chip2chat.energy.grid import SEASONS, weighted_mean

        shape = np.array([self.hourly[s] for s in SEASONS], dtype=float)
        if shape.shape != (12, 24):
            raise ValueError(f"{self.name}: hourly needs 24 values per season")
        return shape / weighted_mean(shape) * self.capacity_factor[grid]


class Battery(_Option):
    kind: Literal["battery"]
    capex_usd_per_mwh: Annotated[float, quantity("USD/MWh", 0.0, 1e7, "350 USD/kWh"), Field(ge=0)] = Field(alias="capex")
    life_years: _Years = Field(alias="life")
    fixed_om_usd_per_mw_year: _PerMwYear = Field(alias="fixed_om")
    duration_s: Annotated[float, quantity("s", 600.0, 1e6, "4 h"), Field(gt=0)] = Field(alias="duration")
    round_trip: _Share


class Generator(_Option):
    kind: Literal["generator"]
    capex_usd_per_mw: Annotated[float, quantity("USD/MW", 0.0, 1e8, "1500 USD/kW"), Field(ge=0)] = Field(alias="capex")
    life_years: _Years = Field(alias="life")
    fixed_om_usd_per_mw_year: _PerMwYear = Field(alias="fixed_om")
    variable_om_usd_per_mwh: _Price = Field(alias="variable_om")
    heat_rate_mmbtu_per_mwh: Annotated[float, quantity("MMBtu/MWh", 3.0, 30.0, "9.5 MMBtu/MWh"), Field(gt=0)] = Field(
        alias="heat_rate")
    fuel_carbon_kg_per_mmbtu: Annotated[float, quantity("kg/MMBtu", 0.0, 200.0, "53.06 kg/MMBtu"), Field(ge=0)] = Field(
        alias="fuel_carbon")

    @property
    def t_co2_per_mwh(self) -> float:
        return self.heat_rate_mmbtu_per_mwh * self.fuel_carbon_kg_per_mmbtu / 1000.0


_KINDS = {"ppa": Ppa, "battery": Battery, "generator": Generator}


def supply_option(name: str, raw: dict | None = None, source: str = f"catalog {CATALOG}"):
    """One supply option: the catalog's by name, or `raw` (a mapping in the catalog's format)."""
    if raw is None:
        catalog = read_yaml(CATALOG)
        if name not in catalog:
            raise NotFoundError("supply option", name, list(catalog))
        raw = catalog[name]
    kind = raw.get("kind") if isinstance(raw, dict) else None
    cls = _KINDS.get(kind)
    if cls is None:
        from chip2chat.errors import ConfigError

        raise ConfigError(source, f"{name}.kind", f"got {kind!r}; allowed: {', '.join(_KINDS)}")
    return validated(cls, raw, f"{source}: {name}")


def catalog_options() -> list[str]:
    return list(read_yaml(CATALOG))
