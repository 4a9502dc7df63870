"""The plan sized at each option's best serving configuration (datacenter/capacity.py).

Acceptance (issue 15): the plan never needs more chips than with the scenario's fixed tp for the
same SLO, because the fixed deployment is simulated beside the search's finalists with the same
bisection and each year takes the deployment with the fewest chips. Headroom and prefix caching
change the fleet as their definitions say."""

import math

import pytest

from chip2chat.datacenter.plan import plan
from chip2chat.datacenter.scenario import DecodeChip, Scenario
from chip2chat.errors import Chip2ChatError, validated

FAST = {"requests_per_point": 200, "tolerance": 0.1, "finalists": 1}


def scenario(sizing=None, prefix_cache=None, tp=2, users=(2e5, 2e6)):
    service = {"model": "llama-3.1-8b", "weight_dtype": "fp8", "kv_dtype": "fp8",
               "slo": {"p99_ttft_ms": 500, "p99_tpot_ms": 40}, "prefix_cache": prefix_cache or {"enabled": False}}
    return validated(Scenario, dict(
        name="t", demand={"years": [{"year": 2026 + i, "daily_users": u} for i, u in enumerate(users)],
                          "sessions_per_user_per_day": 2, "turns_per_session": 4, "input_tokens_per_turn": 1024,
                          "output_tokens_per_turn": 128},
        service=service, options=[{"name": "h100", "hardware": "h100", "tp": tp, "unit_price_usd": 25000}],
        site={"catalog": "us-hyperscale", "chips_per_server": 4}, sizing={**FAST, **(sizing or {})}), "scenario")


@pytest.fixture(scope="module")
def searched():
    return plan(scenario())


@pytest.fixture(scope="module")
def fixed():
    return plan(scenario({"search": False}))


def test_the_plan_never_needs_more_chips_than_at_the_fixed_tp(searched, fixed):
    # reason: the fixed (tp=2) deployment is among the candidates, simulated the same way, so the
    # year's fewest chips is at most its count; fixed_tp_chips is that count, the search-off plan's
    s, f = searched.table, fixed.table
    assert (s["chips"] <= f["chips"]).all()
    assert list(s["fixed_tp_chips"]) == list(f["chips"])
    assert (f["configuration"] == "TP2 NVIDIA H100 SXM").all()
    # an 8B model on TP2 H100s wastes chips: the search finds fewer for the larger year
    assert s["chips"].iloc[-1] < f["chips"].iloc[-1]
    assert searched.capacities["h100"].search is not None and fixed.capacities["h100"].search is None


def test_each_year_says_its_configuration_and_its_latencies_meet_the_slo(searched):
    # reason: a row's configuration is the deployment it was sized with, simulated at its SLO rate
    t = searched.table
    assert t["meets_slo"].all() and (t["p99_ttft_ms"] <= 500).all() and (t["p99_tpot_ms"] <= 40).all()
    labels = {d.label for d in searched.capacities["h100"].deployments}
    assert set(t["configuration"]) <= labels


def test_headroom_holds_back_capacity(fixed):
    # reason: at 50 % utilisation a replica carries half its SLO rate, so replicas = ceil(2 x peak / rate);
    # N+1 adds exactly one replica of the fixed plan (2 chips)
    cap = fixed.capacities["h100"].fixed
    half = plan(scenario({"search": False, "headroom": {"target_utilization": "50 %"}})).table
    spare = plan(scenario({"search": False, "headroom": {"spare_replicas": 1}})).table
    for (_, row), h, s in zip(fixed.table.iterrows(), half["replicas"], spare["replicas"]):
        assert h == math.ceil(row["peak_request_rate"] / (0.5 * cap.slo_rate_per_s) - 1e-9)
        assert s == row["replicas"] + 1
    assert (spare["chips"] == fixed.table["chips"] + 2).all()


def test_caching_the_system_prompt_never_needs_more_chips(fixed):
    # reason: 768 of 1,024 prompt tokens cached are not prefilled: the same replica carries more
    cached = plan(scenario({"search": False}, prefix_cache={"shared_prefix_tokens": 512, "history_tokens": 256}))
    assert (cached.table["chips"] <= fixed.table["chips"]).all()
    assert cached.capacities["h100"].fixed.slo_rate_per_s > fixed.capacities["h100"].fixed.slo_rate_per_s


