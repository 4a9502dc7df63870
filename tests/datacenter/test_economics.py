"""Fleet money by hand: NRE amortisation, the yearly cost lines, $/Mtok with servers and network (issue 16)."""

import pytest

from chip2chat.datacenter.economics import fleet_costs, per_million_tokens
from chip2chat.datacenter.nre import catalog_price, custom_unit_cost, design_price
from chip2chat.datacenter.prices import Prices, load_prices
from chip2chat.datacenter.site import SiteParams
from chip2chat.errors import Chip2ChatError, ConfigError
from chip2chat.hardware.load import load_hardware

SITE = SiteParams(name="t", pue=1.25, rack_power_w=40e3, electricity_usd_per_mwh=80.0, grid_carbon_g_per_kwh=350,
                  facility_capex_usd_per_mw=10e6, facility_amortization_years=20, chip_amortization_years=4,
                  server_overhead=1.5, chips_per_server=8, servers_per_rack_max=4)
PRICES = Prices(nre_usd_by_node={"N3": {"architecture_and_design": 300e6, "ip_licences": 50e6, "eda": 30e6,
                                        "mask_set": 40e6, "tape_outs": 2, "packaging_qualification": 20e6,
                                        "software_stack": 500e6}},
                partner_markup=0.5, host_usd_per_chip=4000.0, network_usd_per_chip=2000.0,
                operations_share_per_year=0.03)


def test_nre_is_the_sum_of_its_parts_with_one_mask_set_per_tape_out():
    # 300 + 50 + 30 + 2 x 40 + 20 + 500 = 980 MUSD
    assert PRICES.nre_usd("N3") == pytest.approx(980e6)


def test_the_catalog_n3_nre_is_reuters_500_musd_doubled_by_software():
    # Reuters (Feb 2025): ~500 MUSD for one version of an N3 AI chip, software could double it
    assert load_prices().nre_usd("N3") == pytest.approx(1000e6)


def test_unit_cost_is_manufacturing_plus_margin_plus_nre_over_volume():
    # 8,000 x 1.5 + 1e9 / 100,000 = 12,000 + 10,000
    assert custom_unit_cost(8000.0, 0.5, 1e9, 100_000) == pytest.approx(22_000.0)
    # the NRE's share halves when the volume doubles
    assert custom_unit_cost(8000.0, 0.5, 1e9, 200_000) == pytest.approx(17_000.0)


def test_a_year_of_nre_per_chip_is_the_unit_cost_share_amortized_like_the_chip():
    # the plan charges NRE / life each year; per chip that is (NRE / chips) / life, the NRE term of
    # custom_unit_cost amortized over the same life
    chips, life = 50_000, SITE.chip_amortization_years
    yearly = fleet_costs(chips=chips, unit_price_usd=12_000, it_w=0, facility_mwh=0, site=SITE, prices=PRICES,
                         nre_usd=1e9)
    assert yearly["nre_usd"] / chips == pytest.approx((custom_unit_cost(8000, 0.5, 1e9, chips) - 12_000) / life)


def test_yearly_cost_lines_by_hand():
    c = fleet_costs(chips=1000, unit_price_usd=30_000, it_w=1.5e6, facility_mwh=10_000, site=SITE, prices=PRICES)
    assert c["chip_capex_usd"] == pytest.approx(1000 * 30_000 / 4)
    assert c["server_capex_usd"] == pytest.approx(1000 * 4000 / 4)
    assert c["network_capex_usd"] == pytest.approx(1000 * 2000 / 4)
    assert c["facility_capex_usd"] == pytest.approx(1.5 * 10e6 / 20)
    assert c["electricity_usd"] == pytest.approx(10_000 * 80)
    assert c["operations_usd"] == pytest.approx(0.03 * 1000 * (30_000 + 4000 + 2000))
    assert c["nre_usd"] == 0
    assert c["total_cost_usd"] == pytest.approx(7.5e6 + 1e6 + 0.5e6 + 0.75e6 + 0.8e6 + 1.08e6)


