"""The analytic fidelity: how long one call of an operator takes, from the roofline of a Device.

A call takes max(FLOP / rate, bytes / bandwidth); a GEMM's rate is reduced by its tile use (tile
padding, wave quantization) and its max is softened near the ridge point where the calibration
profile says so; a collective takes latency + ring bus factor x message / link bandwidth. Launch
overheads and energy are the same whatever times the operators, so the step accumulators add
them (costs/operators.py). Registered in fidelity.FIDELITIES as "roofline".

Every function works on floats (one chip) and on numpy arrays (a Device of many designs) alike:
plain arithmetic, and the Device's own `maximum` where a max is needed. Whether a call is
compute-bound is worked out for one chip only (a Device of arrays keeps totals, not the split).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chip2chat.costs.device import Device

# bytes each rank moves over its link, as a share of the collective's message (NCCL's busbw
# conventions): all-reduce 2(p-1)/p, all-gather / reduce-scatter / all-to-all (p-1)/p (the message
# of an all-gather or reduce-scatter is the whole gathered buffer), a point-to-point send all of it
BUS_FACTOR = {"all_reduce": lambda p: 2.0 * (p - 1) / p, "all_gather": lambda p: (p - 1) / p,
              "reduce_scatter": lambda p: (p - 1) / p, "all_to_all": lambda p: (p - 1) / p, "send": lambda p: 1.0}


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
    whole = round(groups)
    tiles = tiles_m * tiles_n * (whole if whole > 1.0 else 1.0)
    cores = dev.cores
    if tiles >= cores:
        waves = -(-tiles // cores)
        return util * tiles / (waves * cores)
    if not dev.split_k:
        return util * tiles / cores
    fill, by_k = cores // tiles, int(k // 256)  # split-K: as many splits as fill the cores, one per 256 of k
    splits = by_k if by_k < fill else fill
    return util * tiles * (splits if splits > 1 else 1) / cores


def softened_max(t_c, t_m, exponent: float):
    """(t_c^n + t_m^n)^(1/n): max(compute, memory) softened near the roofline's ridge point (see
    CalibrationProfile.gemm_ridge_exponent)."""
    return (t_c**exponent + t_m**exponent) ** (1.0 / exponent)


def gemm(m: float, n: float, k: float, groups: float, flops: float, nbytes: float, dtype: str, dev: Device):
    """(seconds, compute-bound) of one call of an m x n x k GEMM (`groups` of them in one kernel)
    doing `flops` and moving `nbytes`: the compute time at the dtype's rate times the tile use, plus
    the kernel's fixed cost, against the weights and activations at the memory bandwidth."""
    t_c = flops / (dev.gemm_rate[dtype] * tile_utilization(m, n, k, dev, groups)) + dev.gemm_fixed_s
    t_m = nbytes / dev.memory_bw
    ridge = dev.gemm_ridge_exponent
    return (softened_max(t_c, t_m, ridge) if ridge else dev.maximum(t_c, t_m)), dev.one_chip and t_c >= t_m


def attention(flops: float, nbytes: float, dev: Device, layer=None, batch=0.0, length=0.0, decode=True):
    """(seconds, compute-bound) of one fused attention call (FlashAttention-style): FLOP at the
    attention rate against the KV cache read at the KV-read bandwidth (the call's shape, which
    the measured fidelity looks its tables up by, does not matter here)."""
    t_c, t_m = flops / dev.attention_rate, nbytes / dev.attention_bw
    return dev.maximum(t_c, t_m), dev.one_chip and t_c >= t_m


def elementwise(nbytes: float, dev: Device):
    """Seconds of one memory-bound kernel call (norm, activation, residual, embedding gather)."""
    return nbytes / dev.memory_bw


def collective(kind: str, nbytes: float, ranks: int, dev: Device):
    """Seconds of one collective of `nbytes` (the full message per rank) over `ranks` > 1 chips:
    the scale-up link inside the domain, the scale-out network for larger groups."""
    bw = dev.link_bw if ranks <= dev.domain else dev.scale_out_bw
    return dev.link_latency_s + BUS_FACTOR[kind](ranks) * nbytes / bw
