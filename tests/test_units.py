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
    (1.5e9, "B", 1.5e9),                  # bare numbers are already SI
])
def test_parse_quantity_converts_to_si(text, expect, value):
    assert parse_quantity(text, expect) == pytest.approx(value)


def test_wrong_dimension_names_the_expected_unit():
    with pytest.raises(UnitError, match="expected a quantity in B/s"):
        parse_quantity("141 GB", "B/s")


def test_garbage_is_rejected_with_an_example():
    with pytest.raises(UnitError, match="e.g. '700 W'"):
        parse_quantity("lots", "W")


def test_format_si_round_trips():
    assert format_si(4.8e12, "B/s") == "4.8 TB/s"
