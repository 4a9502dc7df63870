"""Break-even of a custom chip against a GPU: a two-option toy by hand, and its invariants (issue 16)."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chip2chat.datacenter.breakeven import NEVER, break_even_demand, break_even_table, break_even_year, compare, tornado


def toy(tokens=(1e12, 2e12, 4e12), nre_per_year=100e6):
    """Custom: $0.10 per Mtok output plus NRE / year; GPU: $0.30 per Mtok. Chips: 1 per 1e8 tokens a
    year (custom), 2 per 1e8 (GPU). Unit prices 10k and 30k."""
    rows = []
    for year, t in zip(range(2025, 2025 + len(tokens)), tokens):
        rows.append({"option": "custom", "year": year, "output_tokens": t, "chips": t / 1e8, "unit_price_usd": 10e3,
                     "nre_usd": nre_per_year, "total_cost_usd": nre_per_year + 0.10e-6 * t, "meets_slo": True,
                     "deployable": True})
        rows.append({"option": "gpu", "year": year, "output_tokens": t, "chips": 2 * t / 1e8, "unit_price_usd": 30e3,
                     "nre_usd": 0.0, "total_cost_usd": 0.30e-6 * t, "meets_slo": True, "deployable": True})
    return pd.DataFrame(rows)


def test_two_option_toy_by_hand():
    # the custom chip saves $0.20 per Mtok; $100M a year of NRE is recovered at 100e6 / 0.2e-6 =
    # 5e14 tokens a year, served by 5e14 / 1e8 = 5e6 custom chips: beyond this toy's demand
    be = compare(toy(), "custom", "gpu")
    assert be.demand_tokens_per_year == pytest.approx(5e14)
    assert be.fleet_chips == pytest.approx(5e6)
    assert be.year is None and NEVER in be.why
    # with 1e15 tokens in the third year the plan reaches it then
    be = compare(toy(tokens=(1e14, 4e14, 1e15)), "custom", "gpu")
    assert be.year == 2027 and be.fleet_chips == pytest.approx(5e6)
    assert "2027" in be.why


def test_a_custom_chip_that_costs_more_per_token_never_pays():
    t = toy()
    t.loc[t["option"] == "gpu", "total_cost_usd"] = 0.05e-6 * t.loc[t["option"] == "gpu", "output_tokens"]
    be = compare(t, "custom", "gpu")
    assert be.fleet_chips is None and be.year is None and "never pays" in be.why
    table = break_even_table(t, ["custom"], ["gpu"])
    assert table.loc[0, "break_even_year"] == NEVER


@settings(max_examples=200, deadline=None)
@given(nre=st.floats(1e6, 1e10), more=st.floats(1.0, 100.0), a_c=st.floats(1e-9, 1e-6), gap=st.floats(0.0, 1e-6))
def test_a_larger_nre_never_lowers_the_break_even(nre, more, a_c, gap):
    low, high = break_even_demand(nre, a_c, a_c + gap), break_even_demand(nre * more, a_c, a_c + gap)
    assert (low is None) == (high is None)
    assert low is None or high >= low


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.floats(1e10, 1e16), min_size=1, max_size=8), scale=st.floats(1.0, 50.0),
       demand=st.floats(1e10, 1e17))
def test_more_demand_never_delays_the_break_even_year(tokens, scale, demand):
    years = list(range(2025, 2025 + len(tokens)))
    base = break_even_year(years, tokens, demand)
    more = break_even_year(years, [t * scale for t in tokens], demand)
    assert base is None or (more is not None and more <= base)


@settings(max_examples=50, deadline=None)
@given(scale=st.floats(1.0, 20.0), nre=st.floats(1e6, 1e9))
def test_more_demand_never_raises_the_break_even_fleet_in_a_plan_table(scale, nre):
    # per-token costs do not depend on volume in the toy, so the break-even fleet stays put
    # and the year can only come earlier
    base = compare(toy(nre_per_year=nre), "custom", "gpu")
    more = compare(toy(tokens=tuple(t * scale for t in (1e12, 2e12, 4e12)), nre_per_year=nre), "custom", "gpu")
    assert more.fleet_chips <= base.fleet_chips * (1 + 1e-9)
    assert base.year is None or more.year <= base.year


def test_the_tornado_moves_the_saving_by_hand():
    t = toy(tokens=(1e14, 4e14, 1e15))
    out = tornado(t, "custom", "gpu", amortization_years=4, operations_share=0.03,
                  custom_unit_price_at=lambda hbm_factor=1.0, defect_factor=1.0: 10e3 * (hbm_factor + defect_factor) / 2)
    row = out.set_index("lever")
    base = (0.30e-6 - 0.10e-6) * 1.5e15 - 3 * 100e6  # 300M - 300M = 0
    assert row.loc["NRE", "saving_base_usd"] == pytest.approx(base, abs=1.0)
    # NRE x2 costs another 3 years x $100M
    assert row.loc["NRE", "saving_high_usd"] == pytest.approx(base - 300e6, abs=1.0)
    # GPU price x1.3: 30% of 30k on 3e7 GPU chip-years, weighed 1/4 + 0.03 a year
    gpu_chips = 2 * 1.5e15 / 1e8
    assert row.loc["GPU price", "saving_high_usd"] == pytest.approx(base + 0.3 * 30e3 * gpu_chips * 0.28, rel=1e-9)
    # HBM price x1.5 raises the custom unit price by 2.5k on 1.5e7 custom chip-years
    assert row.loc["HBM price", "saving_high_usd"] == pytest.approx(base - 2.5e3 * 1.5e7 * 0.28, rel=1e-9)
    assert list(out["swing_usd"]) == sorted(out["swing_usd"], reverse=True)
