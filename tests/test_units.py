import pytest

from chip2chat.units import UnitError, format_si, parse_quantity


@pytest.mark.parametrize("text, expect, value", [
    ("4.8 TB/s", "B/s", 4.8e12),          # decimal prefix, as vendors quote bandwidth
    ("141 GB", "B", 141e9),
    ("96 GiB", "B", 96 * 2**30),          # binary only where written
    ("989.4 TFLOP/s", "FLOP/s", 989.4e12),
    ("393 TOP/s", "FLOP/s", 393e12),
    ("700 W", "W", 700.0),
    ("3.9 pJ", "J", 3.9e-12),
    ("9.6 Gb/s", "B/s", 1.2e9),           # bits -> bytes
    ("814 mm2", "m2", 814e-6),
    ("2 us", "s", 2e-6),
    ("12.7 MUSD/MW", "USD/MW", 12.7e6),   # the site catalog: the prefix belongs to the dollars
    ("80.6 USD/MWh", "USD/MWh", 80.6),
    ("367 g/kWh", "g/kWh", 367.0),
    ("20 years", "year", 20.0),
    ("132 kW", "W", 132e3),
    ("0.47 MB/mm2", "B/m2", 0.47e12),      # the silicon catalog
    ("0.1 /cm2", "1/m2", 1e3),
    ("3 %", "1", 0.03),
    ("0.021 um2", "m2", 0.021e-12),
    ("9300 USD", "USD", 9300.0),
])
def test_parse_quantity_converts_to_si(text, expect, value):
    assert parse_quantity(text, expect) == pytest.approx(value)


def test_a_bare_number_needs_its_unit_unless_it_was_computed_in_si():
    # `bandwidth: 3.35` in a hardware file was read as 3.35 B/s (TPOT 5.4e12 ms): now an error
    with pytest.raises(UnitError, match="3.35 has no unit; write it with one, e.g. '4.8 TB/s'"):
        parse_quantity(3.35, "B/s")
    assert parse_quantity(1.5e9, "B", bare_ok=True) == 1.5e9  # values computed in code are SI


def test_hardware_fields_need_units_and_plausible_values(tmp_path):
    import yaml

    from chip2chat.catalog import read_yaml
    from chip2chat.errors import ConfigError
    from chip2chat.hardware.load import load_hardware

    def load(**memory):
        entry = read_yaml("accelerators.yaml")["h200-sxm"]
        path = tmp_path / "chip.yaml"
        path.write_text(yaml.safe_dump({**entry, "memory": {**entry["memory"], **memory}}))
        load_hardware.cache_clear()
        return load_hardware(str(path))

    with pytest.raises(ConfigError, match=r"memory.bandwidth: 3.35 has no unit; write it with one, e.g. '4.8 TB/s'"):
        load(bandwidth=3.35)
    # a wrong prefix lands outside the range any accelerator has
    with pytest.raises(ConfigError, match=r"memory.bandwidth: 3.35 kB/s is outside the plausible range"):
        load(bandwidth="3.35 kB/s")
    with pytest.raises(ConfigError, match=r"memory.capacity: .*outside the plausible range"):
        load(capacity="141 kB")
    assert load(bandwidth="3.35 TB/s")[1].memory.bandwidth_bytes_per_s == 3.35e12


def test_a_design_override_without_its_unit_is_an_error():
    from chip2chat.errors import ConfigError
    from chip2chat.silicon.catalog import load_catalog

    assert load_catalog({"process_nodes.N3.wafer_price": "25000 USD"}).nodes["N3"].wafer_price_usd == 25000
    with pytest.raises(ConfigError, match=r"process_nodes.N3.wafer_price: 25000 has no unit; write it with one, e.g. '1 USD'"):
        load_catalog({"process_nodes.N3.wafer_price": 25000})


def test_wrong_dimension_names_the_expected_unit():
    with pytest.raises(UnitError, match="expected a quantity in B/s"):
        parse_quantity("141 GB", "B/s")


def test_garbage_is_rejected_with_an_example():
    with pytest.raises(UnitError, match="e.g. '700 W'"):
        parse_quantity("lots", "W")


def test_format_si_round_trips():
    assert format_si(4.8e12, "B/s") == "4.8 TB/s"
