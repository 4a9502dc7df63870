"""Fidelities behind one operator API: the device's fidelity times every operator unless a call
names another, and the roofline works on floats and arrays alike."""

import numpy as np
import pytest

from chip2chat.costs import fidelity as fid
from chip2chat.costs.collectives import collective
from chip2chat.costs.device import Device
from chip2chat.costs.operators import StepCost, StepTotal, attention, elementwise, gemm
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.load import load_hardware

H100 = load_hardware("h100")[1]
PROFILE = CalibrationProfile(launch_overhead_s=1e-6)

# a second fidelity whose every call takes a round number of seconds: 1 per GEMM (compute-bound),
# 2 per attention (memory-bound), 3 per memory-bound kernel, 4 per collective
FAKE = fid.Fidelity(gemm=lambda m, n, k, groups, flops, nbytes, dtype, dev: (1.0, True),
                    attention=lambda flops, nbytes, dev, layer, batch, length, decode: (2.0, False),
                    elementwise=lambda nbytes, dev: 3.0,
                    collective=lambda kind, nbytes, ranks, dev: 4.0, moe=None, launch_included=False)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setitem(fid.FIDELITIES, "fake", FAKE)


def _every_operator(acc, dev, **kw):
    gemm(acc, "g", 64, 4096, 4096, "bf16", 2.0, dev, count=2, **kw)
    attention(acc, "a", 1e9, 1e8, dev, **kw)
    elementwise(acc, "e", 1e6, dev, **kw)
    collective(acc, "c", "all_reduce", 1e6, 8, dev, **kw)


def test_a_call_chooses_the_fidelity_by_name(fake):
    dev = Device(H100, PROFILE)
    acc = StepCost()
    _every_operator(acc, dev, fidelity="fake")
    assert (acc.compute_s, acc.memory_s, acc.communication_s) == (2 * 1.0, 2.0 + 3.0, 4.0)
    assert acc.overhead_s == pytest.approx(4 * 1e-6)  # launches are the accumulator's, whatever the fidelity
    roofline = StepCost()
    _every_operator(roofline, dev)  # the device's own fidelity: the roofline, nothing near whole seconds
    assert roofline.time_s < 0.01
    assert roofline.flops == acc.flops and roofline.dynamic_energy_j == acc.dynamic_energy_j  # work and energy alike


def test_a_device_chooses_the_fidelity_for_every_operator(fake):
    dev = Device(H100, PROFILE, fidelity="fake")
    acc = StepCost()
    _every_operator(acc, dev)
    assert acc.time_s == pytest.approx(2 * 1.0 + 2.0 + 3.0 + 4.0 + 4 * 1e-6)
    acc = StepCost()
    _every_operator(acc, dev, fidelity="roofline")  # and a call may still ask for the roofline
    assert acc.time_s < 0.01


def test_an_unknown_fidelity_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown cost fidelity 'table'; known: roofline, measured"):
        Device(H100, PROFILE, fidelity="table")


def test_the_roofline_costs_an_array_device_chip_by_chip():
    # the same operator calls on a Device of three chips equal the calls on each chip alone
    bw = np.array([2e12, 3.35e12, 8e12])
    scale = np.array([0.5, 1.0, 3.0])
    many = Device(H100, PROFILE, bandwidth_bytes_per_s=bw,
                  peak_flops={d: p * scale for d, p in H100.peak_flops.items()})
    total = StepTotal()
    _every_operator(total, many)
    for i in range(3):
        mem = H100.memory.model_copy(update={"bandwidth_bytes_per_s": bw[i]})
        one = Device(H100.model_copy(update={"memory": mem, "peak_flops": {d: p * scale[i] for d, p in
                                                                           H100.peak_flops.items()}}), PROFILE)
        acc = StepCost()
        _every_operator(acc, one)
        assert total.time_s[i] == pytest.approx(acc.time_s, rel=1e-12)
        assert total.dynamic_energy_j[i] == pytest.approx(acc.dynamic_energy_j, rel=1e-12)
