"""Measured kernel tables: how fast GEMM, attention, MoE and all-reduce kernels run on a chip under a
serving engine, read from catalog/kernels/ (calibration data; numpy and json only, loaded once).

The tables are derived from NVIDIA aiconfigurator-core's measured kernel timings by `chip2chat
calibrate --from-kernel-tables` (calibrate/kernel_tables.py; sources, licence and the error on
held-back shapes in catalog/kernels/). A table stores an efficiency = t_ideal / t_measured against
the roofline of the chip's catalog figures, which index.json keeps beside the tables:

- GEMM (m, n, k): t_ideal = max(2mnk / peak, (weights + bf16 activations in and out) / bandwidth);
- decode attention (batch x kv heads, kv length, group = heads / kv heads): the K and V cache read
  plus q in and out, over the bandwidth (memory-bound);
- context attention (batch x heads, prompt length, group): max(causal 2 b h d s^2 FLOP / peak,
  q, k, v, o bytes / bandwidth);
- MoE (tokens per expert, one local expert's weight elements, local experts): max(FLOP of the
  routed tokens / peak, weights of the experts that get a token + activations / bandwidth).

The ideal times below serve the writer and the reader alike, so the normalisation cancels: time =
t_ideal / efficiency reproduces the measurement. Each table is uint8 steps of log(efficiency)
between its extremes on a log grid; it is read by multilinear interpolation of log(efficiency) in
log(axis), queries clamped to the grid (efficiency held constant beyond it). All-reduce keeps the
measured (message bytes, seconds) points, read log-log; below the smallest message the time is
held, above the largest the bus bandwidth is. Every lookup takes floats or numpy arrays of the
shape axes (broadcast together) and returns a float or an array.
"""

from __future__ import annotations

import itertools
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from chip2chat.catalog import CATALOG_DIR
from chip2chat.errors import Chip2ChatError

KERNELS_DIR = CATALOG_DIR / "kernels"
ENGINES = ("trtllm", "vllm", "sglang")
"""Serving engines the tables are measured under: TensorRT-LLM, vLLM, SGLang."""
FAMILIES = ("gemm", "decode_attention", "context_attention", "moe")
QUANT_LEVELS = 255
"""uint8 steps of log(efficiency) between a table's lowest and highest value."""

WEIGHT_FORMATS: dict[str, tuple[str, float]] = {
    "bf16": ("bf16", 2.0),
    "fp8": ("fp8", 1.0),  # per-tensor scale
    "fp8_block": ("fp8", 1.0 + 4 / (128 * 128)),  # fp32 scale per 128x128 block (DeepSeek-V3)
    "fp4": ("fp4", 0.5 + 1 / 16),  # NVFP4: an fp8 scale per 16 values
    "int8_wo": ("bf16", 1.0),  # weight-only int8, dequantised to bf16 for the matmul
    "int4_wo": ("bf16", 0.5 + 2 / 128),  # weight-only int4 (AWQ/GPTQ), an fp16 scale per 128
    "mxfp4_w4a16": ("bf16", 0.5 + 1 / 32),  # MXFP4 weights (8-bit scale per 32), bf16 activations
    "mxfp4_w4a8": ("fp8", 0.5 + 1 / 32),  # MXFP4 weights, fp8 activations
}
"""Weight format -> (tensor-core rate it runs at, weight bytes per element with its scales)."""
ALLREDUCE_IN_CUDA_GRAPH = {
    "TRTLLM": True, "TRTLLM_MNNVL_oneshot": True, "TRTLLM_MNNVL_twoshot": True,
    "vLLM_custom_graph": True, "vLLM_custom_eager": False,
    "SGLang_CustomAllReduce_graph": True, "SGLang_CustomAllReduce_eager": False,
    "nccl": False,
}
"""All-reduce kernel of the tables -> whether it was timed inside a CUDA graph. aiconfigurator's
collector (github.com/ai-dynamo/aiconfigurator collector/collect_all_reduce.py: "This script uses
CUDA Graph based benchmarking") captures TensorRT-LLM's kernels in one graph (100 calls
interleaved with a small matmul, the matmul-only graph subtracted) and times vLLM's and SGLang's
custom all-reduce twice, replaying a captured graph (`*_graph`) and calling
tensor_model_parallel_all_reduce(input.clone()) from a Python loop (`*_eager`: each call pays
Python dispatch, the clone and the copy into the registered buffer, ~20-30 us flat up to 1 MB on
Hopper). NCCL is timed by nccl-tests' all_reduce_perf (collector/collect_nccl.py: `-w 40 -n
1000 -c 0`, no `-G`), whose CUDA-graph mode is off unless -G is given (NVIDIA/nccl-tests
README: "-G,--cudagraph <num graph launches> Capture iterations as a CUDA graph ... Default : 0"):
C++ launches back to back. A kernel not listed is taken as graph-timed (the collector's method)."""
KV_BYTES = {"bf16": 2.0, "fp8": 1.0}
ACT_BYTES = 2.0  # activations in and out in bf16


