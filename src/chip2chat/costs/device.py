"""A chip as the cost model sees it: achievable rates and energy coefficients, precomputed once.

Rates are peaks times calibration efficiencies. Energy: a chip running its best dense GEMM draws
its TDP (TDP - static power is spent on FLOP), so the energy per FLOP of a dtype is
(TDP - static) / achievable FLOP/s of that dtype; memory traffic costs the memory catalog's
energy per bit; static power is drawn all the time.

A Device may also stand for many chips at once (a vectorised design sweep): the fields of VARIED
given as arrays make every rate an array, one entry per chip, and the cost functions run on them
unchanged; `maximum` is the elementwise max that fits (a plain compare for one chip, numpy's for
arrays) and `one_chip` says which it is. `fidelity` names how its operators are timed
(costs.fidelity.FIDELITIES); `times` is that Fidelity.

The fidelity is the chip's: "measured" where its calibration profile names kernel tables and a
serving engine is given (the tables are per engine), "roofline" otherwise: a chip nobody measured
(MI300X, TPUs), a custom design (vendor "custom", as the silicon model makes them), a Device of
many chips (a vectorised sweep of designs), or no engine. A fidelity may also be named.
"""

from __future__ import annotations

import numpy as np

from chip2chat.costs.fidelity import fidelity as named
from chip2chat.costs.measured import KernelTimes
from chip2chat.hardware import kernels
from chip2chat.hardware.calibration import CalibrationProfile, load_profile
from chip2chat.hardware.memory import energy_per_bit_j
from chip2chat.hardware.spec import Accelerator

DTYPES = ("bf16", "fp16", "fp32", "fp8", "int8", "fp4", "int4")
"""Weight dtypes a GEMM may be asked for; each runs at the rate of a dtype the chip has."""
VARIED = ("peak_flops", "bandwidth_bytes_per_s", "capacity_bytes", "link_bandwidth_bytes_per_s", "tdp_w",
          "energy_per_flop_j", "static_power_w")
