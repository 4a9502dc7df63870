"""A chip as the cost model sees it: achievable rates and energy coefficients, precomputed once.

Rates are peaks times calibration efficiencies. Energy: a chip running its best dense GEMM draws
its TDP (TDP - static power is spent on FLOP), so the energy per FLOP of a dtype is
(TDP - static) / achievable FLOP/s of that dtype; memory traffic costs the memory catalog's
energy per bit; static power is drawn all the time.
"""

from __future__ import annotations

from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.memory import energy_per_bit_j
from chip2chat.hardware.spec import Accelerator

DTYPES = ("bf16", "fp16", "fp8", "int8", "fp4", "int4")


class Device:
    """Achievable rates of one chip under a calibration profile (SI units)."""

    __slots__ = ("hw", "profile", "gemm_rate", "compute_dtype", "attention_rate", "memory_bw",
                 "cores", "tile_m", "tile_n", "launch_s", "step_overhead_s", "link_bw", "link_latency_s",
                 "domain", "scale_out_bw", "energy_per_flop", "energy_per_byte", "static_w", "tdp_w")

    def __init__(self, hw: Accelerator, profile: CalibrationProfile):
        self.hw, self.profile = hw, profile
        self.gemm_rate: dict[str, float] = {}
        self.compute_dtype: dict[str, str] = {}
        for d in DTYPES:
            peak, used = hw.flops_for(d)
            self.compute_dtype[d] = used
            self.gemm_rate[d] = peak * profile.gemm_peak_efficiency(used)
        self.attention_rate = hw.flops_for("bf16")[0] * profile.attention_efficiency
        self.memory_bw = hw.memory.bandwidth_bytes_per_s * profile.memory_efficiency
        self.cores = hw.num_cores or profile.num_cores
        self.tile_m, self.tile_n = profile.tile_m, profile.tile_n
        self.launch_s = profile.launch_overhead_s
        self.step_overhead_s = profile.step_overhead_s
        link = hw.scale_up
        self.link_bw = link.bandwidth_per_direction * profile.collective_efficiency
        self.link_latency_s = link.latency_s if link.latency_s is not None else profile.collective_latency_s
        self.domain = link.domain
        self.scale_out_bw = link.scale_out_bandwidth_bytes_per_s * profile.collective_efficiency
        self.tdp_w = hw.tdp_w
        self.static_w = (hw.tdp_w or 0.0) * profile.static_power_fraction
        dynamic_w = (hw.tdp_w or 0.0) - self.static_w
        self.energy_per_flop = {d: dynamic_w / r for d, r in self.gemm_rate.items()}
        self.energy_per_flop["attention"] = dynamic_w / self.attention_rate
        bit_j = hw.memory.energy_per_bit_j or energy_per_bit_j(hw.memory.generation)
        self.energy_per_byte = 8.0 * bit_j
