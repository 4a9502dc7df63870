"""The shipped catalogs load, cite sources, and agree with themselves."""

import pytest

from chip2chat.catalog import read_yaml
from chip2chat.errors import NotFoundError
from chip2chat.hardware.load import hardware_ids, load_hardware
from chip2chat.units import parse_quantity

REQUIRED = ["h100-sxm", "h200-sxm", "b200", "gb200", "mi300x", "mi325x", "mi355x", "tpu-v5e", "tpu-v5p",
            "tpu-v6e", "gaudi3", "trainium2"]


def test_every_required_accelerator_is_shipped():
    assert set(REQUIRED) <= set(hardware_ids())


@pytest.mark.parametrize("hw", hardware_ids())
def test_every_accelerator_validates_and_cites(hw):
    _, a = load_hardware(hw)
    assert a.sources and all(s.strip() for s in a.sources)
    assert a.peak_flops["bf16"] > 1e14 and a.memory.bandwidth_bytes_per_s > 5e11


def test_fp8_doubles_bf16_on_hopper_and_blackwell():
    # dense tensor-core rates: FP8 is 2x BF16, FP4 is 2x FP8 on Blackwell
    for hw in ("h100-sxm", "h200-sxm", "b200", "gb200"):
        f = load_hardware(hw)[1].peak_flops
        assert f["fp8"] == pytest.approx(2 * f["bf16"], rel=0.01)
    assert load_hardware("b200")[1].peak_flops["fp4"] == pytest.approx(9e15)


@pytest.mark.parametrize("written, wanted", [
    ("H200 141GB HBM3", "h200-sxm"), ("H100 80GB HBM3", "h100-sxm"), ("GB200", "gb200"),
    ("RTX6000Pro", "rtx-pro-6000"), ("A100-SXM4-80GB", "a100-sxm-80gb"), ("GH200 480GB", "gh200"),
    ("h200", "h200-sxm"), ("MI300X", "mi300x"),
])
def test_names_people_write_resolve(written, wanted):
    assert load_hardware(written)[0] == wanted


def test_unknown_hardware_suggests_close_names():
    with pytest.raises(NotFoundError, match="closest: h100-sxm"):
        load_hardware("h100-sxn")


@pytest.mark.parametrize("key, entry", read_yaml("memory.yaml").items())
def test_hbm_stack_bandwidth_is_pin_rate_times_width(key, entry):
    pin = parse_quantity(entry["pin_rate"], "B/s")  # per pin, bytes/s
    assert parse_quantity(entry["bandwidth"], "B/s") == pytest.approx(pin * entry["interface_width_bits"], rel=0.01)
    assert entry["sources"]


def test_hbm_generations_required_by_the_catalog():
    gens = {(e["generation"], e["stack_height"]) for e in read_yaml("memory.yaml").values()}
    assert {("HBM2E", 8), ("HBM3", 8), ("HBM3E", 8), ("HBM3E", 12)} <= gens
    assert any(g == "HBM4" for g, _ in gens)


def test_user_yaml_error_names_the_field(tmp_path):
    from chip2chat.errors import ConfigError

    path = tmp_path / "chip.yaml"
    path.write_text("name: X\npeak_flops: {bf16: 1 PFLOP/s}\nmemory: {generation: HBM9, capacity: 1 GB, "
                    "bandwidth: 1 TB/s}\nscale_up: {bandwidth: 1 TB/s}\nsources: [me]\n")
    with pytest.raises(ConfigError, match=r"chip.yaml: memory.generation: .*HBM9.* not one of"):
        load_hardware(str(path))
