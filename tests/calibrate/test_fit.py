"""Fitting a calibration profile from recorded microbenchmarks, and keeping validation out of it."""

import builtins
from pathlib import Path

import numpy as np
import pytest

from chip2chat.calibrate.fit import fit_latency_bandwidth, fit_profile
from chip2chat.calibrate.raw import RawMeasurement, read_raw
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.load import load_hardware

DATA = Path(__file__).parent / "data"
H200 = load_hardware("h200")[1]


def test_fit_recovers_known_efficiencies_by_hand():
    # a chip that reaches 70% of bf16 peak, 90% of its bandwidth, 10 us + message / 400 GB/s bus
    peak, bw = H200.peak_flops["bf16"], H200.memory.bandwidth_bytes_per_s
    rows = [RawMeasurement("gemm", "bf16", "8192^3", 2 * 8192**3, 0, 1, 2 * 8192**3 / (0.7 * peak)),
            RawMeasurement("gemm", "bf16", "64^3", 2 * 64**3, 3 * 64 * 64 * 2, 1, 3e-6),
            RawMeasurement("memcpy", "bf16", "1GiB", 0, 2 * 2**30, 1, 2 * 2**30 / (0.9 * bw))]
    for n in (2**20, 2**24, 2**28):
        rows.append(RawMeasurement("all_reduce", "bf16", str(n), 0, n, 8, 10e-6 + 2 * 7 / 8 * n / 400e9))
    p = fit_profile(rows, H200, "test", "by hand")
    assert p.gemm_efficiency["bf16"] == pytest.approx(0.7, abs=1e-4)
    assert p.memory_efficiency == pytest.approx(0.9, abs=1e-4)
    assert p.launch_overhead_s == pytest.approx(3e-6)
    assert p.collective_latency_s == pytest.approx(10e-6, rel=1e-6)
    assert p.collective_efficiency == pytest.approx(400 / 450, abs=1e-4)


def test_fit_of_the_recorded_h200_microbenchmarks():
    # shared/facts/microbench.csv: MAMF bf16 794.5 and fp8 1453.4 TFLOP/s; 8x H200 all-reduce sweep
    # whose small messages take a flat ~40 us (torch.distributed launch) and large ones reach ~480 GB/s bus
    p = fit_profile(read_raw(DATA / "h200_shared_microbench_raw.csv"), H200, "h200-sxm", "recorded")
    assert p.gemm_efficiency == {"bf16": pytest.approx(794.5 / 989.4, abs=1e-4),
                                 "fp8": pytest.approx(1453.4 / 1978.9, abs=1e-4)}
    assert 30e-6 < p.collective_latency_s < 50e-6
    assert 0.9 < p.collective_efficiency < 1.1


def test_latency_bandwidth_line_is_exact_on_a_line():
    n = np.array([1e3, 1e6, 1e9])
    a, b = fit_latency_bandwidth(n, 5e-6 + n / 2e11)
    assert a == pytest.approx(5e-6) and b == pytest.approx(2e11)


def test_fitting_never_reads_validation_data(monkeypatch):
    # calibration and validation are kept apart: block every way to the validation rows, then fit
    import chip2chat.validate.data as vdata

    rows = read_raw(DATA / "h200_shared_microbench_raw.csv")
    monkeypatch.setattr(vdata, "read_measurements", lambda *a, **k: pytest.fail("fit read validation rows"))
    real_open = builtins.open

    def guarded_open(path, *args, **kwargs):
        assert "validation" not in str(path), f"fit opened {path}"
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    fit_profile(rows, H200, "h200-sxm", "recorded")


def test_calibration_code_does_not_import_validation():
    import chip2chat.calibrate as cal

    for source in Path(cal.__file__).parent.glob("*.py"):
        text = source.read_text()
        assert "chip2chat.validate" not in text and "catalog/validation" not in text, source.name


