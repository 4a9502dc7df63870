"""The supply-mix LP against hand calculations, and its invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chip2chat.energy.grid import DAYS_IN_MONTH
from chip2chat.energy.mix import InfeasibleMix, solve_mix
from chip2chat.energy.supply import supply_option
from chip2chat.errors import Chip2ChatError

FLAT = np.ones((12, 24))


def _solve(load=10.0, options=(), price=100.0, carbon=400.0, wholesale=60.0, **kw):
    return solve_mix(FLAT * load, grid_mw=kw.pop("grid_mw", 20.0), price_usd_per_mwh=FLAT * price,
                     wholesale_usd_per_mwh=FLAT * wholesale, carbon_g_per_kwh=FLAT * carbon,
                     options={n: supply_option(n) for n in options}, grid="ercot", gas_usd_per_mmbtu=3.0, **kw)


def test_grid_only_toy_site_costs_load_times_price():
    # 10 MW all year = 87,600 MWh; at 100 USD/MWh and 400 g/kWh: 8.76 MUSD and 35,040 tCO2
    r = _solve()
    assert r.load_mwh == pytest.approx(10 * 24 * 365)
    assert r.total_usd == pytest.approx(8_760_000)
    assert r.usd_per_mwh == pytest.approx(100.0)
    assert r.tco2 == pytest.approx(35_040)


def test_gas_turbine_displaces_dearer_grid_by_hand():
    # a turbine MWh costs 9.3 MMBtu x 3 USD + 6.5 USD VOM = 34.4 USD, plus (1240/25 + 24) USD/kW-yr =
    # 73,600 USD/MW-yr; at 8,760 h that is 8.40 USD/MWh: 42.80 USD/MWh < 100 on the grid, so the
    # turbine (10 MW) carries the whole load: 87,600 x 34.4 + 10 x 73,600 = 3,749,440 USD
    r = _solve(options=["gas-turbine"])
    assert r.capacity_mw["gas-turbine"] == pytest.approx(10.0, rel=1e-6)
    assert r.total_usd == pytest.approx(87_600 * 34.4 + 10 * 73_600, rel=1e-6)
    assert r.tco2 == pytest.approx(87_600 * 9.3 * 53.06 / 1000, rel=1e-6)  # 493 kg/MWh


def test_grid_cheaper_than_turbine_keeps_the_grid():
    r = _solve(options=["gas-turbine"], price=30.0)
    assert r.capacity_mw["gas-turbine"] == pytest.approx(0.0, abs=1e-6)
    assert r.total_usd == pytest.approx(87_600 * 30.0)


def test_battery_moves_energy_from_cheap_to_dear_hours_by_hand():
    # 10 MW flat; price 20 USD/MWh for hours 0-11, 200 for 12-23. A MWh of 4-hour battery costs
    # 370,000 / 15 + 34,000 / 4 = 33,167 USD a year; discharged once a day it delivers 1 MWh at
    # 200 USD for 1 / 0.85 MWh bought at 20: 365 x (200 - 20 / 0.85) = 64,412 USD a year. Worth it,
    # so the LP builds as much as the dear hours can use: 12 h x 10 MW = 120 MWh.
    price = np.where(np.arange(24) < 12, 20.0, 200.0)[None, :] * FLAT
    kw = dict(grid_mw=100, price_usd_per_mwh=price, wholesale_usd_per_mwh=price, carbon_g_per_kwh=FLAT * 400,
              grid="ercot", gas_usd_per_mmbtu=3)
    base = solve_mix(FLAT * 10, options={}, **kw)
    r = solve_mix(FLAT * 10, options={"battery": supply_option("battery")}, **kw)
    assert base.total_usd == pytest.approx(365 * 120 * (20 + 200))
    assert r.capacity_mw["battery"] == pytest.approx(120.0, rel=1e-6)
    saving = 365 * (200 - 20 / 0.85) - (370_000 / 15 + 34_000 / 4)
    assert r.total_usd == pytest.approx(base.total_usd - 120 * saving, rel=1e-6)


def test_carbon_target_is_met_and_a_looser_one_costs_no_more():
    tight = _solve(options=["solar-ppa", "wind-ppa", "battery"], carbon_target_t=10_000)
    loose = _solve(options=["solar-ppa", "wind-ppa", "battery"], carbon_target_t=30_000)
    assert tight.tco2 <= 10_000 * (1 + 1e-6)
    assert loose.total_usd <= tight.total_usd * (1 + 1e-9)


def test_infeasible_carbon_target_is_one_line():
    with pytest.raises(InfeasibleMix) as err:
        _solve(options=["gas-turbine"], carbon_target_t=1000)
    assert "carbon target 1,000 tCO2/year cannot be met" in str(err.value) and "\n" not in str(err.value)


def test_load_above_the_connection_without_generators_is_one_line():
    with pytest.raises(InfeasibleMix, match="exceeds the grid connection"):
        _solve(load=30.0, grid_mw=20.0)


def test_negative_capacity_limit_is_refused():
    with pytest.raises(Chip2ChatError, match="negative"):
        _solve(options=["solar-ppa"], max_mw={"solar-ppa": -5.0})


@settings(max_examples=15, deadline=None)
@given(target=st.floats(min_value=3_000, max_value=40_000), load=st.floats(min_value=1.0, max_value=50.0))
def test_adding_solar_never_raises_the_carbon_of_the_cheapest_mix(target, load):
    """Solar can only add carbon-free energy: with it the cheapest mix under the same carbon target
    never emits more (its cost never rises either)."""
    without = _solve(load=load, grid_mw=2 * load, options=["wind-ppa", "battery"], carbon_target_t=target * load / 10)
    with_solar = _solve(load=load, grid_mw=2 * load, options=["wind-ppa", "battery", "solar-ppa"],
                        carbon_target_t=target * load / 10)
    assert with_solar.tco2 <= without.tco2 * (1 + 1e-6) + 1e-6
    assert with_solar.total_usd <= without.total_usd * (1 + 1e-9) + 1e-6


def test_weights_are_days_per_month():
    assert DAYS_IN_MONTH.sum() == 365
