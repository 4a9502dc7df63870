"""The run-time reader of the shipped measured kernel tables (hardware/kernels.py, catalog/kernels/)."""

import ast
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from chip2chat.hardware import kernels as k
from chip2chat.hardware.kernels import (ENGINES, KERNELS_DIR, MissingKernelTable, allreduce_time, chips_with_tables,
                                        context_attention_time, decode_attention_efficiency, decode_attention_time,
                                        engines_for, gemm_efficiency, gemm_time, interpolate, kernel_tables,
                                        moe_time, variants)

MEASURED = ("a100-sxm-80gb", "h100-sxm", "h200-sxm", "b200", "b300", "gb200", "l40s", "rtx-pro-6000")


def test_shipped_tables_cover_the_measured_chips_and_every_engine():
    assert set(MEASURED) <= set(chips_with_tables())
    for chip in chips_with_tables():
        assert engines_for(chip) == ENGINES, chip
        for engine in ENGINES:
            assert "bf16" in variants(chip, engine, "gemm") and variants(chip, engine, "decode_attention"), (chip, engine)


def test_normalisation_is_the_catalogs_current_figures():
    # the tables are efficiencies against these peaks; a catalog change that is not followed by
    # `chip2chat calibrate --from-kernel-tables` would make t_ideal / efficiency mean something else
    from chip2chat.calibrate.kernel_tables import normalisation

    for chip in chips_with_tables():
        assert kernel_tables().peaks(chip) == normalisation(chip), f"{chip}: regenerate the tables"


def test_every_table_names_its_source_file_with_a_hash():
    index = json.loads((KERNELS_DIR / "index.json").read_text())
    files = json.loads((KERNELS_DIR / "sources.json").read_text())["files"]
    assert index["source"]["version"] == "0.12.0" and index["source"]["license"] == "Apache-2.0"
    for chip, entry in index["chips"].items():
        for engine, versions in entry["versions"].items():
            for family, version in versions.items():
                wanted = f"/{entry['source']}/"
                assert any(wanted in name and f"/{version}/" in name for name in files), (chip, engine, family)
    assert all(len(f["sha256"]) == 64 for f in files.values())
    assert not any("silicon_sample" in name or "support_matrix" in name for name in files)
    for name in ("README.md", "LICENSE", "NOTICE"):
        assert (KERNELS_DIR / name).is_file()


def test_interpolation_is_exact_for_a_power_law_and_clamped_outside_the_grid():
    # log(efficiency) linear in log(axes) is what multilinear interpolation in log reproduces exactly
    axes = [np.array([1.0, 4.0, 64.0]), np.array([2.0, 8.0]), np.array([1.0, 10.0, 100.0])]
    a, b, c = np.meshgrid(*axes, indexing="ij")
    log_values = -1.0 + 0.1 * np.log(a) - 0.05 * np.log(b) + 0.02 * np.log(c)
    x, y, z = np.array([3.0, 50.0]), np.array([2.5, 7.0]), np.array([1.5, 90.0])
    expected = np.exp(-1.0 + 0.1 * np.log(x) - 0.05 * np.log(y) + 0.02 * np.log(z))
    assert interpolate(axes, log_values, x, y, z) == pytest.approx(expected, rel=1e-12)
    # beyond the grid a query takes the edge's efficiency
    assert interpolate(axes, log_values, 1e6, 0.1, 1e-3) == pytest.approx(interpolate(axes, log_values, 64.0, 2.0, 1.0))


def test_shipped_gemm_clamps_beyond_its_grid_so_time_follows_the_roofline():
    big = gemm_efficiency("h200-sxm", "trtllm", "bf16", 32768, 8192, 8192)
    assert gemm_efficiency("h200-sxm", "trtllm", "bf16", 10 ** 6, 8192, 8192) == big
    assert gemm_efficiency("h200-sxm", "trtllm", "bf16", 0.5, 8192, 8192) == \
        gemm_efficiency("h200-sxm", "trtllm", "bf16", 1, 8192, 8192)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no tokens: the first node, without a log(0) warning
        assert moe_time("h200-sxm", "trtllm", "fp8", 0, 7168, 2048, 8, 256) == 0.0
    ratio = gemm_time("h200-sxm", "trtllm", "bf16", 2 * 10 ** 6, 8192, 8192) / \
        gemm_time("h200-sxm", "trtllm", "bf16", 10 ** 6, 8192, 8192)
    assert ratio == pytest.approx(2.0)  # compute-bound with a constant efficiency