class MissingKernelTable(Chip2ChatError):
    """No measured table for this chip, engine or variant (the message lists what there is)."""


# ---- ideal times: the normalisation shared by writer and reader ---------------------------------

def _rate(peaks: dict, compute: str):
    return peaks["peak_flops"].get(compute, peaks["peak_flops"]["bf16"])


def gemm_ideal_s(peaks: dict, dtype: str, m, n, k):
    compute, weight_bytes = WEIGHT_FORMATS[dtype]
    flops = 2.0 * m * n * k
    moved = n * k * weight_bytes + (m * k + m * n) * ACT_BYTES
    return np.maximum(flops / _rate(peaks, compute), moved / peaks["bandwidth_bytes_per_s"])


def decode_attention_ideal_s(peaks: dict, kv_dtype: str, head_dim, batch, kv_len, num_heads, num_kv_heads):
    cache = batch * kv_len * 2 * num_kv_heads * head_dim * KV_BYTES[kv_dtype]
    return (cache + batch * num_heads * head_dim * 2 * ACT_BYTES) / peaks["bandwidth_bytes_per_s"]


def context_attention_ideal_s(peaks: dict, dtype: str, head_dim, batch, seq_len, num_heads, num_kv_heads):
    flops = 2.0 * batch * num_heads * head_dim * seq_len * seq_len  # QK^T and PV over half the pairs
    moved = 2 * batch * seq_len * head_dim * (num_heads + num_kv_heads) * ACT_BYTES
    return np.maximum(flops / _rate(peaks, "fp8" if dtype == "fp8" else "bf16"),
                      moved / peaks["bandwidth_bytes_per_s"])


def moe_ideal_s(peaks: dict, dtype: str, num_tokens, hidden, inter, topk, num_experts, tp=1, ep=1, gated=True):
    """Experts of `inter` columns split tp ways, `num_experts` over ep ranks, tokens routed evenly."""
    compute, weight_bytes = WEIGHT_FORMATS[dtype]
    mats = np.where(gated, 3.0, 2.0)  # gate, up, down (a non-gated expert has no gate)
    pairs = num_tokens * topk / ep
    touched = num_experts / ep * (1.0 - (1.0 - 1.0 / num_experts) ** (num_tokens * topk))
    flops = 2.0 * pairs * mats * hidden * inter / tp
    moved = touched * mats * hidden * inter / tp * weight_bytes + num_tokens * hidden * 2 * ACT_BYTES
    return np.maximum(flops / _rate(peaks, compute), moved / peaks["bandwidth_bytes_per_s"])


def moe_axes(num_tokens, hidden, inter, topk, num_experts, tp=1, ep=1, gated=True):
    """(tokens per expert, one local expert's weight elements, local experts) of a MoE layer."""
    return num_tokens * topk / num_experts, np.where(gated, 3.0, 2.0) * hidden * inter / tp, num_experts / ep


# ---- the grid read ---------------------------------------------------------------------------