def test_the_report_says_which_configuration_each_year_runs_and_why(searched, fixed):
    # reason: the section lists every simulated configuration, each year's choice with the chips it
    # saves against the fixed tp, and the search's picture inline (one self-contained page)
    from chip2chat.report.configure_section import configure_section, why

    html = configure_section(searched)
    for d in searched.capacities["h100"].deployments:
        assert d.label in html
    last = searched.table.iloc[-1]
    assert why(last) == (f"{last['chips']:,} chips against {int(last['fixed_tp_chips']):,} at the option's own "
                         f"tp/pp ({1 - last['chips'] / last['fixed_tp_chips']:.0%} fewer)")
    assert 'id="configure-front"' in html and "data:image/png;base64," in html
    assert 'id="configure-front"' not in configure_section(fixed)  # no search, no picture
    missed = last.copy()
    missed["meets_slo"] = False  # an option sized at its maximum rate says so, not a saving
    assert why(missed).startswith("no configuration simulated meets the SLO")


def test_options_searched_in_processes_give_the_same_plan():
    # reason: each option's search is a pure function of its inputs and seed, wherever it runs
    s = scenario({"search": False}, users=(2e6,))
    two = s.model_copy(update={"options": [s.options[0], s.options[0].model_copy(update={"name": "tp1", "tp": 1})]})
    import pandas as pd

    pd.testing.assert_frame_equal(plan(two, workers=2).table, plan(two).table)


def test_an_option_with_a_decode_chip_prices_its_fleet_chip_by_chip():
    # reason: H100s with H200s allowed for decode (or alone): each year takes the deployment whose
    # chips cost least, so never more than the H100-only fixed tp's chips, each chip at its own price
    s = scenario(users=(2e6,))
    option = s.options[0].model_copy(update={"decode": DecodeChip(hardware="h200", unit_price_usd=35000)})
    result = plan(s.model_copy(update={"options": [option]}))
    row = result.table.iloc[0]
    h200 = row["decode_chips"]
    capex = (row["chips"] - h200) * 25000 + h200 * 35000
    assert row["chip_capex_usd"] == pytest.approx(capex / result.site.chip_amortization_years)
    assert capex <= row["fixed_tp_chips"] * 25000
    assert row["decode_chip"] == "NVIDIA H200 SXM"


def test_a_decode_chip_needs_the_search_and_another_chip():
    # reason: only the search can use a second chip; the option's own chip is no second chip
    s = scenario({"search": False}, users=(2e6,))
    for sizing, chip, message in (({"search": False}, "h200", "needs the configuration search"),
                                  ({}, "h100", "is the option's own chip")):
        s = scenario(sizing, users=(2e6,))
        bad = s.options[0].model_copy(update={"decode": DecodeChip(hardware=chip)})
        with pytest.raises(Chip2ChatError, match=message):
            plan(s.model_copy(update={"options": [bad]}))


def test_an_option_whose_own_tp_cannot_hold_the_model_is_sized_at_a_plan_that_can():
    # reason: Llama-3.1-70B in fp8 (~70 GB) leaves no KV room on one 48 GB L40S (tp=1), but a
    # server of eight can hold it; the search sizes the option instead of reporting it unserved
    from chip2chat.report.configure_section import why

    s = validated(Scenario, dict(
        name="t", demand={"years": [{"year": 2027, "daily_users": 1e6}], "sessions_per_user_per_day": 2,
                          "turns_per_session": 3, "input_tokens_per_turn": 512, "output_tokens_per_turn": 64},
        service={"model": "llama-3.1-70b", "weight_dtype": "fp8", "kv_dtype": "fp8",
                 "slo": {"p99_ttft_ms": 2000, "p99_tpot_ms": 100}},
        options=[{"name": "l40s", "hardware": "l40s", "unit_price_usd": 8000}], site={"catalog": "us-hyperscale"},
        sizing=FAST), "scenario")
    row = plan(s).table.iloc[0]
    assert row["meets_slo"] and row["chips"] > 0 and math.isnan(row["fixed_tp_chips"])
    assert "TP1 " not in row["configuration"] and why(row).startswith("the option's own tp/pp cannot hold")