def test_malformed_raw_file_names_row_and_column(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("kind,dtype,shape,flops,bytes,ranks,seconds\ngemm,bf16,1x1x1,2,6,1,0.1\nmatmul,bf16,x,1,1,1,1\n")
    with pytest.raises(Chip2ChatError, match=r"raw.csv: row 3: column kind: expected one of gemm"):
        read_raw(path)


def test_cli_fits_a_recorded_file_into_a_loadable_profile(tmp_path):
    import subprocess
    import sys

    from chip2chat.hardware.calibration import load_profile_file

    out = tmp_path / "profile.yaml"
    p = subprocess.run([sys.executable, "-m", "chip2chat.cli", "calibrate", "--hardware", "h200", "--from-raw",
                        str(DATA / "h200_shared_microbench_raw.csv"), "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert load_profile_file(out).gemm_efficiency["bf16"] == pytest.approx(0.803, abs=1e-3)


def test_shipped_hopper_tile_model_is_the_fit_of_the_gemm_shape_measurements():
    # calibration from published GEMM sweeps (not from validation rows): the shipped H100/H200
    # profiles carry exactly what the fit picks, and it reproduces the measurements within 10%
    from chip2chat.calibrate.gemm_shapes import fit_tiles, median_error, read_gemm_shapes
    from chip2chat.hardware.calibration import load_profile

    h100 = load_hardware("h100")[1]
    rows = read_gemm_shapes()
    fitted, err = fit_tiles(rows, h100, load_profile("h100-sxm"))
    assert err < 0.10
    for chip in ("h100-sxm", "h200-sxm", "gh200"):
        shipped = load_profile(chip)
        assert (shipped.tile_m, shipped.tile_n, shipped.split_k, shipped.gemm_fixed_s, shipped.gemm_ridge_exponent) == \
            (fitted.tile_m, fitted.tile_n, fitted.split_k, fitted.gemm_fixed_s, fitted.gemm_ridge_exponent)
    assert median_error(read_gemm_shapes(dtype="fp8"), h100, load_profile("h100-sxm"), "fp8") < 0.10


def test_fit_refuses_a_kernel_faster_than_the_peak_and_names_it():
    # 2x the bf16 peak is wrong data (units), not a profile with gemm_efficiency 2.0
    peak = H200.peak_flops["bf16"]
    rows = [RawMeasurement("gemm", "bf16", "8192^3", 2 * 8192**3, 0, 1, 2 * 8192**3 / (2 * peak))]
    with pytest.raises(Chip2ChatError, match=r"measured gemm bf16 8192\^3: gemm 8192\^3 achieves 1,978.8 TFLOP/s, "
                                             r"more than the NVIDIA H200 SXM's bf16 peak \(989.4 TFLOP/s; "
                                             r"efficiency 2.00\); wrong units"):
        fit_profile(rows, H200, "test", "by hand")


def test_copies_small_enough_for_the_cache_may_beat_hbm_but_set_nothing():
    # a copy moving less than twice the on-chip cache (H200: 50 MB of L2, so 100 MB) may run from
    # the cache, faster than HBM: neither an error nor a memory_efficiency
    bw = H200.memory.bandwidth_bytes_per_s
    rows = [RawMeasurement("memcpy", "bf16", "40MB", 0, 80e6, 1, 80e6 / (1.5 * bw)),
            RawMeasurement("memcpy", "bf16", "1GiB", 0, 2 * 2**30, 1, 2 * 2**30 / (0.9 * bw))]
    assert fit_profile(rows, H200, "test", "by hand").memory_efficiency == pytest.approx(0.9, abs=1e-4)


def test_raw_rows_written_read_back_equal_and_know_their_row(tmp_path):
    from chip2chat.calibrate.raw import write_raw

    rows = read_raw(DATA / "h200_shared_microbench_raw.csv")
    write_raw(rows, tmp_path / "again.csv")
    again = read_raw(tmp_path / "again.csv")
    assert again == rows
    assert again[2].where == f"{tmp_path / 'again.csv'}: row 4"
