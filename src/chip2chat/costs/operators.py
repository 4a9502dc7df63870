"""Operator costs on a Device: time = max(compute, memory) + launch overhead, and energy.

Each function adds one operator's cost into a StepCost accumulator (so a whole step is a sum
without building an object per operator). `count` multiplies an operator repeated identically
(e.g. once per layer of a group).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chip2chat.costs.device import Device


@dataclass(frozen=True, slots=True)
class OpRecord:
    """One operator of a step, as the cost model saw it (kept when a breakdown is asked for).

    Enough to re-cost the same operator on other hardware: per-call FLOP and bytes, which rate
    divides the FLOP (a GEMM dtype, 'attention', or '' for memory-only), the GEMM tile use, and for
    collectives their kind, group size and message.
    """

    name: str
    seconds: float  # all `count` calls together
    bound: str
    flops: float  # all calls together
    bytes: float
    count: float
    rate: str = ""
    util: float = 1.0
    collective: str = ""
    ranks: int = 0
    message_bytes: float = 0.0

    def scaled(self, factor: float) -> "OpRecord":
        return OpRecord(self.name, self.seconds * factor, self.bound, self.flops * factor, self.bytes * factor,
                        self.count * factor, self.rate, self.util, self.collective, self.ranks, self.message_bytes)


@dataclass(slots=True)
class StepCost:
    """Time split by what bounds each operator, plus work and dynamic energy, for one device."""

    compute_s: float = 0.0
    memory_s: float = 0.0
    communication_s: float = 0.0
    overhead_s: float = 0.0
    flops: float = 0.0
    bytes: float = 0.0
    dynamic_energy_j: float = 0.0
    ops: list[OpRecord] | None = field(default=None)
    """Every operator, when a breakdown was asked for."""

    @property
    def time_s(self) -> float:
        return self.compute_s + self.memory_s + self.communication_s + self.overhead_s

    def bound(self) -> str:
        """What takes most of the time: 'compute', 'memory', 'communication' or 'overhead'."""
        parts = {"compute": self.compute_s, "memory": self.memory_s,
                 "communication": self.communication_s, "overhead": self.overhead_s}
        return max(parts, key=parts.__getitem__)

    def _record(self, op: OpRecord) -> None:
        self.ops.append(op)


def tile_utilization(m: float, n: float, k: float, dev: Device, groups: float = 1.0) -> float:
    """Useful fraction of the tensor cores for an m x n x k GEMM: tile padding and wave quantization.

    Tiles past the last full wave leave cores idle; too few tiles leave cores idle too, unless the
    profile says the kernels split them along k (split-K) to fill the cores. A grouped GEMM runs
    `groups` such problems in one kernel, whose tiles share the waves.
    """
    tm, tn = dev.tile_m, dev.tile_n
    tiles_m = -(-m // tm)
    tiles_n = -(-n // tn)
    util = (m / (tiles_m * tm)) * (n / (tiles_n * tn))
    tiles = tiles_m * tiles_n * max(1.0, round(groups))
    cores = dev.cores
    if tiles >= cores:
        waves = -(-tiles // cores)
        return util * tiles / (waves * cores)
    splits = min(cores // tiles, max(1, int(k // 256))) if dev.split_k else 1
    return util * tiles * splits / cores


def gemm(acc: StepCost, name: str, m: float, n: float, k: float, dtype: str, weight_bytes_per_el: float,
         dev: Device, count: float = 1.0, act_bytes: float = 2.0, weight_reads: float | None = None,
         groups: float = 1.0) -> None:
    """C[m,n] = A[m,k] @ W[k,n]. Weights are read once per call (`weight_reads` x k x n elements).

    `groups` > 1: a grouped GEMM, that many such problems with their own weights in one kernel
    (the experts of an MoE layer): one launch, the tiles of all groups sharing the waves.
    """
    if m <= 0 or groups <= 0:
        return
    flops = 2.0 * m * n * k * groups
    w_elems = k * n if weight_reads is None else weight_reads * k * n
    nbytes = (w_elems * weight_bytes_per_el + (m * k + m * n) * act_bytes) * groups
    util = tile_utilization(m, n, k, dev, groups)
    t_c = flops / (dev.gemm_rate[dtype] * util) + dev.gemm_fixed_s
    t_m = nbytes / dev.memory_bw
    if dev.gemm_ridge_exponent:
        t = softened_max(t_c, t_m, dev.gemm_ridge_exponent)
        t_c, t_m = (t, t_m) if t_c >= t_m else (t_c, t)  # the bound one takes the softened time
    _add(acc, name, t_c, t_m, flops * count, nbytes * count, dev.energy_per_flop[dtype], dev, count, dtype, util)


def softened_max(t_c, t_m, exponent: float):
    """(t_c^n + t_m^n)^(1/n): max(compute, memory) softened near the roofline's ridge point (see
    CalibrationProfile.gemm_ridge_exponent). Works on floats and numpy arrays."""
    return (t_c**exponent + t_m**exponent) ** (1.0 / exponent)


def attention(acc: StepCost, name: str, flops: float, nbytes: float, dev: Device, count: float = 1.0) -> None:
    """Fused attention (FlashAttention-style): FLOP at the attention rate, the KV cache read at the
    KV-read bandwidth."""
    if flops <= 0 and nbytes <= 0:
        return
    _add(acc, name, flops / dev.attention_rate, nbytes / dev.attention_bw, flops * count, nbytes * count,
         dev.energy_per_flop["attention"], dev, count, "attention")


def elementwise(acc: StepCost, name: str, nbytes: float, dev: Device, count: float = 1.0) -> None:
    """A memory-bound kernel (norm, activation, residual, embedding gather)."""
    if nbytes <= 0:
        return
    _add(acc, name, 0.0, nbytes / dev.memory_bw, 0.0, nbytes * count, 0.0, dev, count)


def _add(acc: StepCost, name: str, t_c: float, t_m: float, flops: float, nbytes: float,
         e_flop: float, dev: Device, count: float, rate: str = "", util: float = 1.0) -> None:
    if t_c >= t_m:
        acc.compute_s += t_c * count
        bound, seconds = "compute", t_c
    else:
        acc.memory_s += t_m * count
        bound, seconds = "memory", t_m
    acc.overhead_s += dev.launch_s * count
    acc.flops += flops
    acc.bytes += nbytes
    acc.dynamic_energy_j += flops * e_flop + nbytes * dev.energy_per_byte
    if acc.ops is not None:
        acc._record(OpRecord(name, (seconds + dev.launch_s) * count, bound, flops, nbytes, count, rate, util))
