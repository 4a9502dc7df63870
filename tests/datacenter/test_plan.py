"""The capacity planner: invariants the issue names, each with its reason."""

import re

import numpy as np
import pytest

from chip2chat.datacenter.plan import DAYS_PER_YEAR, SECONDS_PER_DAY, plan, size_year
from chip2chat.datacenter.scenario import Scenario, load_scenario
from chip2chat.errors import ConfigError

SITE = {"pue": 1.25, "rack_power_kw": 40, "electricity_usd_per_mwh": 80, "grid_carbon_g_per_kwh": 350,
        "facility_capex_usd_per_mw": 10e6, "facility_amortization_years": 15, "chip_amortization_years": 4,
        "server_overhead": 1.2, "chips_per_server": 8}


def scenario(users=(1e6, 2e6), slo=(400, 40), **changes):
    raw = {"name": "t", "demand": {"years": [{"year": 2025 + i, "daily_users": u} for i, u in enumerate(users)],
                                   "sessions_per_user_per_day": 2, "turns_per_session": 4,
                                   "input_tokens_per_turn": 800, "output_tokens_per_turn": 120},
           "service": {"model": "llama-3.1-8b", "slo": {"p99_ttft_ms": slo[0], "p99_tpot_ms": slo[1]}},
           "options": [{"name": "h100", "hardware": "h100", "unit_price_usd": 25000}],
           "site": SITE, "sizing": {"requests_per_point": 300, "search": False}}
    raw.update(changes)
    return Scenario(**raw)


@pytest.fixture(scope="module")
def base_plan():
    return plan(scenario())


def test_doubling_demand_about_doubles_chips(base_plan):
    t = base_plan.table
    one, two = t.iloc[0], t.iloc[1]  # 1M then 2M daily users
    per_replica_chips = one["chips"] / one["replicas"]
    assert abs(two["chips"] - 2 * one["chips"]) <= per_replica_chips  # within replica rounding


def test_annual_energy_is_the_integral_of_power_over_the_load_curve(base_plan):
    cap = base_plan.capacities["h100"]
    curve = scenario().demand.load_curve.weights()
    from chip2chat.datacenter.site import resolve_site

    site = resolve_site(scenario().site)
    daily = 1e6 * 2 * 4
    sized = size_year(cap, daily_requests=daily, output_tokens_per_request=120, curve=curve, site=site,
                      tdp_w=700, unit_price_usd=25000)
    # integrate P(t) over the day with the trapezoid rule on a 10 s grid (the curve interpolated)
    t = np.arange(0, SECONDS_PER_DAY + 1, 10.0)
    minute_mid = (np.arange(1440) + 0.5) * 60
    load = np.interp(t, minute_mid, curve, period=SECONDS_PER_DAY)
    deployment, replicas = cap.sized(daily / SECONDS_PER_DAY * curve.max())  # the year's configuration
    assert (replicas, deployment.label) == (sized["replicas"], sized["configuration"])
    power = (replicas * deployment.static_power_w + deployment.dynamic_j_per_output_token
             * daily / SECONDS_PER_DAY * load * 120) * site.server_overhead * site.pue
    assert sized["annual_mwh"] == pytest.approx(np.trapezoid(power, t) * DAYS_PER_YEAR / 3.6e9, rel=1e-3)
    # and it is not the peak power for a year: the curve's mean is below its peak
    assert sized["annual_mwh"] < sized["facility_mw"] * 8760


def test_pue_is_applied_exactly_once():
    with_pue = plan(scenario(users=(1e6,))).table.iloc[0]
    no_pue = plan(scenario(users=(1e6,), site={**SITE, "pue": 1.0})).table.iloc[0]
    assert with_pue["annual_mwh"] == pytest.approx(1.25 * no_pue["annual_mwh"])
    assert with_pue["facility_mw"] == pytest.approx(1.25 * with_pue["it_mw"])
    assert with_pue["annual_mwh"] == pytest.approx(1.25 * with_pue["it_mwh"])


def test_a_tighter_slo_never_needs_fewer_chips():
    chips = [plan(scenario(users=(3e6,), slo=slo)).table.iloc[0]["chips"] for slo in ((2000, 80), (400, 40), (150, 25))]
    assert chips[0] <= chips[1] <= chips[2]


def test_totals_are_the_sum_of_their_parts(base_plan):
    t = base_plan.table
    from chip2chat.datacenter.plan import COST_COLUMNS

    assert np.allclose(t["total_cost_usd"], t[list(COST_COLUMNS[:-1])].sum(axis=1))
    assert np.allclose(t["tco2"], t["annual_mwh"] * 350 / 1000)


def test_an_option_that_cannot_meet_the_slo_is_reported_not_dropped():
    p = plan(scenario(users=(1e6,), slo=(5, 1)))  # 1 ms per token: no H100 decodes an 8B model that fast
    row = p.table.iloc[0]
    assert not row["meets_slo"] and row["note"].startswith("cannot meet the SLO") and row["chips"] > 0
    assert not p.table["cheapest"].any()


@pytest.mark.parametrize("mutate, path", [
    (lambda s: s["demand"]["years"][1].update(daily_users="many"), "demand.years[1].daily_users"),
    (lambda s: s["demand"].pop("turns_per_session"), "demand.turns_per_session"),
    (lambda s: s["service"]["slo"].update(p99_ttft_ms=-1), "service.slo.p99_ttft_ms"),
    (lambda s: s["options"][0].update(unit_price_usd=-1), "options[0].unit_price_usd"),
    (lambda s: s["options"][0].update(nre_usd=1e9), "options[0]"),
])
def test_bad_scenarios_name_the_field_path(tmp_path, mutate, path):
    import yaml

    raw = scenario().model_dump(exclude_none=True)
    raw["site"] = SITE
    mutate(raw)
    f = tmp_path / "scenario.yaml"
    f.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="scenario.yaml: " + re.escape(path)):
        load_scenario(f)


def test_plan_command_writes_csv_whose_totals_match_their_parts(tmp_path):
    import subprocess
    import sys

    import pandas as pd
    import yaml

    raw = scenario().model_dump(exclude_none=True)
    raw["site"] = {"catalog": "kr-seoul"}
    f = tmp_path / "scenario.yaml"
    f.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "chip2chat.cli", "plan", str(f), "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "report:" in p.stdout and (out / "report.html").exists() and (out / "results.json").exists()
    t = pd.read_csv(out / "results.csv")
    from chip2chat.datacenter.plan import COST_COLUMNS

    assert np.allclose(t["total_cost_usd"], t[list(COST_COLUMNS[:-1])].sum(axis=1))
    assert np.allclose(t["tco2"], t["annual_mwh"] * 417 / 1000)  # Seoul grid: 417 g/kWh
    assert np.allclose(t["facility_mw"], t["it_mw"] * 1.56)  # Seoul: the global average PUE


def test_bad_scenario_file_is_one_line_on_the_command_line(tmp_path):
    import subprocess
    import sys

    f = tmp_path / "scenario.yaml"
    f.write_text("name: x\ndemand: {years: [{year: 2025, daily_users: lots}]}\n")
    p = subprocess.run([sys.executable, "-m", "chip2chat.cli", "plan", str(f)], capture_output=True, text=True)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert p.returncode == 2 and len(lines) == 1 and "demand.years[0].daily_users" in lines[0]
