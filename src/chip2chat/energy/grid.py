"""Hourly grids: a typical day per month of carbon intensity and price, and PUE by month.

catalog/energy/grids.yaml holds, per grid, relative shapes and the monthly climate. A shape is either
a typical day per month (`<key>_typical_day`: 12 rows of 24, derived from measured series) or a
factor per month times a factor per hour of a typical day per season (`<key>_monthly` and
`<key>_hourly`, the stylised form); both give a (12, 24) table. A grid may also give the measured
share of carbon-free generation by month and hour (`carbon_free_share`, 12 rows of 24 in 0..1), for
a 24/7 carbon-free-energy target. A site's hourly figures are its own cited annual figures
(sites.yaml grid_carbon and electricity_price) shaped by them:

    carbon(m, h) = site grid_carbon x month factor(m) x hour factor(season(m), h)
    price(m, h)  = site electricity price + wholesale mean x (month factor x hour factor - 1)

so the site pays its retail level on average and the wholesale swing says which hours cost more.
PUE by month answers the climate: the cooling overhead (PUE - 1) grows with the outside
temperature, `PUE_SENSITIVITY_PER_DEGC` per degree from the year's mean temperature (air cooling
works harder in summer than direct liquid cooling, whose chillers run less), and averages to the
site's annual PUE over the year.

Arrays are (12, 24): month 0 = January, hour 0 = midnight local time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chip2chat.catalog import read_yaml
from chip2chat.errors import ConfigError, NotFoundError
from chip2chat.units import UnitError, parse_quantity

CATALOG = "energy/grids.yaml"
SEASONS = ("winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer", "autumn", "autumn",
           "autumn", "winter")
"""Season of each month (January first), northern hemisphere."""
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
NEXT_HOUR = (np.arange(288) // 24) * 24 + (np.arange(288) % 24 + 1) % 24
"""For each hour of a flattened (12, 24) array, the next hour of the same typical day (hour 23 -> 0):
a store (a battery's state of charge) cycles within each month's day."""
PUE_SENSITIVITY_PER_DEGC = {"air": 0.03, "liquid": 0.015}
"""Relative change of the cooling overhead (PUE - 1) per degC above the year's mean temperature.
Google's fleet reports its PUE per quarter: ~1.08 in winter to ~1.12 in summer around a 1.10 year
(overhead 0.10 +-20%, https://www.google.com/about/datacenters/efficiency/, quarterly chart, read
approximately) over a ~+-10 degC seasonal swing at its sites: 0.02 per degC for its mostly
evaporative, free-cooled halls. Air-cooled halls with chillers swing more (0.03); direct liquid
cooling rejects most heat through warm-water loops that need chillers rarely (0.015). A
documented model, low confidence."""
MIN_PUE = 1.02


@dataclass(frozen=True)
class GridProfile:
    name: str
    carbon_shape: np.ndarray
    """(12, 24) relative carbon intensity, mean 1 over the year's hours."""
    price_shape: np.ndarray
    """(12, 24) relative wholesale price, mean 1 over the year's hours."""
    wholesale_mean_usd_per_mwh: float
    gas_usd_per_mmbtu: float
    temperature_c: np.ndarray
    """(12,) mean air temperature by month."""
    carbon_free_share: np.ndarray | None = None
    """(12, 24) share of the grid's generation that is carbon-free (nuclear and renewables) in a
    typical hour of each month, 0..1; None where the grid gives no measured series."""


def _table(value, where: str, field: str, what: str) -> np.ndarray:
    """A (12, 24) table of numbers >= 0: 12 rows (January first) of 24 hours (hour 0 = midnight)."""
    try:
        table = np.array(value, dtype=float)
    except (TypeError, ValueError):
        table = np.empty(0)
    if table.shape != (12, 24) or not np.isfinite(table).all() or (table < 0).any():
        raise ConfigError(where, field, f"needs 12 rows (January first) of 24 {what} >= 0, hour 0 = midnight")
    return table


def _shape(entry: dict, key: str, gid: str) -> np.ndarray:
    where = f"catalog {CATALOG}"
    monthly = entry.get(f"{key}_monthly")
    hourly = entry.get(f"{key}_hourly")
    if f"{key}_typical_day" in entry:
        if monthly is not None or hourly is not None:
            raise ConfigError(where, f"{gid}.{key}_typical_day",
                              f"give either {key}_typical_day or {key}_monthly with {key}_hourly, not both")
        out = _table(entry[f"{key}_typical_day"], where, f"{gid}.{key}_typical_day", "factors")
        if weighted_mean(out) <= 0:
            raise ConfigError(where, f"{gid}.{key}_typical_day", "needs some factor > 0")
        return out / weighted_mean(out)
    if not isinstance(monthly, list) or len(monthly) != 12:
        raise ConfigError(where, f"{gid}.{key}_monthly", "needs 12 factors, January first")
    if not isinstance(hourly, dict) or sorted(hourly) != sorted(set(SEASONS)):
        raise ConfigError(where, f"{gid}.{key}_hourly", f"needs one 24-hour shape per season: {', '.join(sorted(set(SEASONS)))}")
    rows = []
    for m, season in enumerate(SEASONS):
        day = np.asarray(hourly[season], dtype=float)
        if day.shape != (24,) or (day < 0).any():
            raise ConfigError(where, f"{gid}.{key}_hourly.{season}", "needs 24 factors >= 0, hour 0 = midnight")
        rows.append(float(monthly[m]) * day / day.mean())
    out = np.array(rows)
    return out / weighted_mean(out)


def _carbon_free_share(entry: dict, gid: str) -> np.ndarray | None:
    if "carbon_free_share" not in entry:
        return None
    field = f"{gid}.carbon_free_share"
    share = _table(entry["carbon_free_share"], f"catalog {CATALOG}", field, "shares")
    if (share > 1).any():
        raise ConfigError(f"catalog {CATALOG}", field, f"{share.max():g} is above 1 (a share of generation, 0..1)")
    return share


def weighted_mean(hourly: np.ndarray) -> float:
    """Mean of a (12, 24) array over the year's hours (each month weighted by its days)."""
    return float((hourly.mean(axis=1) * DAYS_IN_MONTH).sum() / DAYS_IN_MONTH.sum())


def load_grid(gid: str) -> GridProfile:
    """A grid of catalog/energy/grids.yaml by id."""
    grids = read_yaml(CATALOG)
    if gid not in grids:
        raise NotFoundError("grid", gid, list(grids))
    entry = grids[gid]
    where = f"catalog {CATALOG}"

    def quantity(key: str, unit: str) -> float:
        try:
            return parse_quantity(entry.get(key), unit)
        except UnitError as exc:
            raise ConfigError(where, f"{gid}.{key}", str(exc)) from None

    temps = entry.get("temperature_monthly")
    if not isinstance(temps, list) or len(temps) != 12:
        raise ConfigError(where, f"{gid}.temperature_monthly", "needs 12 temperatures in degC, January first")
    try:
        temperature = np.array([parse_quantity(t, "degC") for t in temps])
    except UnitError as exc:
        raise ConfigError(where, f"{gid}.temperature_monthly", str(exc)) from None
    return GridProfile(name=entry.get("name", gid), carbon_shape=_shape(entry, "carbon", gid),
                       price_shape=_shape(entry, "price", gid),
                       wholesale_mean_usd_per_mwh=quantity("wholesale_mean", "USD/MWh"),
                       gas_usd_per_mmbtu=quantity("gas_price", "USD/MMBtu"), temperature_c=temperature,
                       carbon_free_share=_carbon_free_share(entry, gid))


def hourly_carbon(grid: GridProfile, annual_g_per_kwh: float) -> np.ndarray:
    """(12, 24) grid carbon intensity, g/kWh, averaging to the site's annual figure."""
    return annual_g_per_kwh * grid.carbon_shape


def hourly_price(grid: GridProfile, annual_usd_per_mwh: float) -> np.ndarray:
    """(12, 24) grid energy price, USD/MWh: the site's price plus the wholesale swing (never below 0)."""
    return np.maximum(0.0, annual_usd_per_mwh + grid.wholesale_mean_usd_per_mwh * (grid.price_shape - 1.0))


def monthly_pue(annual_pue: float, temperature_c: np.ndarray, cooling: str) -> np.ndarray:
    """(12,) PUE by month from the climate and the cooling; its day-weighted mean is the annual PUE
    (unless the MIN_PUE floor binds in a cold month)."""
    if cooling not in PUE_SENSITIVITY_PER_DEGC:
        raise ConfigError("site", "cooling", f"{cooling!r} is not one of {', '.join(PUE_SENSITIVITY_PER_DEGC)}")
    mean_t = float((temperature_c * DAYS_IN_MONTH).sum() / DAYS_IN_MONTH.sum())
    overhead = (annual_pue - 1.0) * (1.0 + PUE_SENSITIVITY_PER_DEGC[cooling] * (temperature_c - mean_t))
    return np.maximum(MIN_PUE, 1.0 + overhead)
