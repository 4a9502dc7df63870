"""A chip as the cost model sees it: achievable rates and energy coefficients, precomputed once.

Rates are peaks times calibration efficiencies. Energy: a chip running its best dense GEMM draws
its TDP (TDP - static power is spent on FLOP), so the energy per FLOP of a dtype is
(TDP - static) / achievable FLOP/s of that dtype; memory traffic costs the memory catalog's
energy per bit; static power is drawn all the time.
"""

from __future__ import annotations

from chip2chat.hardware.calibration import CalibrationProfile, load_profile
from chip2chat.hardware.memory import energy_per_bit_j
from chip2chat.hardware.spec import Accelerator

DTYPES = ("bf16", "fp16", "fp8", "int8", "fp4", "int4")


def achievable(peak_flops: dict, bandwidth, link_bandwidth, scale_out_bandwidth, tdp_w, bit_energy_j,
               profile: CalibrationProfile, energy_per_flop: dict | None = None, static_w=None) -> dict:
    """Achievable rates and energy coefficients from peaks: the one formula for scalars and arrays.

    `peak_flops` maps each compute dtype the chip has to its dense peak; every value may be a float
    or a numpy array (one entry per design in a vectorised sweep). tdp_w of 0 means unknown power.
    Energy per FLOP is the chip's own figure where given (a silicon model's), else derived from
    the TDP: the best GEMM of each dtype draws the TDP minus the static power.
    """
    gemm = {d: peak * profile.gemm_peak_efficiency(d) for d, peak in peak_flops.items()}
    bf16 = "bf16" if "bf16" in peak_flops else "fp16"
    attention = peak_flops[bf16] * profile.attention_efficiency
    static = tdp_w * profile.static_power_fraction if static_w is None else static_w
    if energy_per_flop is None:
        dynamic = tdp_w - static
        energy = {d: dynamic / r for d, r in gemm.items()}
        energy["attention"] = dynamic / attention
    else:
        energy = {d: energy_per_flop.get(d, energy_per_flop[bf16] * peak_flops[bf16] / peak_flops[d])
                  for d in peak_flops}
        energy["attention"] = energy[bf16]
    return {"gemm_rate": gemm, "attention_rate": attention,
            "memory_bw": bandwidth * profile.memory_efficiency,
            "attention_bw": bandwidth * profile.kv_read_efficiency(),
            "link_bw": link_bandwidth / 2 * profile.collective_efficiency,  # per direction
            "scale_out_bw": scale_out_bandwidth * profile.collective_efficiency,
            "static_w": static, "energy_per_flop": energy, "energy_per_byte": 8.0 * bit_energy_j}


class Device:
    """Achievable rates of one chip under a calibration profile (SI units): the chip's own profile
    (its `calibration` field) unless one is given."""

    __slots__ = ("hw", "profile", "calibration", "gemm_rate", "compute_dtype", "attention_rate", "memory_bw", "attention_bw",
                 "cores", "tile_m", "tile_n", "split_k", "gemm_fixed_s", "gemm_ridge_exponent", "launch_s", "step_overhead_s", "link_bw", "link_latency_s",
                 "domain", "scale_out_bw", "energy_per_flop", "energy_per_byte", "static_w", "tdp_w")

    def __init__(self, hw: Accelerator, profile: CalibrationProfile | None = None):
        self.calibration = hw.calibration if profile is None else profile.name
        """Which profile sets the efficiencies (shown beside every result)."""
        profile = profile or load_profile(hw.calibration)
        self.hw, self.profile = hw, profile
        link = hw.scale_up
        a = achievable(hw.peak_flops, hw.memory.bandwidth_bytes_per_s, link.bandwidth_bytes_per_s,
                       link.scale_out_bandwidth_bytes_per_s, hw.tdp_w or 0.0,
                       hw.memory.energy_per_bit_j or energy_per_bit_j(hw.memory.generation), profile,
                       hw.energy_per_flop_j, hw.static_power_w)
        # each requested dtype runs at the rate of the dtype the chip really has (fp4 -> fp8 ...)
        self.compute_dtype = {d: hw.flops_for(d)[1] for d in DTYPES}
        self.gemm_rate = {d: a["gemm_rate"][used] for d, used in self.compute_dtype.items()}
        self.energy_per_flop = {d: a["energy_per_flop"][used] for d, used in self.compute_dtype.items()}
        self.energy_per_flop["attention"] = a["energy_per_flop"]["attention"]
        self.attention_rate, self.memory_bw, self.attention_bw = a["attention_rate"], a["memory_bw"], a["attention_bw"]
        self.link_bw, self.scale_out_bw = a["link_bw"], a["scale_out_bw"]
        self.static_w, self.energy_per_byte = a["static_w"], a["energy_per_byte"]
        self.tdp_w = hw.tdp_w
        self.cores = hw.num_cores or profile.num_cores
        self.tile_m, self.tile_n, self.split_k = profile.tile_m, profile.tile_n, profile.split_k
        self.launch_s = profile.launch_overhead_s
        self.gemm_fixed_s = profile.gemm_fixed_s
        self.gemm_ridge_exponent = profile.gemm_ridge_exponent
        self.step_overhead_s = profile.step_overhead_s
        self.link_latency_s = link.latency_s if link.latency_s is not None else profile.collective_latency_s
        self.domain = link.domain
