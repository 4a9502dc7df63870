"""Bad energy input is one line naming the file and field; an infeasible year keeps the rest."""

import re

import pandas as pd
import pytest
import yaml

from chip2chat.catalog import CATALOG_DIR
from chip2chat.datacenter.scenario import Scenario, load_scenario
from chip2chat.datacenter.site import resolve_site
from chip2chat.energy.grid import load_grid, monthly_pue, weighted_mean
from chip2chat.energy.supply import supply_option
from chip2chat.energy.view import power_view
from chip2chat.errors import Chip2ChatError, ConfigError, NotFoundError
from chip2chat.hardware.load import load_hardware
from chip2chat.report.power_section import power_section, power_summary

H200 = load_hardware("h200")[1]


def _raw(energy: dict) -> dict:
    raw = yaml.safe_load((CATALOG_DIR / "scenarios" / "voice-assistant.yaml").read_text())
    raw["site"]["energy"] = energy
    raw["options"] = [{"name": "H200 x2", "hardware": "h200", "tp": 2, "unit_price_usd": 30000}]
    return raw


@pytest.mark.parametrize("energy, field", [
    ({"power": [{"year": 2027, "power": 100}]}, "site.energy.power[0].power"),
    ({"power": [{"year": 2027, "power": "-100 MW"}]}, "site.energy.power[0].power"),
    ({"onsite": "-5 MW"}, "site.energy.onsite"),
    ({"cooling": "water"}, "site.energy.cooling"),
    ({"carbon_target": "5000 t"}, "site.energy.carbon_target"),
    ({"cfe_target": "150 %"}, "site.energy.cfe_target"),
    ({"cfe_target": "-10 %"}, "site.energy.cfe_target"),
    ({"cfe_target": 0.9}, "site.energy.cfe_target"),
])
def test_scenario_site_energy_errors_name_file_and_field(tmp_path, energy, field):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_raw(energy)))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {field}:") and "\n" not in message


def test_supply_option_without_its_unit_is_one_line():
    raw = {"kind": "generator", "name": "turbine", "capex": 1500, "life": "25 years", "fixed_om": "20 USD/kW/year",
           "variable_om": "5 USD/MWh", "heat_rate": "9.5 MMBtu/MWh", "fuel_carbon": "53.06 kg/MMBtu", "sources": ["x"]}
    with pytest.raises(ConfigError) as err:
        supply_option("my-turbine", raw, "sites.yaml")
    assert "my-turbine" in str(err.value) and "capex" in str(err.value) and "1500 USD/kW" in str(err.value)
    with pytest.raises(ConfigError, match="kind"):
        supply_option("thing", {"kind": "nuclear"})
    with pytest.raises(NotFoundError):
        supply_option("solar-pv")


def test_unknown_grid_is_named():
    with pytest.raises(NotFoundError, match="ercott"):
        load_grid("ercott")


def test_grid_shapes_average_to_one_and_pue_to_the_sites():
    for gid in ("ercot", "pjm-dom", "kr"):
        grid = load_grid(gid)
        assert weighted_mean(grid.carbon_shape) == pytest.approx(1.0)
        assert weighted_mean(grid.price_shape) == pytest.approx(1.0)
        pue = monthly_pue(1.3, grid.temperature_c, "air")
        days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        assert sum(p * d for p, d in zip(pue, days)) / 365 == pytest.approx(1.3)
        assert pue.argmax() in (6, 7)  # July or August: the hot months cost the most cooling
        liquid = monthly_pue(1.3, grid.temperature_c, "liquid")
        assert liquid.max() - liquid.min() < pue.max() - pue.min()


def _gas_only_view(**target):
    """A 10 MW site that may add only gas turbines, under `target`, and the power view of one year's
    2.3 MW fleet: (scenario, view)."""
    s = Scenario.model_validate(_raw({"power": [{"year": 2025, "power": "10 MW"}], "supply": ["gas-turbine"],
                                      **target}))
    table = pd.DataFrame([{"option": "H200 x2", "year": 2030, "daily_users": 20e6, "it_mw": 2.3142,
                           "it_mwh": 8742.0, "output_tokens": 20e6 * 12 * 365 * 80, "cheapest": True}])
    return s, power_view(s, resolve_site(s.site), table, lambda o: H200)


def test_an_infeasible_carbon_target_leaves_the_plan_and_says_why_in_one_line():
    _, view = _gas_only_view(carbon_target="1 tCO2/year")
    assert len(view.power) == 1 and view.power.iloc[0]["users_served"] == 20e6  # the power view stands
    note = view.supply.iloc[0]["note"]
    assert "carbon target 1 tCO2/year cannot be met" in note and "\n" not in note
    lines = power_summary(view)
    assert len(lines) == 1 and "cannot be met" in lines[0]
    assert 'id="section-energy-supply"' in power_section(view)


def test_an_infeasible_cfe_target_leaves_the_plan_and_says_why_in_one_line():
    # gas turbines burn carbon: the most any mix matches is what the grid's own carbon-free share
    # gives (ERCOT's measured typical days, catalog/energy/grids.yaml: 0.19-0.65 by hour), below 50 %
    s, view = _gas_only_view(cfe_target="50 %")
    assert len(view.power) == 1 and view.power.iloc[0]["users_served"] == 20e6  # the power view stands
    note = view.supply.iloc[0]["note"]
    assert "24/7 carbon-free target 50.0% of the load cannot be met" in note
    most = float(re.search(r"at most ([0-9.]+)%", note).group(1)) / 100
    grid = load_grid(resolve_site(s.site).energy.grid).carbon_free_share
    assert grid.min() <= most <= grid.max() and most < 0.5  # the grid's share, load-weighted, is all there is
    assert "\n" not in note
    assert "cannot be met" in power_summary(view)[0] and 'id="section-energy-supply"' in power_section(view)


def test_a_cfe_target_is_met_and_shown_in_the_energy_table():
    s = Scenario.model_validate(_raw({"power": [{"year": 2025, "power": "10 MW"}],
                                      "supply": ["solar-ppa", "wind-ppa", "battery"], "cfe_target": "60 %"}))
    table = pd.DataFrame([{"option": "H200 x2", "year": 2030, "daily_users": 20e6, "it_mw": 2.3142,
                           "it_mwh": 8742.0, "output_tokens": 20e6 * 12 * 365 * 80, "cheapest": True}])
    view = power_view(s, resolve_site(s.site), table, lambda o: H200)
    row = view.supply.iloc[0]
    assert row["note"] == "" and row["cfe_share"] >= 0.6 - 1e-6
    assert "24/7 CFE" in power_section(view) and "24/7 CFE 60%" in power_summary(view)[0]


def test_supply_max_must_name_a_supply_option():
    s = Scenario.model_validate(_raw({"supply": ["solar-ppa"], "supply_max": {"wind-ppa": "10 MW"}}))
    table = pd.DataFrame([{"option": "H200 x2", "year": 2030, "daily_users": 20e6, "it_mw": 2.3142,
                           "it_mwh": 8742.0, "output_tokens": 1e12, "cheapest": True}])
    with pytest.raises(Chip2ChatError, match="supply_max names 'wind-ppa'"):
        power_view(s, resolve_site(s.site), table, lambda o: H200)
