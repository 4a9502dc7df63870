"""Grid shapes: ERCOT's measured typical day reproduces from the shipped sample, the typical-day
table format reads and checks, and the carbon-free share is a share."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml

from chip2chat.catalog import CATALOG_DIR
from chip2chat.energy import grid
from chip2chat.energy.grid import load_grid, weighted_mean
from chip2chat.errors import ConfigError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "derive_grid_shapes.py"


def _script():
    spec = importlib.util.spec_from_file_location("derive_grid_shapes", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ercot_tables_reproduce_from_the_shipped_sample():
    # the YAML holds the script's output rounded to 3 decimals
    d = _script()
    derived = d.derive(d.load_sample())
    raw = yaml.safe_load((CATALOG_DIR / "energy" / "grids.yaml").read_text())["ercot"]
    np.testing.assert_allclose(np.array(raw["carbon_typical_day"]), d.carbon_shape(derived["carbon_g_per_kwh"]),
                               atol=5e-4)
    np.testing.assert_allclose(np.array(raw["carbon_free_share"]), derived["carbon_free_share"], atol=5e-4)
    ercot = load_grid("ercot")
    np.testing.assert_allclose(ercot.carbon_shape, d.carbon_shape(derived["carbon_g_per_kwh"]), atol=2e-3)
    np.testing.assert_allclose(ercot.carbon_free_share, derived["carbon_free_share"], atol=5e-4)


def test_the_sample_matches_ercots_own_daily_totals():
    # each hourly row was summed from ERCOT's 15-minute values: its 24 hours must add up to the
    # file's Total column (a check on the transcription), and every month has 3-4 sampled days
    d = _script()
    rows = [line.split(",") for line in d.SAMPLE.read_text().splitlines()[2:]]
    hourly = [r for r in rows if r[1] in d.HOURLY_FUELS]
    assert len(hourly) == 5 * len(d.SAMPLE_DAYS)
    for r in hourly:
        assert sum(float(v) for v in r[3:27]) == pytest.approx(float(r[2]), rel=1e-3, abs=3), r[:2]
    months = d.load_sample()
    assert sorted(months) == list(range(1, 13)) and all(3 <= months[m]["days"] <= 4 for m in months)


def test_one_hour_by_hand(tmp_path):
    # 1 Jun 2021, 00:00-01:00, the four 15-minute values summed by hand from IntGenByFuel202106.tsv:
    # coal 2190.9+2141.1+2101.7+2091.0 = 8524.7 MWh, gas 182.1+182.2+182.3+182.2 = 728.8,
    # gas-CC 4669.0+4678.0+4633.9+4609.7 = 18590.6, wind 1415.2+1345.5+1271.1+1219.2 = 5251.0,
    # solar 0.4; nuclear, hydro and biomass their daily totals / 24: 5041.03, 106.95, 24.67.
    # generation 38268.2 MWh; CO2 8524.7 x 1047.8 + 728.8 x 553.2 + 18590.6 x 411.0 g/kWh
    # = 16.977e9 g -> 443.6 g/kWh; carbon-free (5251.0 + 0.4 + 5041.03 + 106.95 + 24.67) / 38268.2 = 0.2724
    d = _script()
    lines = d.SAMPLE.read_text().splitlines()
    one = tmp_path / "one_day.csv"
    one.write_text("\n".join([lines[1]] + [ln for ln in lines if ln.startswith("06/01/2021,")]) + "\n")
    carbon, cfs = d.month_tables(d.load_sample(one)[6])
    assert carbon[0] == pytest.approx(443.6, abs=0.1)
    assert cfs[0] == pytest.approx(0.2724, abs=1e-4)


def test_measured_shapes_keep_their_invariants():
    # every grid's shapes average to 1; a carbon-free share is a share; solar makes nothing at night
    for gid in ("ercot", "pjm-dom", "kr"):
        g = load_grid(gid)
        assert weighted_mean(g.carbon_shape) == pytest.approx(1.0)
        assert g.carbon_free_share is None or (0 <= g.carbon_free_share.min() and g.carbon_free_share.max() <= 1)
    assert load_grid("pjm-dom").carbon_free_share is None  # no measured series found (grids.yaml header)
    shapes = yaml.safe_load((SCRIPT.parent / "data" / "grid_samples" / "ercot_vre_shapes.yaml").read_text())
    solar, wind = np.array(shapes["solar"]), np.array(shapes["wind"])
    np.testing.assert_allclose(solar.mean(axis=1), 1.0, atol=2e-3)
    np.testing.assert_allclose(wind.mean(axis=1), 1.0, atol=2e-3)
    assert solar[:, [0, 1, 2, 3, 4, 22, 23]].max() < 0.01 and solar[:, 12].min() > 1.5
    # ERCOT's carbon-free share is lowest in summer, when gas meets the air-conditioning load
    ercot = load_grid("ercot").carbon_free_share.mean(axis=1)
    assert ercot[5:8].max() < ercot[[0, 1, 2, 3, 4, 10, 11]].min()


def _with_ercot(monkeypatch, **changes):
    raw = yaml.safe_load((CATALOG_DIR / "energy" / "grids.yaml").read_text())
    raw["ercot"].update(changes)
    monkeypatch.setattr(grid, "read_yaml", lambda name: raw)


@pytest.mark.parametrize("changes, field", [
    ({"carbon_typical_day": [[1.0] * 24] * 11}, "ercot.carbon_typical_day"),
    ({"carbon_typical_day": [[1.0] * 23] * 12}, "ercot.carbon_typical_day"),
    ({"carbon_typical_day": [[-1.0] * 24] * 12}, "ercot.carbon_typical_day"),
    ({"carbon_monthly": [1.0] * 12}, "ercot.carbon_typical_day"),
    ({"carbon_free_share": [[1.2] * 24] * 12}, "ercot.carbon_free_share"),
    ({"carbon_free_share": [["a"] * 24] * 12}, "ercot.carbon_free_share"),
])
def test_bad_typical_day_tables_are_one_line_naming_the_field(monkeypatch, changes, field):
    _with_ercot(monkeypatch, **changes)
    with pytest.raises(ConfigError) as err:
        load_grid("ercot")
    assert field in str(err.value) and "\n" not in str(err.value)


def test_a_typical_day_table_is_scaled_to_mean_one(monkeypatch):
    # a table twice as high at 18:00 in July: after scaling, that hour is twice the others in July
    table = np.ones((12, 24))
    table[6, 18] = 2.0
    _with_ercot(monkeypatch, carbon_typical_day=table.tolist())
    shape = load_grid("ercot").carbon_shape
    assert weighted_mean(shape) == pytest.approx(1.0)
    assert shape[6, 18] == pytest.approx(2 * shape[6, 17])


def test_ppa_shapes_are_ercots_measured_output_by_season():
    # supply.yaml's solar and wind hourly shapes are the script's seasonal means of ERCOT's measured
    # output (rounded to 3 decimals): solar dark at night, wind strongest at night in summer
    d = _script()
    derived = d.derive(d.load_sample())
    supply = yaml.safe_load((CATALOG_DIR / "energy" / "supply.yaml").read_text())
    for name in ("solar", "wind"):
        for season, day in d.seasonal(derived[f"{name}_shape"]).items():
            np.testing.assert_allclose(supply[f"{name}-ppa"]["hourly"][season], day, atol=5e-4)
    solar = supply["solar-ppa"]["hourly"]["summer"]
    assert max(solar[:5] + solar[21:]) == 0.0
    wind = supply["wind-ppa"]["hourly"]["summer"]
    assert wind[1] > 1.3 > 0.6 > wind[12]