def test_scalars_give_floats_and_arrays_give_arrays_element_by_element():
    m = np.array([[1, 48], [1000, 20000]])
    eff = gemm_efficiency("b200", "vllm", "fp8", m, 7168, 2048)
    assert isinstance(gemm_efficiency("b200", "vllm", "fp8", 48, 7168, 2048), float)
    assert eff.shape == (2, 2)
    assert eff[1, 0] == pytest.approx(gemm_efficiency("b200", "vllm", "fp8", 1000, 7168, 2048))
    batch = np.array([1, 8, 64])
    times = decode_attention_time("h100-sxm", "sglang", "fp8", 128, batch, 8192, 32, 8)
    assert times.shape == (3,) and np.all(np.diff(times) > 0)
    assert isinstance(allreduce_time("gb200", "trtllm", 4, 1e6), float)


def test_magnitudes_are_those_of_the_chips():
    # catches a unit slip (milliseconds, elements for bytes) in the writer or the reader
    flops = 2.0 * 8192 ** 3
    assert 0.55 < flops / gemm_time("h200-sxm", "trtllm", "bf16", 8192, 8192, 8192) / 989.4e12 < 0.9
    kv = 64 * 8192 * 2 * 8 * 128 * 2  # bytes of K and V: 64 sequences, 8 KV heads
    assert 0.5 < kv / decode_attention_time("h200-sxm", "vllm", "bf16", 128, 64, 8192, 64, 8) / 4.8e12 < 1.0
    prefill = 2.0 * 32 * 128 * 8192 ** 2  # causal FLOP of one 8k prompt, 32 heads
    assert 0.3 < prefill / context_attention_time("b200", "trtllm", "bf16", 128, 1, 8192, 32, 8) / 2250e12 < 0.9
    bus = 2 * 7 / 8 * 2 ** 30  # ring all-reduce of 1 GiB over 8 GPUs
    assert 300e9 < bus / allreduce_time("h200-sxm", "trtllm", 8, 2 ** 30) < 500e9
    assert 1e-6 < moe_time("h200-sxm", "trtllm", "fp8", 256, 7168, 2048, 8, 256, ep=8) < 1e-3


def test_allreduce_holds_the_latency_below_and_the_bandwidth_above_what_was_measured():
    tables = kernel_tables()
    nbytes, seconds = tables.allreduce("h200-sxm", "vllm", 8)["nccl"]
    assert allreduce_time("h200-sxm", "vllm", 8, 1.0, kernel="nccl") == pytest.approx(seconds[0])
    assert allreduce_time("h200-sxm", "vllm", 8, 4 * nbytes[-1], kernel="nccl") == pytest.approx(4 * seconds[-1])
    sizes = np.geomspace(1e3, 1e9, 13)
    auto = allreduce_time("h200-sxm", "vllm", 8, sizes)
    for kernel in tables.allreduce("h200-sxm", "vllm", 8):
        assert np.all(auto <= allreduce_time("h200-sxm", "vllm", 8, sizes, kernel=kernel) + 1e-15)


def test_a_missing_table_says_what_was_measured():
    with pytest.raises(MissingKernelTable, match=r"no gemm table for h200-sxm under trtllm 'fp4'; measured: bf16, "
                                                 r"fp8, fp8_block"):
        gemm_efficiency("h200-sxm", "trtllm", "fp4", 1, 1024, 1024)
    with pytest.raises(MissingKernelTable, match=r"no chip with measured kernel tables 'mi300x'; measured: .*h200-sxm"):
        engines_for("mi300x")
    with pytest.raises(MissingKernelTable, match=r"no engine for b200 'tgi'; measured: trtllm, vllm, sglang"):
        decode_attention_efficiency("b200", "tgi", "bf16", 128, 8, 1024, 8)
    with pytest.raises(MissingKernelTable, match="no all-reduce over 16 ranks measured on h200-sxm under vllm"):
        allreduce_time("h200-sxm", "vllm", 16, 1e6)


def test_the_reader_needs_only_numpy_and_json():
    # the default install reads the tables without pandas, pyarrow or aiconfigurator-core
    tree = ast.parse(Path(k.__file__).read_text())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert modules <= {"__future__", "itertools", "json", "functools", "pathlib", "numpy", "chip2chat"}, modules
