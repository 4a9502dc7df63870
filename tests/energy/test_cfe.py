"""The 24/7 carbon-free energy (CFE) score and target of the supply-mix LP, against hand calculations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chip2chat.energy.mix import InfeasibleMix, solve_mix
from chip2chat.energy.supply import supply_option
from chip2chat.errors import Chip2ChatError

FLAT = np.ones((12, 24))
MIDDAY = [1.0 if 8 <= h < 16 else 0.0 for h in range(24)]
"""A toy plant that runs 8 hours a day (08:00-16:00) at one level, every season."""


def _midday_ppa(strike: str) -> object:
    # capacity factor 25 % over 8 of 24 hours: 0.25 x 24 / 8 = 0.75 MW per MW contracted while it runs
    return supply_option("midday-ppa", {"kind": "ppa", "name": "toy midday plant", "price": {"ercot": strike},
                                        "capacity_factor": {"ercot": "25 %"},
                                        "hourly": {s: MIDDAY for s in ("winter", "spring", "summer", "autumn")},
                                        "sources": ["hand-made test plant"]}, "test")


def _battery(round_trip: str = "80 %") -> object:
    return supply_option("store", {"kind": "battery", "name": "toy battery", "capex": "370 USD/kWh", "life": "15 years",
                                   "fixed_om": "34 USD/kW/year", "duration": "4 h", "round_trip": round_trip,
                                   "sources": ["hand-made test battery"]}, "test")


def _solve(options: dict, load=10.0, wholesale=60.0, price=100.0, **kw):
    return solve_mix(FLAT * load, grid_mw=kw.pop("grid_mw", 100.0), price_usd_per_mwh=FLAT * price,
                     wholesale_usd_per_mwh=FLAT * wholesale, carbon_g_per_kwh=FLAT * 400, options=options, grid="ercot",
                     gas_usd_per_mmbtu=3.0, **kw)


def _catalog(*names):
    return {n: supply_option(n) for n in names}


def test_cfe_score_of_a_midday_plant_by_hand():
    # strike 20 < wholesale 60: the contract earns money, so the LP takes all it may (8 MW): 6 MW
    # while it runs, used on site. 10 MW flat load: 8 h x 6 MW matched of 24 h x 10 MW = 0.2
    r = _solve({"midday-ppa": _midday_ppa("20 USD/MWh")}, max_mw={"midday-ppa": 8.0})
    assert r.capacity_mw["midday-ppa"] == pytest.approx(8.0)
    assert r.cfe_share == pytest.approx(8 * 6 / (24 * 10))
    # a grid half carbon-free every hour adds half of each hour's import: 8 h x (6 + 0.5 x 4) + 16 h x 5
    half = _solve({"midday-ppa": _midday_ppa("20 USD/MWh")}, max_mw={"midday-ppa": 8.0}, grid_cfe_share=FLAT * 0.5)
    assert half.cfe_share == pytest.approx((8 * 8 + 16 * 5) / 240)
    assert half.total_usd == pytest.approx(r.total_usd)  # the share changes the score, not the cheapest mix


def test_grid_only_site_scores_zero_and_a_clean_grid_one():
    assert _solve({}).cfe_share == pytest.approx(0.0)
    assert _solve({}, grid_cfe_share=FLAT).cfe_share == pytest.approx(1.0)


def test_full_cfe_with_solar_and_battery_stores_the_night_by_hand():
    # 100 % hour by hour, grid never carbon-free: the battery carries 16 night hours x 10 MW = 160 MWh,
    # charged at 80 % round trip from 200 MWh of the plant's 8 daytime hours (25 MW), so the plant
    # gives 10 + 25 = 35 MW while it runs: 35 / 0.75 = 46.67 MW contracted. Its output (102,200
    # MWh a year) exceeds the load (87,600): the target lifts the contracts-within-load cap for a
    # contract that costs money (strike 50 > wholesale 30).
    r = _solve({"midday-ppa": _midday_ppa("50 USD/MWh"), "store": _battery("80 %")}, wholesale=30.0, cfe_target=1.0)
    assert r.cfe_share == pytest.approx(1.0, abs=1e-6)
    assert r.capacity_mw["store"] == pytest.approx(160.0, rel=1e-6)
    assert r.capacity_mw["midday-ppa"] == pytest.approx(35 / 0.75, rel=1e-6)
    assert r.energy_mwh["grid"] == pytest.approx(0.0, abs=1e-3) and r.tco2 == pytest.approx(0.0, abs=1e-3)
    assert r.energy_mwh["store"] == pytest.approx(-365 * 40.0, rel=1e-6)  # losses: 200 in, 160 out a day


def test_battery_discharge_is_carbon_free_only_when_charged_carbon_free():
    # the battery arbitrage of test_mix: 20 USD/MWh in hours 0-11, 200 in hours 12-23, so a 120 MWh
    # battery charges in the cheap half and carries the dear half. If the grid is carbon-free in the
    # cheap hours, the stored energy is too: every hour is matched. If it is carbon-free only in the
    # dear hours (when the site draws nothing), the stored energy is grid energy: nothing is matched.
    cheap = (np.arange(24) < 12)[None, :] * FLAT
    price = np.where(cheap, 20.0, 200.0)
    kw = dict(grid_mw=100, price_usd_per_mwh=price, wholesale_usd_per_mwh=price, carbon_g_per_kwh=FLAT * 400,
              options={"battery": supply_option("battery")}, grid="ercot", gas_usd_per_mmbtu=3)
    clean_cheap = solve_mix(FLAT * 10, grid_cfe_share=cheap, **kw)
    clean_dear = solve_mix(FLAT * 10, grid_cfe_share=1.0 - cheap, **kw)
    assert clean_cheap.capacity_mw["battery"] == pytest.approx(120.0, rel=1e-6)
    assert clean_cheap.cfe_share == pytest.approx(1.0, abs=1e-6)
    assert clean_dear.cfe_share == pytest.approx(0.0, abs=1e-6)


def test_infeasible_cfe_target_is_one_line_with_what_the_options_allow():
    # the 8 MW midday plant alone reaches 0.2 (first test): 0.9 cannot be met
    with pytest.raises(InfeasibleMix) as err:
        _solve({"midday-ppa": _midday_ppa("20 USD/MWh")}, max_mw={"midday-ppa": 8.0}, cfe_target=0.9)
    message = str(err.value)
    assert "24/7 carbon-free target 90.0% of the load cannot be met" in message
    assert "at most 20.0%" in message and "\n" not in message


def test_cfe_target_within_a_carbon_target_says_what_both_allow():
    # 8 MW of the midday plant (0.2 alone, first test) leaves 8 h x 4 MW + 16 h x 10 MW = 192 MWh a
    # day to the grid at 0.4 t/MWh: 365 x 192 x 0.4 = 28,032 tCO2 a year, so that carbon target is
    # met; a CFE target of 0.5 on top reaches only 0.2 and says so in one line
    options = {"midday-ppa": _midday_ppa("20 USD/MWh")}
    with pytest.raises(InfeasibleMix) as err:
        _solve(options, max_mw={"midday-ppa": 8.0}, cfe_target=0.5, carbon_target_t=365 * 192 * 0.4)
    assert "at most 20.0%" in str(err.value) and "\n" not in str(err.value)
    # a carbon target no mix can meet gives the carbon target's own line
    with pytest.raises(InfeasibleMix, match="carbon target 1 tCO2/year cannot be met"):
        _solve(options, max_mw={"midday-ppa": 8.0}, cfe_target=0.1, carbon_target_t=1.0)


@pytest.mark.parametrize("target", [-0.1, 1.5])
def test_cfe_target_outside_0_to_1_names_the_field(target):
    with pytest.raises(Chip2ChatError, match=r"cfe_target .* is outside 0\.\.1"):
        _solve({}, cfe_target=target)


def test_grid_cfe_share_outside_0_to_1_or_misshaped_is_refused():
    with pytest.raises(Chip2ChatError, match="grid_cfe_share must be"):
        _solve({}, grid_cfe_share=FLAT * 1.2)
    with pytest.raises(Chip2ChatError, match=r"shape \(24,\)"):
        _solve({}, grid_cfe_share=np.zeros(24))


@settings(max_examples=12, deadline=None)
@given(low=st.floats(min_value=0.0, max_value=0.95), step=st.floats(min_value=0.0, max_value=0.05))
def test_a_higher_cfe_target_never_costs_less(low, step):
    """Every mix meeting the higher target meets the lower one: its cheapest cost is no lower."""
    options = _catalog("solar-ppa", "wind-ppa", "battery")
    lower = _solve(options, wholesale=30.0, cfe_target=low)
    higher = _solve(options, wholesale=30.0, cfe_target=low + step)
    assert lower.cfe_share >= low - 1e-6 and higher.cfe_share >= low + step - 1e-6
    assert higher.total_usd >= lower.total_usd * (1 - 1e-9) - 1e-6


@settings(max_examples=12, deadline=None)
@given(target=st.floats(min_value=0.0, max_value=0.95), share=st.floats(min_value=0.0, max_value=1.0))
def test_a_cleaner_grid_never_raises_the_cheapest_cost_under_a_cfe_target(target, share):
    """A carbon-free grid share only adds carbon-free supply: the mix without it stays feasible."""
    options = _catalog("solar-ppa", "wind-ppa", "battery")
    dirty = _solve(options, wholesale=30.0, cfe_target=target)
    clean = _solve(options, wholesale=30.0, cfe_target=target, grid_cfe_share=FLAT * share)
    assert clean.total_usd <= dirty.total_usd * (1 + 1e-9) + 1e-6
    assert clean.cfe_share >= target - 1e-6