"""What a Device of many chips may vary (any subset; the rest are the reference chip's)."""


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
    (its `calibration` field) unless one is given. `varied` (fields of VARIED as arrays; peak_flops
    a dict of them) makes it a Device of as many chips, the reference chip `hw` giving the rest."""

    __slots__ = ("hw", "profile", "calibration", "fidelity", "times", "engine", "kernels", "one_chip", "maximum",
                 "cuda_graphs", "gemm_rate", "compute_dtype",
                 "attention_rate", "memory_bw", "attention_bw", "capacity_bytes", "cores", "tile_m", "tile_n",
                 "split_k", "gemm_fixed_s", "gemm_ridge_exponent", "launch_s", "step_overhead_s", "link_bw",
                 "link_latency_s", "domain", "scale_out_bw", "energy_per_flop", "energy_per_byte", "static_w", "tdp_w")

    def __init__(self, hw: Accelerator, profile: CalibrationProfile | None = None, fidelity: str | None = None,
                 engine: str | None = None, block_scaled: bool = False, cuda_graphs: bool = True, **varied):
        self.calibration = hw.calibration if profile is None else profile.name
        """Which profile sets the efficiencies (shown beside every result)."""
        profile = profile or load_profile(hw.calibration)
        if engine is not None and engine not in kernels.ENGINES:
            raise ValueError(f"unknown serving engine {engine!r}; known: {', '.join(kernels.ENGINES)}")
        self.hw, self.profile, self.engine, self.cuda_graphs = hw, profile, engine, cuda_graphs
        """`engine`: the serving engine whose measured kernels time the operators (a name of
        hardware.kernels.ENGINES), or None; `block_scaled`: the weights are a block-scaled FP8
        checkpoint (ModelSpec.fp8_block_scaled; costs/measured.py says what it changes);
        `cuda_graphs`: the engine runs its steps in CUDA graphs (False: costs/measured.py says
        what it changes; the roofline ignores it)."""
        self.one_chip = not varied
        self.maximum = _larger if self.one_chip else np.maximum
        v = _values(hw, varied)
        link = hw.scale_up
        a = achievable(v["peak_flops"], v["bandwidth_bytes_per_s"], v["link_bandwidth_bytes_per_s"],
                       link.scale_out_bandwidth_bytes_per_s, 0.0 if v["tdp_w"] is None else v["tdp_w"],
                       hw.memory.energy_per_bit_j or energy_per_bit_j(hw.memory.generation), profile,
                       v["energy_per_flop_j"], v["static_power_w"])
        # each requested dtype runs at the rate of the dtype the chip really has (fp8 -> bf16 ...)
        self.compute_dtype = {d: _runs_at(hw, d) for d in DTYPES}
        self.gemm_rate = {d: a["gemm_rate"][used] for d, used in self.compute_dtype.items()}
        self.energy_per_flop = {d: a["energy_per_flop"][used] for d, used in self.compute_dtype.items()}
        self.energy_per_flop["attention"] = a["energy_per_flop"]["attention"]
        self.attention_rate, self.memory_bw, self.attention_bw = a["attention_rate"], a["memory_bw"], a["attention_bw"]
        self.link_bw, self.scale_out_bw = a["link_bw"], a["scale_out_bw"]
        self.static_w, self.energy_per_byte = a["static_w"], a["energy_per_byte"]
        self.tdp_w, self.capacity_bytes = v["tdp_w"], v["capacity_bytes"]
        self.cores = hw.num_cores or profile.num_cores
        self.tile_m, self.tile_n, self.split_k = profile.tile_m, profile.tile_n, profile.split_k
        self.launch_s = profile.launch_overhead_s
        self.gemm_fixed_s = profile.gemm_fixed_s
        self.gemm_ridge_exponent = profile.gemm_ridge_exponent
        self.step_overhead_s = profile.step_overhead_s
        self.link_latency_s = link.latency_s if link.latency_s is not None else profile.collective_latency_s
        self.domain = link.domain
        self.fidelity = fidelity or ("measured" if self._tables() else "roofline")
        self.times = named(self.fidelity)
        self.kernels = None
        """The measured kernel times (costs.measured.KernelTimes) under the measured fidelity."""
        if self.fidelity == "measured":
            tables = self._tables()
            if not tables:
                raise kernels.MissingKernelTable(
                    f"{hw.name} has no measured kernel tables under {engine or 'no engine'} (profile "
                    f"{profile.name!r} names {profile.kernel_tables}; a Device of many chips or a custom design is "
                    f"always costed by the roofline)")
            self.kernels = KernelTimes(tables, engine, hw, self.compute_dtype, self.link_bw, block_scaled, cuda_graphs)

    def _tables(self) -> str | None:
        """The chip whose kernel tables time this Device under its engine, or None (roofline)."""
        tables = self.profile.kernel_tables
        if not tables or self.engine is None or not self.one_chip or self.hw.vendor.lower() == "custom":
            return None
        return tables if self.engine in kernels.engines_for(tables) else None


def _runs_at(hw: Accelerator, dtype: str) -> str:
    """The tensor-core dtype that `dtype` weights run at on the chip. FP4 weights on a chip without
    FP4 tensor cores are dequantised to bf16 (W4A16: TensorRT-LLM's MXFP4 MoE on Hopper, vLLM's
    Marlin kernels), not run at the FP8 rate that hw.flops_for's order would give them."""
    if dtype == "fp4" and "fp4" not in hw.peak_flops:
        return hw.flops_for("bf16")[1]
    return hw.flops_for(dtype)[1]


def _larger(a: float, b: float) -> float:
    """max(a, b) for two floats (3x faster than the builtin's generic call; the operators' hot path)."""
    return a if a >= b else b


def _values(hw: Accelerator, varied: dict) -> dict:
    """The VARIED fields of the chip, or of n chips as arrays where `varied` gives any (None: unknown)."""
    own = {"peak_flops": hw.peak_flops, "bandwidth_bytes_per_s": hw.memory.bandwidth_bytes_per_s,
           "capacity_bytes": hw.memory.capacity_bytes, "link_bandwidth_bytes_per_s": hw.scale_up.bandwidth_bytes_per_s,
           "tdp_w": hw.tdp_w, "energy_per_flop_j": hw.energy_per_flop_j, "static_power_w": hw.static_power_w}
    if not varied:
        return own
    unknown = set(varied) - set(VARIED)
    if unknown:
        raise ValueError(f"cannot vary {sorted(unknown)}; vectorised fields: {', '.join(VARIED)}")
    n = max(np.size(x) for v in varied.values() for x in (v.values() if isinstance(v, dict) else (v,)))

    def array(value):
        return None if value is None else np.broadcast_to(np.asarray(value, dtype=float), (n,))

    if "tdp_w" in varied and not (array(varied["tdp_w"]) > 0).all():
        raise ValueError("tdp_w must be positive for every chip (leave it out for a chip whose TDP is unknown)")
    values = {**own, **varied}
    peaks = values["peak_flops"]
    out = {name: array(values[name]) for name in VARIED if name not in ("peak_flops", "energy_per_flop_j")}
    return {**out, "peak_flops": {d: array(peaks.get(d, p)) for d, p in hw.peak_flops.items()},
            "energy_per_flop_j": values["energy_per_flop_j"]}