def test_usd_per_mtok_counts_servers_and_network_and_says_which_tokens():
    c = fleet_costs(chips=1000, unit_price_usd=30_000, it_w=1.5e6, facility_mwh=10_000, site=SITE, prices=PRICES)
    chips_only = fleet_costs(chips=1000, unit_price_usd=30_000, it_w=1.5e6, facility_mwh=10_000, site=SITE,
                             prices=Prices({}, 0.0, 0.0, 0.0, 0.03))
    # servers and network add (4,000 + 2,000) x 1,000 / 4 years + 3% of them a year
    assert c["total_cost_usd"] - chips_only["total_cost_usd"] == pytest.approx(6e6 / 4 + 0.03 * 6e6)
    # 1e12 output and 4e12 input tokens a year: $/Mtok per output token is 5x the per-token figure
    m = per_million_tokens(c["total_cost_usd"], output_tokens=1e12, input_tokens=4e12)
    assert m["usd_per_mtok"] == pytest.approx(c["total_cost_usd"] / 1e6)
    assert m["usd_per_mtok_all_tokens"] == pytest.approx(m["usd_per_mtok"] / 5)


def test_a_catalog_chip_costs_its_catalog_price_unless_the_option_gives_one():
    h200 = load_hardware("h200")[1]
    assert catalog_price(h200, None, "options[0]").unit_price_usd == h200.price.usd
    assert catalog_price(h200, None, "options[0]").kind == "street"
    assert catalog_price(h200, 28_000.0, "options[0]").kind == "scenario"


def test_a_chip_without_a_price_is_a_one_line_error_naming_the_field():
    gb200 = load_hardware("gb200")[1]
    assert gb200.price is None
    with pytest.raises(Chip2ChatError, match=r"^unit_price_usd: NVIDIA GB200.* has no price"):
        catalog_price(gb200, None, "options[2]")


def test_a_design_is_priced_at_manufacturing_times_the_partners_markup():
    p = design_price("N3", 8000.0, PRICES)
    assert (p.unit_price_usd, p.nre_usd, p.kind) == (12_000.0, 980e6, "modelled")
    assert design_price("N3", 8000.0, PRICES, partner=False).unit_price_usd == 8000.0
    assert design_price("N3", 8000.0, PRICES, nre_usd=0.0).nre_usd == 0.0


def test_economics_overrides_replace_catalog_figures_and_say_so():
    p = load_prices({"nre.N3.software_stack": "0 USD", "design_partner.markup": 0.2})
    assert p.nre_usd("N3") == pytest.approx(1000e6 - 480e6) and p.partner_markup == 0.2  # less its software
    kinds = {a.name: a.kind for a in p.assumptions}
    assert kinds["design partner markup over manufacturing cost"] == "scenario override"
    assert kinds["NRE of a frontier accelerator on N3"] == "scenario override"
    assert kinds["scale-out network per chip"] == "street"


@pytest.mark.parametrize("overrides, field", [({"nre.N9.eda": "1 MUSD"}, "economics.nre.N9.eda"),
                                              ({"nre.N3.eda": "lots"}, "nre.N3.eda"),
                                              ({"design_partner.margin": 0.3}, "economics.design_partner.margin")])
def test_a_bad_override_names_the_path(overrides, field):
    with pytest.raises(ConfigError, match=f"{field}: "):
        load_prices(overrides)


def test_every_economics_figure_carries_a_kind_a_date_and_sources():
    from chip2chat.catalog import read_yaml

    raw = read_yaml("economics.yaml")
    for section in ("nre", "design_partner", "server_host", "scale_out_network", "operations"):
        assert raw[section]["kind"] in ("list", "street", "estimate"), section
        assert raw[section]["date"] and raw[section]["sources"], section