def interpolate(axes: list[np.ndarray], log_values: np.ndarray, *coords):
    """exp of the multilinear interpolation of `log_values` (on the grid `axes`) in log(axis),
    each coordinate clamped to its axis; coordinates broadcast together."""
    with np.errstate(divide="ignore"):  # a zero (no tokens) clamps to the grid's first node
        points = np.broadcast_arrays(*(np.log(np.asarray(c, dtype=float)) for c in coords))
    shape = points[0].shape
    cells, weights = [], []
    for axis, point in zip(axes, points):
        log_axis = np.log(axis)
        p = np.clip(point.ravel(), log_axis[0], log_axis[-1])
        i = np.clip(np.searchsorted(log_axis, p, side="right") - 1, 0, len(log_axis) - 2)
        cells.append(i)
        weights.append((p - log_axis[i]) / (log_axis[i + 1] - log_axis[i]))
    total = np.zeros(points[0].size)
    for corner in itertools.product((0, 1), repeat=len(axes)):
        w = np.prod([wt if c else 1.0 - wt for wt, c in zip(weights, corner)], axis=0)
        total += w * log_values[tuple(i + c for i, c in zip(cells, corner))]
    return _float_or_array(np.exp(total).reshape(shape))


def dequantise(q: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """log(efficiency) of uint8 steps between lo and hi (the inverse of calibrate's quantise)."""
    return lo + q.astype(float) * ((hi - lo) / QUANT_LEVELS)


def _float_or_array(x: np.ndarray):
    return float(x) if np.ndim(x) == 0 else x


# ---- the shipped tables ------------------------------------------------------------------------

class KernelTables:
    """index.json and tables.npz of one folder; grids are decoded on first use."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.index = json.loads((self.folder / "index.json").read_text())
        with np.load(self.folder / "tables.npz") as arrays:
            self.arrays = {name: arrays[name] for name in arrays.files}
        self.axes = {family: [np.asarray(a, dtype=float) for a in axes.values()]
                     for family, axes in self.index["axes"].items()}
        self._grids: dict[tuple, np.ndarray] = {}

    def peaks(self, chip: str) -> dict:
        return self._chip(chip)["normalisation"]

    def grid(self, family: str, chip: str, engine: str, variant: str) -> np.ndarray:
        """log(efficiency) of one table on its family's axes."""
        key = (family, chip, engine, variant)
        if key not in self._grids:
            offset, lo, hi = _pick(self.variants(chip, engine, family), variant,
                                   f"{family} table for {chip} under {engine}")
            shape = [len(a) for a in self.axes[family]]
            q = self.arrays[family][offset:offset + int(np.prod(shape))].reshape(shape)
            self._grids[key] = dequantise(q, lo, hi)
        return self._grids[key]

    def variants(self, chip: str, engine: str, family: str) -> dict:
        """variant -> where it is stored, for one chip, engine and family ({} if none measured)."""
        engines = self._chip(chip)["tables"]
        return _pick(engines, engine, f"engine for {chip}").get(family, {})

    def allreduce(self, chip: str, engine: str, ranks: int,
                  cuda_graphs: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """kernel -> (message bytes, seconds) measured for this many ranks: the engine's own kernels
        and NCCL; with `cuda_graphs` False only those timed outside a CUDA graph
        (ALLREDUCE_IN_CUDA_GRAPH), as a step launched kernel by kernel runs them."""
        stored = self._chip(chip)["allreduce"]
        out = {}
        for owner in (engine, "nccl"):
            for kernel, by_ranks in stored.get(owner, {}).items():
                if not cuda_graphs and ALLREDUCE_IN_CUDA_GRAPH.get(kernel, True):
                    continue
                if str(ranks) in by_ranks:
                    offset, n = by_ranks[str(ranks)]
                    points = self.arrays["allreduce"][offset:offset + 2 * n].astype(float)
                    out[kernel] = (points[:n], points[n:])
        return out

    def _chip(self, chip: str) -> dict:
        return _pick(self.index["chips"], chip, "chip with measured kernel tables")


def _pick(options: dict, name: str, what: str):
    if name not in options:
        known = ", ".join(options) or "none"
        raise MissingKernelTable(f"no {what} {name!r}; measured: {known}")
    return options[name]


@lru_cache(maxsize=4)
def kernel_tables(folder: str | Path = KERNELS_DIR) -> KernelTables:
    """The tables of `folder` (the shipped ones by default), read once."""
    return KernelTables(Path(folder))


def chips_with_tables(tables: KernelTables | None = None) -> tuple[str, ...]:
    """Catalog ids of the chips that have measured tables."""
    return tuple((tables or kernel_tables()).index["chips"])


def engines_for(chip: str, tables: KernelTables | None = None) -> tuple[str, ...]:
    """The engines measured on `chip`, in ENGINES order."""
    measured = (tables or kernel_tables())._chip(chip)["tables"]
    return tuple(e for e in ENGINES if e in measured)


def variants(chip: str, engine: str, family: str, tables: KernelTables | None = None) -> tuple[str, ...]:
    """The measured variants of a family: weight formats of GEMM, '<dtype>_d<head_dim>' of
    attention, '<format>_<routing>' of MoE."""
    return tuple((tables or kernel_tables()).variants(chip, engine, family))


def table_slice(family: str, chip: str, engine: str, variant: str, tables: KernelTables | None = None,
                **fixed) -> tuple[list[np.ndarray], np.ndarray]:
    """One table with the axes named in `fixed` interpolated at those values: (the other axes,
    log(efficiency) on their nodes). Interpolating the slice in the free axes gives what
    `interpolate` gives at the same point (multilinear interpolation is separable), so a caller
    that reads many points at the same fixed coordinates (a layer's GEMM at every m) reads a
    small grid instead of the whole table."""
    t = tables or kernel_tables()
    names = list(t.index["axes"][family])
    unknown = set(fixed) - set(names)
    if unknown:
        raise ValueError(f"{family} tables have no axis {sorted(unknown)}; axes: {', '.join(names)}")
    axes = t.axes[family]
    free = [a for name, a in zip(names, axes) if name not in fixed]
    nodes = iter(np.meshgrid(*free, indexing="ij"))
    coords = [fixed[name] if name in fixed else next(nodes) for name in names]
    values = interpolate(axes, t.grid(family, chip, engine, variant), *coords)
    return free, np.log(np.asarray(values, dtype=float))


# ---- lookups -----------------------------------------------------------------------------------

def _efficiency(family, chip, engine, variant, tables, *coords):
    t = tables or kernel_tables()
    return interpolate(t.axes[family], t.grid(family, chip, engine, variant), *coords)


def gemm_efficiency(chip: str, engine: str, dtype: str, m, n, k, tables: KernelTables | None = None):
    """Measured over ideal speed of an (m x k) @ (k x n) GEMM with `dtype` weights (a WEIGHT_FORMATS key)."""
    return _efficiency("gemm", chip, engine, dtype, tables, m, n, k)


def gemm_time(chip: str, engine: str, dtype: str, m, n, k, tables: KernelTables | None = None):
    """Seconds of the GEMM, as the engine's linear layer ran it (fp8 includes quantising the input)."""
    t = tables or kernel_tables()
    return gemm_ideal_s(t.peaks(chip), dtype, m, n, k) / gemm_efficiency(chip, engine, dtype, m, n, k, t)


def decode_attention_efficiency(chip: str, engine: str, kv_dtype: str, head_dim: int, batch_kv_heads, kv_len,
                                group, tables: KernelTables | None = None):
    return _efficiency("decode_attention", chip, engine, f"{kv_dtype}_d{head_dim}", tables,
                       batch_kv_heads, kv_len, group)


def decode_attention_time(chip: str, engine: str, kv_dtype: str, head_dim: int, batch, kv_len, num_heads,
                          num_kv_heads, tables: KernelTables | None = None):
    """Seconds of one decode step's attention on one rank: `batch` sequences of `kv_len` cached
    tokens each (the new one included), `num_heads` query heads over `num_kv_heads` KV heads."""
    t = tables or kernel_tables()
    ideal = decode_attention_ideal_s(t.peaks(chip), kv_dtype, head_dim, batch, kv_len, num_heads, num_kv_heads)
    eff = decode_attention_efficiency(chip, engine, kv_dtype, head_dim, np.multiply(batch, num_kv_heads), kv_len,
                                      np.divide(num_heads, num_kv_heads), t)
    return ideal / eff


def context_attention_efficiency(chip: str, engine: str, dtype: str, head_dim: int, batch_heads, seq_len, group,
                                 tables: KernelTables | None = None):
    return _efficiency("context_attention", chip, engine, f"{dtype}_d{head_dim}", tables,
                       batch_heads, seq_len, group)


def context_attention_time(chip: str, engine: str, dtype: str, head_dim: int, batch, seq_len, num_heads,
                           num_kv_heads, tables: KernelTables | None = None):
    """Seconds of causal prefill attention of `batch` prompts of `seq_len` tokens on one rank."""
    t = tables or kernel_tables()
    ideal = context_attention_ideal_s(t.peaks(chip), dtype, head_dim, batch, seq_len, num_heads, num_kv_heads)
    eff = context_attention_efficiency(chip, engine, dtype, head_dim, np.multiply(batch, num_heads), seq_len,
                                       np.divide(num_heads, num_kv_heads), t)
    return ideal / eff


def moe_efficiency(chip: str, engine: str, dtype: str, tokens_per_expert, expert_elems, local_experts,
                   distribution: str = "balanced", tables: KernelTables | None = None):
    """`distribution`: how tokens were routed when measured, 'balanced' or 'power_law_1.01'."""
    return _efficiency("moe", chip, engine, f"{dtype}_{distribution}", tables,
                       tokens_per_expert, expert_elems, local_experts)


def moe_time(chip: str, engine: str, dtype: str, num_tokens, hidden, inter, topk, num_experts, tp=1, ep=1,
             distribution: str = "balanced", gated: bool = True, tables: KernelTables | None = None):
    """Seconds of one MoE layer's experts on one rank (`num_tokens` entering the layer)."""
    t = tables or kernel_tables()
    ideal = moe_ideal_s(t.peaks(chip), dtype, num_tokens, hidden, inter, topk, num_experts, tp, ep, gated)
    axes = moe_axes(num_tokens, hidden, inter, topk, num_experts, tp, ep, gated)
    return ideal / moe_efficiency(chip, engine, dtype, *axes, distribution=distribution, tables=t)


def allreduce_time(chip: str, engine: str, ranks: int, message_bytes, kernel: str = "auto",
                   tables: KernelTables | None = None, cuda_graphs: bool = True):
    """Seconds of an all-reduce of `message_bytes` (bf16) over `ranks` GPUs. kernel 'auto' takes
    the fastest of the engine's custom all-reduce kernels and NCCL at each size (the engines pick
    by size); or name one ('nccl', or a kernel of the engine's table). `cuda_graphs` False: only
    the kernels timed outside CUDA graphs (ALLREDUCE_IN_CUDA_GRAPH)."""
    t = tables or kernel_tables()
    measured = t.allreduce(chip, engine, ranks, cuda_graphs)
    if not measured:
        mode = "" if cuda_graphs else " outside CUDA graphs"
        raise MissingKernelTable(f"no all-reduce over {ranks} ranks measured{mode} on {chip} under {engine}")
    chosen = measured.values() if kernel == "auto" else [_pick(measured, kernel, f"all-reduce kernel on {chip}")]
    size = np.asarray(message_bytes, dtype=float)
    return _float_or_array(np.min([log_log(size, b, s) for b, s in chosen], axis=0))


def log_log(size: np.ndarray, nbytes: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Log-log interpolation; time held below the smallest message, bandwidth above the largest."""
    inside = np.exp(np.interp(np.log(np.maximum(size, nbytes[0])), np.log(nbytes), np.log(seconds)))
    return np.where(size > nbytes[-1], seconds[-1] * size / nbytes[-1], inside)
