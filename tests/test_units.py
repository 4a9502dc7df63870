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


def test_wrong_dimension_names_the_expected_unit():
    with pytest.raises(UnitError, match="expected a quantity in B/s"):
        parse_quantity("141 GB", "B/s")


def test_garbage_is_rejected_with_an_example():
    with pytest.raises(UnitError, match="e.g. '700 W'"):
        parse_quantity("lots", "W")


def test_format_si_round_trips():
    assert format_si(4.8e12, "B/s") == "4.8 TB/s"
