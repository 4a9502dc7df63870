"""A plan with a custom design answers the issue-16 question for each GPU: break-even fleet and year,
or never within the plan, with the reason; the NRE and the servers are in its money."""

import pytest
from rich.console import Console

from chip2chat.catalog import CATALOG_DIR
from chip2chat.datacenter.breakeven import NEVER, compare
from chip2chat.datacenter.plan import option_design, plan
from chip2chat.datacenter.prices import load_prices
from chip2chat.datacenter.scenario import Scenario, load_scenario
from chip2chat.errors import ConfigError
from chip2chat.hardware.load import load_hardware
from chip2chat.report.tables import break_even_rich


def scenario(users, **economics):
    return Scenario(**{
        "name": "t", "demand": {"years": [{"year": 2026 + i, "daily_users": u} for i, u in enumerate(users)],
                                "sessions_per_user_per_day": 2, "turns_per_session": 4,
                                "input_tokens_per_turn": 800, "output_tokens_per_turn": 120},
        "service": {"model": "llama-3.1-8b", "slo": {"p99_ttft_ms": 500, "p99_tpot_ms": 50}},
        "options": [{"name": "h100", "hardware": "h100"}, {"name": "custom", "design": "hbm4-custom"}],
        "site": {"catalog": "us-hyperscale"}, "sizing": {"seed": 0},
        "economics": economics})


@pytest.fixture(scope="module")
def small():
    return plan(scenario((1e6, 2e6)))


def test_every_gpu_gets_a_break_even_row_with_its_reason(small):
    be = small.break_even.set_index("gpu")
    assert list(be.index) == ["h100"]
    row = be.loc["h100"]
    assert row["break_even_year"] == NEVER or row["break_even_year"].isdigit()
    assert "custom" in row["why"] and "h100" in row["why"]
    console = Console(width=200, record=True)
    console.print(break_even_rich(small))
    text = console.export_text()
    assert "h100" in text and "break-even chips" in text


def test_a_small_fleet_never_recovers_a_billion_dollars_of_nre(small):
    # a million users need a few custom chips; $200M a year of NRE needs thousands
    row = small.break_even.iloc[0]
    assert row["largest_custom_fleet"] < 1000 < row["break_even_chips"]
    assert row["break_even_year"] == NEVER


def test_the_custom_option_pays_its_nre_and_every_option_its_servers(small):
    t = small.table.set_index("option")
    prices = load_prices()
    life = small.site.chip_amortization_years
    assert list(t.loc["custom", "nre_usd"]) == pytest.approx([prices.nre_usd("N3") / life] * 2)
    assert list(t.loc["h100", "nre_usd"]) == [0.0, 0.0]
    assert t.loc["h100", "server_capex_usd"].iloc[0] == pytest.approx(
        t.loc["h100", "chips"].iloc[0] * prices.host_usd_per_chip / life)
    assert small.prices["h100"].kind == "street" and small.prices["custom"].kind == "modelled"


def test_without_nre_the_custom_chip_breaks_even_at_once_if_it_is_cheaper_per_token(small):
    t = small.table.copy()
    t["total_cost_usd"] -= t["nre_usd"]
    t["nre_usd"] = 0.0
    be = compare(t, "custom", "h100")
    assert be.custom_usd_per_mtok < be.gpu_usd_per_mtok  # as the plan's row says, before NRE
    assert be.fleet_chips == 0 and be.year == 2026


def test_economics_overrides_reach_the_plan():
    with pytest.raises(ConfigError, match=r"economics\.nre\.N9\.eda"):
        plan(scenario((1e6,), **{"nre.N9.eda": "1 MUSD"}))


def test_another_site_recosts_the_same_fleet_by_hand(small):
    from chip2chat.datacenter.payoff import at_site
    from chip2chat.datacenter.site import resolve_site

    kr = resolve_site(Scenario.model_validate({**scenario((1e6,)).model_dump(), "site": {"catalog": "kr-seoul"}}).site)
    there = at_site(small.table, kr, load_prices(), small.prices)
    here, row = small.table.iloc[0], there.iloc[0]
    assert row["chips"] == here["chips"] and row["it_mwh"] == here["it_mwh"]  # the fleet is the plan's
    assert row["annual_mwh"] == pytest.approx(here["it_mwh"] * kr.pue)
    assert row["electricity_usd"] == pytest.approx(here["it_mwh"] * kr.pue * kr.electricity_usd_per_mwh)
    assert row["facility_capex_usd"] == pytest.approx(here["it_mw"] * kr.facility_capex_usd_per_mw
                                                      / kr.facility_amortization_years)
    assert row["chip_capex_usd"] == here["chip_capex_usd"]  # chips cost the same anywhere
    assert row["total_cost_usd"] == pytest.approx(sum(row[c] for c in ("chip_capex_usd", "server_capex_usd",
                                                                        "network_capex_usd", "facility_capex_usd",
                                                                        "electricity_usd", "operations_usd", "nre_usd")))


def test_compare_sites_answer_the_break_even_at_each_site(small):
    from chip2chat.datacenter.payoff import custom_chip_economics

    s = Scenario.model_validate({**scenario((1e6, 2e6)).model_dump(), "compare_sites": [{"catalog": "kr-seoul"}]})
    be = custom_chip_economics(s, small.table, small.prices, small.site, load_prices())["break_even"]
    assert list(be["site"]) == ["us-hyperscale", "kr-seoul"]
    assert (be["gpu"] == "h100").all()


def test_the_assumptions_name_every_price_and_coefficient_with_a_source(small):
    by_name = {a.name: a for a in small.assumptions}
    for name in ("h100: unit price", "custom: unit price", "custom: NRE (N3)", "custom: N3 wafer price",
                 "custom: N3 defect density", "custom: HBM4 price", "custom: CoWoS package", "site us-hyperscale",
                 "server host (CPUs, DRAM, NICs, storage, chassis) per chip", "scale-out network per chip",
                 "operations per year", "design partner markup over manufacturing cost"):
        assert name in by_name, name
        assert by_name[name].source, name
    assert "PUE 1.2" in by_name["site us-hyperscale"].value and "http" in by_name["site us-hyperscale"].source
    assert by_name["custom: N3 wafer price"].value == "$20,000"  # catalog/silicon.yaml process_nodes.N3


@pytest.mark.parametrize("path", sorted((CATALOG_DIR / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_loads_and_prices_its_options(path):
    # a shipped scenario that does not parse breaks `chip2chat plan` for everyone
    s = load_scenario(path)
    prices = load_prices(s.economics)
    for i, option in enumerate(s.options):
        if option.hardware is not None and option.unit_price_usd is None:
            assert load_hardware(option.hardware)[1].price is not None, f"options[{i}] has no price"
        elif option.design is not None:
            assert prices.nre_usd(option_design(option).process_node) > 0


def test_the_default_scenario_is_at_chatgpt_scale():
    import chip2chat

    s = load_scenario(CATALOG_DIR / "scenarios" / f"{chip2chat.DEFAULT_SCENARIO}.yaml")
    first = s.demand.years[0]
    # 2.5 billion LLM calls a day in 2025: ChatGPT's reported messages a day (mid-2025)
    assert s.demand.daily_requests(first) == pytest.approx(2.5e9, rel=0.05)
    assert any(o.design for o in s.options) and s.compare_sites
