"""The measuring code itself, on the CPU (runs where PyTorch is installed)."""

import pytest

from chip2chat.calibrate.fit import fit_profile
from chip2chat.hardware.load import load_hardware

torch = pytest.importorskip("torch")


def test_quick_cpu_measurements_cover_every_kind_and_fit():
    from chip2chat.calibrate.measure import measure

    rows = measure(device="cpu", quick=True, repeats=3)
    kinds = {r.kind for r in rows}
    assert kinds == {"gemm", "memcpy", "attention_prefill", "attention_decode"}
    assert all(r.seconds > 0 for r in rows)
    # a CPU is far below an H200's peaks, but the fit must still produce a valid profile
    profile = fit_profile(rows, load_hardware("h200")[1], "cpu-test", "cpu")
    assert 0 < profile.memory_efficiency <= 1


def test_all_reduce_needs_two_gpus():
    from chip2chat.calibrate.measure import measure_all_reduce

    if torch.cuda.device_count() < 2:
        assert measure_all_reduce() == []
