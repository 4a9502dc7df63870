"""Options that cannot be had are reported, never sized as if they could, and never crowned cheapest:
a model that does not fit the chip, a chip without a published TDP, servers that draw more than a
rack may. A bad option field aborts with the option named."""

import math

import pytest

from chip2chat.datacenter.plan import plan
from chip2chat.datacenter.scenario import Scenario
from chip2chat.errors import Chip2ChatError, ConfigError, validated

FAST = {"requests_per_point": 100, "search": False}


def scenario(options, site=None, model="llama-3.1-8b", years=((2027, 1e5),)):
    return validated(Scenario, dict(
        name="t",
        demand={"years": [{"year": y, "daily_users": u} for y, u in years], "sessions_per_user_per_day": 2,
                "turns_per_session": 3, "input_tokens_per_turn": 512, "output_tokens_per_turn": 64},
        service={"model": model, "weight_dtype": "fp8", "kv_dtype": "fp8",
                 "slo": {"p99_ttft_ms": 2000, "p99_tpot_ms": 200}},
        options=options, site=site or {"catalog": "us-average"}, sizing=FAST), "scenario")


def test_servers_above_the_rack_power_are_not_deployable():
    # us-average racks take 12 kW; one 8x MI355X server draws 8 x 1,400 W x 1.5 = 16.8 kW
    result = plan(scenario([{"name": "mi355x", "hardware": "mi355x", "unit_price_usd": 25000},
                            {"name": "h100", "hardware": "h100", "unit_price_usd": 25000}]))
    t = result.table.set_index("option")
    assert not t.loc["mi355x", "deployable"] and not t.loc["mi355x", "cheapest"]
    assert "16.8 kW" in t.loc["mi355x", "note"] and "12 kW" in t.loc["mi355x", "note"]
    assert t.loc["mi355x", "chips"] >= 1 and math.isnan(t.loc["mi355x", "facility_mw"])
    # an 8x H100 server: 8 x 700 W x 1.5 = 8.4 kW fits, so H100 is sized and cheapest
    assert t.loc["h100", "deployable"] and t.loc["h100", "cheapest"] and t.loc["h100", "racks"] >= 1


def test_racks_never_hold_more_power_than_the_site_allows():
    result = plan(scenario([{"name": "h100", "hardware": "h100", "unit_price_usd": 25000}],
                           years=((2027, 3e6),)))
    row = result.table.iloc[0]
    # 8.4 kW servers in 12 kW racks: one server per rack
    assert row["racks"] == row["servers"]


def test_a_chip_without_a_published_tdp_is_reported_until_given_one():
    result = plan(scenario([{"name": "b300", "hardware": "b300", "unit_price_usd": 50000}],
                           site={"catalog": "us-hyperscale"}))
    row = result.table.iloc[0]
    assert not row["deployable"] and "no published TDP" in row["note"] and "tdp: 1000 W" in row["note"]
    given = plan(scenario([{"name": "b300", "hardware": "b300", "unit_price_usd": 50000, "tdp": "1100 W"}],
                          site={"catalog": "us-hyperscale"})).table.iloc[0]
    assert given["deployable"] and given["cheapest"] and given["facility_mw"] > 0


def test_a_model_that_does_not_fit_one_option_leaves_the_others_sized():
    # Llama-3.1-405B in fp8 (~405 GB of weights) cannot fit one 48 GB L40S; 8x H200 can hold it
    result = plan(scenario([{"name": "l40s", "hardware": "l40s", "unit_price_usd": 8000},
                            {"name": "h200x8", "hardware": "h200", "tp": 8, "unit_price_usd": 30000}],
                           site={"catalog": "us-hyperscale"}, model="llama-3.1-405b"))
    t = result.table.set_index("option")
    assert "no room for a KV cache" in t.loc["l40s", "note"] and not t.loc["l40s", "meets_slo"]
    assert math.isnan(t.loc["l40s", "chips"])
    assert t.loc["h200x8", "cheapest"] and t.loc["h200x8", "chips"] % 8 == 0


def test_a_bad_option_names_the_option():
    with pytest.raises(Chip2ChatError, match=r"options\[1\] \(bad tp\): tensor-parallel-size 3"):
        plan(scenario([{"name": "h100", "hardware": "h100", "unit_price_usd": 25000},
                       {"name": "bad tp", "hardware": "h100", "tp": 3, "unit_price_usd": 25000}]))


@pytest.mark.parametrize("years, message", [
    (((2027, 1e5), (2027, 2e5)), "year 2027 is given twice"),
    (((2027, math.inf),), "finite number"),
    (((2027, math.nan),), "finite number"),
])
def test_impossible_demand_is_refused(years, message):
    with pytest.raises(ConfigError, match=message):
        scenario([{"name": "h100", "hardware": "h100", "unit_price_usd": 25000}], years=years)


@pytest.mark.parametrize("field, value", [("pue", math.inf), ("electricity_usd_per_mwh", math.nan),
                                          ("rack_power_kw", math.inf)])
def test_infinite_site_figures_are_refused(field, value):
    with pytest.raises(ConfigError, match=f"site.{field}"):
        scenario([{"name": "h100", "hardware": "h100", "unit_price_usd": 25000}],
                 site={"catalog": "us-average", field: value})


def test_years_come_out_in_order():
    s = scenario([{"name": "h100", "hardware": "h100", "unit_price_usd": 25000}], years=((2029, 2e5), (2027, 1e5)))
    assert [y.year for y in s.demand.years] == [2027, 2029]


def test_the_service_names_the_engine_and_an_option_may_name_its_own():
    result = plan(validated(Scenario, dict(
        name="t", demand={"years": [{"year": 2027, "daily_users": 1e5}], "sessions_per_user_per_day": 2,
                          "turns_per_session": 3, "input_tokens_per_turn": 512, "output_tokens_per_turn": 64},
        service={"model": "llama-3.1-8b", "engine": "trtllm", "slo": {"p99_ttft_ms": 2000, "p99_tpot_ms": 200}},
        options=[{"name": "trt", "hardware": "h100", "unit_price_usd": 25000},
                 {"name": "vllm", "hardware": "h100", "unit_price_usd": 25000, "engine": "vllm"},
                 {"name": "amd", "hardware": "mi300x", "unit_price_usd": 15000}],
        site={"catalog": "us-average"}, sizing=FAST), "scenario"))
    t = result.table.set_index("option")
    assert list(t["engine"]) == ["trtllm", "vllm", "trtllm"]
    assert list(t["fidelity"]) == ["measured", "measured", "roofline"]  # MI300X has no kernel tables
    assert t.loc["trt", "p99_tpot_ms"] != t.loc["vllm", "p99_tpot_ms"]
    with pytest.raises(ConfigError, match="unknown serving engine 'tgi'"):
        scenario([{"name": "x", "hardware": "h100", "unit_price_usd": 1, "engine": "tgi"}])
