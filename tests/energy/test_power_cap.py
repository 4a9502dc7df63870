"""Power caps through the cost model (engine/timing.py), and the plan's power-limited view."""

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chip2chat.catalog import CATALOG_DIR
from chip2chat.datacenter.scenario import Scenario
from chip2chat.datacenter.site import SiteEnergy, resolve_site, site_power_w
from chip2chat.energy.power_cap import capped, dvfs_exponent
from chip2chat.energy.view import power_view
from chip2chat.engine.timing import clocked_down
from chip2chat.errors import Chip2ChatError, ConfigError, validated
from chip2chat.hardware.load import load_hardware

H200 = load_hardware("h200")[1]


def test_clocked_down_by_hand():
    # 500 W of dynamic power into 250 W of headroom with exponent 2: clock sqrt(0.5) = 0.7071,
    # time 1 / 0.7071 = 1.414 s, dynamic energy 500 x 0.7071 = 353.6 J (DVFS saves energy)
    seconds, joules = clocked_down(1.0, 500.0, 250.0, 2.0)
    assert seconds == pytest.approx(2 ** 0.5)
    assert joules == pytest.approx(500 / 2 ** 0.5)
    # exponent 1 is the TDP throttle: time stretches, energy stays
    assert clocked_down(1.0, 500.0, 250.0, 1.0) == pytest.approx((2.0, 500.0))
    # a step under the cap is untouched (memory-bound decode)
    assert clocked_down(1.0, 100.0, 250.0, 2.0) == (1.0, 100.0)


@settings(max_examples=30, deadline=None)
@given(high=st.floats(min_value=300, max_value=700), drop=st.floats(min_value=0, max_value=250),
       dynamic=st.floats(min_value=1, max_value=5000), exponent=st.floats(min_value=1, max_value=3))
def test_a_lower_cap_never_raises_a_steps_throughput(high, drop, dynamic, exponent):
    static = 210.0
    low = max(static + 10.0, high - drop)  # capped() refuses caps at or below the static power
    t_high, _ = clocked_down(1e-3, dynamic * 1e-3, high - static, exponent)
    t_low, _ = clocked_down(1e-3, dynamic * 1e-3, low - static, exponent)
    assert t_low >= t_high * (1 - 1e-12)


def test_compute_bound_prefill_slows_under_a_cap_and_memory_bound_decode_barely():
    import chip2chat as c2c

    kw = dict(tp=1, batch=1, input_len=4096, output_len=64, weight_dtype="fp8", kv_dtype="fp8")
    full = c2c.estimate("llama-3.1-8b", H200, **kw)
    low = c2c.estimate("llama-3.1-8b", capped(H200, 400.0), **kw)
    assert low.ttft_s > full.ttft_s * 1.1  # a 4k-token prefill is compute-bound: it draws the TDP
    assert low.tpot_s == pytest.approx(full.tpot_s, rel=0.02)  # batch-1 decode draws far less than 400 W
    assert dvfs_exponent(H200) == 1.8  # catalog/energy/power_caps.yaml's Hopper fit


def test_bad_caps_are_one_line():
    with pytest.raises(Chip2ChatError, match="at most its TDP"):
        capped(H200, 800.0)
    with pytest.raises(Chip2ChatError, match="below the lowest"):
        capped(H200, 100.0)


def test_site_power_schedule_is_a_step_function():
    e = SiteEnergy(power=[{"year": 2027, "power": "100 MW"}, {"year": 2029, "power": "300 MW"}])
    assert [site_power_w(e, y) for y in (2026, 2027, 2028, 2029, 2031)] == [0.0, 100e6, 100e6, 300e6, 300e6]
    assert site_power_w(SiteEnergy(), 2027) is None


@pytest.mark.parametrize("raw, field", [
    ({"power": [{"year": 2027, "power": 100}]}, "power[0].power"),  # no unit
    ({"power": [{"year": 2027, "power": "-5 MW"}]}, "power[0].power"),  # negative
    ({"supply_max": {"solar-ppa": "-1 MW"}}, "supply_max.solar-ppa"),
    ({"carbon_target": 5000}, "carbon_target"),
])
def test_site_energy_field_without_unit_or_negative_is_one_line(raw, field):
    with pytest.raises(ConfigError) as err:
        validated(SiteEnergy, raw, "scenario.yaml: site.energy")
    assert field in str(err.value) and "\n" not in str(err.value)


def _scenario(power_mw):
    raw = yaml.safe_load((CATALOG_DIR / "scenarios" / "voice-assistant.yaml").read_text())
    raw["site"]["energy"] = {"power": [{"year": 2025, "power": f"{power_mw} MW"}]}
    raw["options"] = [{"name": "H200 x2", "hardware": "h200", "tp": 2, "unit_price_usd": 30000}]
    return Scenario.model_validate(raw)


def _table():
    # the plan's columns the view reads: a fleet of 2.3 MW IT (20M users) and its energy
    return pd.DataFrame([{"option": "H200 x2", "year": 2030, "daily_users": 20e6, "it_mw": 2.3142, "it_mwh": 8742.0,
                          "output_tokens": 20e6 * 12 * 365 * 80, "cheapest": True}])


def test_a_site_with_less_power_never_serves_more_users():
    served = []
    for mw in (0.5, 1.0, 2.0, 3.0, 10.0):
        s = _scenario(mw)
        view = power_view(s, resolve_site(s.site), _table(), lambda o: H200)
        served.append(float(view.power["users_served"].iloc[0]))
    assert served == sorted(served)
    assert served[-1] == 20e6  # 10 MW covers the 2.85 MW the fleet needs at the busiest month


def test_power_bound_site_by_hand():
    # 2.3142 MW IT x the busiest month's PUE (July, liquid-cooled ERCOT site) is the need; at the
    # TDP 1 MW serves 1 / need of the users; a cap can only serve as many or more
    s = _scenario(1.0)
    site = resolve_site(s.site)
    view = power_view(s, site, _table(), lambda o: H200)
    row = view.power.iloc[0]
    need = 2.3142 * max(view.pue_monthly)
    assert row["mw_needed"] == pytest.approx(need)
    assert row["power_bound"]
    assert row["users_served"] >= 20e6 * 1.0 / need * (1 - 1e-9)
    assert row["users_served"] + row["users_unmet"] == pytest.approx(20e6)
    assert row["tokens_unmet"] == pytest.approx(row["users_unmet"] * 12 * 365 * 80)
    mix = view.supply.iloc[0]
    assert mix["peak_load_mw"] <= 1.0 + 1e-9  # the served load fits the connection
    assert np.isfinite(mix["usd_per_mwh"]) and mix["tco2"] >= 0


def test_hourly_supply_load_integrates_to_the_plans_energy():
    # not power-bound (10 MW for a 2.85 MW fleet): the 12 x 24 facility load, day-weighted, is the
    # plan's IT MWh x the annual PUE (PUE by month averages to it over the year's days)
    s = _scenario(10.0)
    site = resolve_site(s.site)
    view = power_view(s, site, _table(), lambda o: H200)
    assert view.supply.iloc[0]["load_mwh"] == pytest.approx(8742.0 * site.pue, rel=1e-9)


def test_demand_the_site_cannot_power_goes_to_the_next_site():
    # 1 MW in Texas cannot carry the 2.85 MW fleet; kr-seoul (20 MW from 2025) takes the rest at its
    # own PUE, grid and supply: every user is served, split between the two
    raw = yaml.safe_load((CATALOG_DIR / "scenarios" / "voice-assistant.yaml").read_text())
    raw["site"]["energy"] = {"power": [{"year": 2025, "power": "1 MW"}], "overflow": ["kr-seoul"]}
    raw["options"] = [{"name": "H200 x2", "hardware": "h200", "tp": 2, "unit_price_usd": 30000}]
    s = Scenario.model_validate(raw)
    view = power_view(s, resolve_site(s.site), _table(), lambda o: H200)
    rows = view.power.set_index("site")
    assert list(rows.index) == ["us-hyperscale", "kr-seoul"]
    assert rows.loc["kr-seoul", "users_offered"] == pytest.approx(rows.loc["us-hyperscale", "users_unmet"])
    assert rows["users_served"].sum() == pytest.approx(20e6)
    assert rows.loc["kr-seoul", "users_unmet"] == pytest.approx(0.0)
    assert set(view.supply["site"]) == {"us-hyperscale", "kr-seoul"}
    assert view.site == "us-hyperscale + kr-seoul"


def test_overflow_names_a_catalog_site():
    with pytest.raises(ConfigError, match="unknown site 'kr-busan'"):
        validated(SiteEnergy, {"overflow": ["kr-busan"]}, "scenario.yaml: site.energy")


def test_prefill_time_never_falls_as_the_cap_falls():
    """Through the whole cost model (estimate): each lower cap gives a TTFT at least as long, and
    the uncapped chip's results are the TDP's to the last digit."""
    import chip2chat as c2c

    kw = dict(tp=1, batch=4, input_len=2048, output_len=16, weight_dtype="fp8", kv_dtype="fp8")
    uncapped = c2c.estimate("llama-3.1-8b", H200, **kw)
    assert c2c.estimate("llama-3.1-8b", capped(H200, 700.0), **kw).ttft_s == uncapped.ttft_s
    ttfts = [c2c.estimate("llama-3.1-8b", capped(H200, cap), **kw).ttft_s for cap in (700, 600, 500, 400, 300)]
    assert ttfts == sorted(ttfts) and ttfts[-1] > ttfts[0]


def test_a_chip_the_cost_model_cannot_cap_keeps_its_tdp_and_says_why(monkeypatch):
    # when the cap curve cannot be estimated (here: forced), the site serves what the TDP allows,
    # 1 MW / need of the users, and the row says why no cap was tried; the plan is not stopped
    import chip2chat.energy.view as view_module

    def fails(*args, **kwargs):
        raise Chip2ChatError("model does not fit at batch 64")

    monkeypatch.setattr(view_module, "_curve", fails)
    s = _scenario(1.0)
    view = power_view(s, resolve_site(s.site), _table(), lambda o: H200)
    row = view.power.iloc[0]
    assert row["cap_w"] == 700.0
    assert row["users_served"] == pytest.approx(20e6 * 1.0 / row["mw_needed"])
    assert row["note"].startswith("no power cap tried: options[0]: model does not fit")


def test_a_cap_the_resimulated_fleet_misses_is_not_chosen():
    # the same 1 MW site: with every cap below the TDP failing its re-simulation, the TDP stands and
    # serves 1 MW / the need of the users (by hand, as above); each failure is said in the row's note
    s = _scenario(1.0)
    site = resolve_site(s.site)
    free = power_view(s, site, _table(), lambda o: H200).power.iloc[0]
    assert free["cap_w"] < H200.tdp_w  # the estimate alone picks a cap: the re-check has work to do
    calls = []

    def refuse(option, configuration, fraction, ratio):  # fraction: the cap as a share of the TDP
        calls.append(fraction * H200.tdp_w)
        return False, "p99 TTFT 9000 ms"

    row = power_view(s, site, _table(), lambda o: H200, recheck=refuse).power.iloc[0]
    need = 2.3142 * max(power_view(s, site, _table(), lambda o: H200).pue_monthly)
    assert row["cap_w"] == H200.tdp_w
    assert row["users_served"] == pytest.approx(20e6 * 1.0 / need)
    assert 1 <= len(calls) <= 3 and calls[0] == pytest.approx(free["cap_w"])  # the best cap first, at most RECHECKS
    assert "SLO missed at" in row["note"] and "p99 TTFT 9000 ms" in row["note"]

    # a re-check that passes everything changes nothing
    same = power_view(s, site, _table(), lambda o: H200, recheck=lambda *a: (True, "")).power.iloc[0]
    assert same["cap_w"] == free["cap_w"] and same["users_served"] == pytest.approx(free["users_served"])

    # refusing only the best cap takes the next one, which serves no more than the best
    first = free["cap_w"]
    nxt = power_view(s, site, _table(), lambda o: H200,
                     recheck=lambda o, c, f, r: (f * H200.tdp_w != pytest.approx(first), "missed")).power.iloc[0]
    assert nxt["cap_w"] != first
    assert nxt["users_served"] <= free["users_served"] * (1 + 1e-9)
    assert f"{first:.0f} W (missed)" in nxt["note"]


def test_capped_within_slo_at_the_tdp_repeats_the_sizing_run():
    # at the TDP and the SLO rate the re-simulation is the bisection's own met probe (same setup,
    # candidate, rate and seed): within the SLO; carried 2x past the rate the SLO stops at, it is not
    from chip2chat.datacenter.capacity import capped_within_slo, option_capacity
    from chip2chat.engine.plan import ParallelPlan
    from chip2chat.serving.config import SchedulerConfig, Slo

    cap = option_capacity("llama-3.1-8b", H200, plan=ParallelPlan(tp=1), scheduling=SchedulerConfig(),
                          weight_dtype="fp8", kv_dtype="fp8", engine="vllm", input_len=512, output_len=128,
                          slo=Slo(ttft_ms=300.0, tpot_ms=30.0), unit_gpus=1, search=False, requests=400)
    d = cap.deployments[0]
    assert d.slo_rate_per_s is not None
    assert capped_within_slo(cap, d.label, 1.0, 1.0) == (True, "")
    ok, why = capped_within_slo(cap, d.label, 1.0, 2.0)
    assert not ok and "p99" in why
    # a cap the driver refuses is a 'no' with the reason, not an error
    ok, why = capped_within_slo(cap, d.label, 0.1, 1.0)
    assert not ok and "below the lowest" in why
