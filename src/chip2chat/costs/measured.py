"""The measured fidelity: operator times from measured kernel tables, under a serving engine.

A Device whose calibration profile names kernel tables (CalibrationProfile.kernel_tables), given
an engine, carries a KernelTimes (`dev.kernels`): the tables of that chip under that engine
(hardware/kernels.py, catalog/kernels/) and the Device's own roofline figures. A call takes the
table's ideal time on the Device's own peaks and bandwidth over the table's efficiency at the
call's shape, so a card of the same silicon (an H200 NVL reading h200-sxm's tables) gets the
measured chip's efficiencies at its own figures, and the measured chip gets its measurements.

What the tables time:
- a GEMM by (m, n, k) and weight format: bf16; fp8 per tensor (else block-scaled), and for a
  block-scaled FP8 checkpoint (DeepSeek-V3/R1) the faster of the two at the call's shape: some
  engine/chip pairs measured an untuned block-scaled fallback (vLLM on B200: GEMMs at ~0.01 of
  the roofline) where a tuned block-scaled kernel does the per-tensor kernel's work plus one
  scale per block, and vLLM's per-tensor FP8 MoE on H200 (0.09-0.14) is not what a block-scaled
  checkpoint runs; NVFP4 on
  chips with FP4 tensor cores; weight-only int8/int4 (W8A16 / W4A16: dequantised to bf16) where
  the chip has no tensor cores of the weights' dtype (formats() below);
- decode attention by (sequences x KV heads, mean context, query heads per KV head), head
  dimension and KV dtype; prefill attention by (prompts x heads, prompt length, group), chunks
  after a cached prefix counted as fresh prompts with as many (query, key) pairs;
- a whole MoE expert layer (routing, both grouped GEMMs, finalise) by (tokens per expert, one
  local expert's weight elements, local experts), from its table of power-law routing (Pareto
  1.01, the heaviest expert-parallel group moved to the timed rank: aiconfigurator's default).
  Its per-expert load spread (coefficient of variation 1.3-1.8 for 8-128 experts) is the one
  TensorRT-LLM measured on DeepSeek-R1's router (1.36, catalog/calibration/engines.yaml), and
  its busiest rank sits where engine/expert_load.py puts it (1.57 vs 1.76 of the mean at EP 8
  with 16 experts a rank, 2.32 vs 2.56 at EP 32), so the table is read with the tokens as they
  are; unlike the balanced tables it also carries what uneven experts cost the grouped GEMMs
  inside a rank. Where only balanced routing was measured, the tokens are scaled by the busiest
  rank's share (the factor the roofline uses);
- an all-reduce by message size and ranks: the fastest of the engine's kernels and NCCL, on a
  chip whose scale-up link is the measured chip's, where the measurement ran on that link: its
  bus bandwidth for the largest message at least half of the link's per direction times the
  profile's collective efficiency (every table but L40S over 4 and 8 ranks: 0.26 and 0.10 of
  its PCIe Gen4 link, a machine whose GPU-to-GPU traffic crossed the CPU; 0.62-1.28 elsewhere).
Anything else (MLA attention, norms and activations, other collectives, a format or head
dimension not measured under the engine) takes the roofline. The measured times were taken in
CUDA graphs, launch gaps included, so every time here includes its launch
(Fidelity.launch_included): the roofline's answers get the profile's launch overhead added.

CUDA graphs (`cuda_graphs`, the engine setup's switch: engine/engines.py says each engine's
default): a step run without them (TensorRT-LLM's C++ runtime before 1.0, vLLM --enforce-eager,
SGLang --disable-cuda-graph) launches kernel by kernel, so its all-reduce is timed by the kernels
measured outside CUDA graphs only (kernels.ALLREDUCE_IN_CUDA_GRAPH): NCCL (nccl-tests, C++
launches) and, for vLLM and SGLang, their custom all-reduce called eagerly from Python. TensorRT-
LLM's own kernel was timed in graphs only, so an eager TensorRT-LLM step pays NCCL's eager time:
NCCL is the one all-reduce measured launched from C++ as the C++ runtime launches its plugins
(vLLM's and SGLang's eager tables add Python dispatch per call, 20-30 us flat, which that runtime
does not pay). An assumption: TensorRT-LLM's custom kernel launched eagerly from C++ may beat
NCCL at small messages, so this may overstate its eager all-reduce. GEMM, attention and MoE
keep their graph-timed tables: what launching them one by one costs (a host launch per kernel,
binding where kernels are shorter than it) has no measurement here and is not modelled.

The tables are sliced once at a layer's fixed coordinates (kernels.table_slice: a GEMM's n and k,
an attention layer's group) and read in pure Python, the simulator's hot path (about 1 us a read).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from functools import partial
from typing import TYPE_CHECKING

from chip2chat.costs import roofline
from chip2chat.hardware import kernels
from chip2chat.hardware.load import load_hardware

if TYPE_CHECKING:
    from chip2chat.costs.device import Device
    from chip2chat.hardware.spec import Accelerator

_UNSEEN = object()
_KV_TABLES = {"bf16": "bf16", "fp16": "bf16", "fp32": "bf16", "fp8": "fp8"}
"""KV-cache dtype -> the attention tables' (fp16 and fp32 caches read as bf16 ones; int8 and fp4 not measured)."""
FP8_KERNELS = {"fp8", "fp8_block"}
"""FP8 GEMM and MoE kernels: per tensor and block-scaled (a block-scaled checkpoint takes the faster)."""
MOE_ROUTING = ("power_law_1.01", "balanced")
"""Routing of the MoE tables, in the order they are used (see the module docstring)."""


def formats(family: str, dtype: str, runs: str) -> tuple[str, ...]:
    """Table variants (kernels.WEIGHT_FORMATS keys) that time `dtype` weights running at the
    `runs` tensor-core rate (Device.compute_dtype), best first; () where none was measured."""
    if dtype in ("bf16", "fp16", "fp32"):
        return ("bf16",)
    if runs == dtype == "fp8":
        return ("fp8", "fp8_block")
    if runs == dtype == "fp4":
        return ("fp4",)
    if runs in ("bf16", "fp16"):  # weight-only: dequantised to bf16 for the matmul
        if dtype in ("fp8", "int8"):
            return ("int8_wo",)
        # MXFP4 weights with bf16 activations: TensorRT-LLM's gpt-oss MoE on Hopper
        return ("mxfp4_w4a16", "int4_wo") if family == "moe" else ("int4_wo",)
    return ()  # W8A8 int8 and the like: not measured


class KernelTimes:
    """Seconds of kernels on one Device from the tables of `chip` under `engine` (None from a
    method: not measured, the caller takes the roofline)."""

    def __init__(self, chip: str, engine: str, hw: Accelerator, runs: dict[str, str], link_bw: float,
                 block_scaled: bool = False, cuda_graphs: bool = True):
        self.chip, self.engine, self.runs, self.link_bw = chip, engine, runs, link_bw
        self.block_scaled = block_scaled
        """FP8 weights scaled per block: both FP8 kernels, the faster (module docstring)."""
        self.cuda_graphs = cuda_graphs
        """Steps run in CUDA graphs; False: all-reduce by the kernels timed outside them (module docstring)."""
        self.tables = kernels.kernel_tables()
        self.measured = {f: set(kernels.variants(chip, engine, f, self.tables)) for f in kernels.FAMILIES}
        self.peaks = {"peak_flops": {d: hw.flops_for(d)[0] for d in ("bf16", "fp8", "fp4")},
                      "bandwidth_bytes_per_s": hw.memory.bandwidth_bytes_per_s}
        """The Device's own figures, in the form the tables' ideal times take."""
        self.same_link = load_hardware(chip)[1].scale_up.bandwidth_bytes_per_s == hw.scale_up.bandwidth_bytes_per_s
        self._reads: dict[tuple, object] = {}
        self._decode: dict[tuple, tuple | bool] = {}
        self._memo: dict[tuple, object] = {}
        """Calls seen (estimate meets the same shapes at every call, the simulator's body each step count)."""

    def _read(self, key: tuple, family: str, variant: str, **fixed):
        read = self._reads.get(key)
        if read is None:
            axes, log_eff = kernels.table_slice(family, self.chip, self.engine, variant, self.tables, **fixed)
            logs, values = [[math.log(x) for x in a] for a in axes], log_eff.tolist()
            read = self._reads[key] = Line(logs[0], values) if len(logs) == 1 else Grid(logs, values)
        return read

    def _first(self, family: str, candidates) -> str | None:
        return next((v for v in candidates if v in self.measured[family]), None)

    def _timed_with(self, measured: list[str]) -> list[str]:
        """Of the measured formats (best first), those a call is timed with, the fastest taken:
        both FP8 kernels for a block-scaled checkpoint (FP8_KERNELS), else the first."""
        return measured if self.block_scaled and set(measured) <= FP8_KERNELS else measured[:1]

    def _memoised(self, work, *args):
        """work(*args), computed once per arguments (None, not measured, included)."""
        key = (work, *args)
        known = self._memo.get(key, _UNSEEN)
        if known is _UNSEEN:
            if len(self._memo) >= 65536:  # shapes drawn from a distribution rarely repeat
                self._memo.clear()
            known = self._memo[key] = work(*args)
        return known

    def gemm(self, m: float, n: float, k: float, dtype: str):
        """(seconds, compute-bound) of an (m x k) @ (k x n) GEMM with `dtype` weights, or None."""
        return self._memoised(self._gemm, m, n, k, dtype)

    def _gemm(self, m: float, n: float, k: float, dtype: str):
        variants = self._timed_with([v for v in formats("gemm", dtype, self.runs[dtype]) if v in self.measured["gemm"]])
        timed = [self._gemm_variant(m, n, k, v) for v in variants]
        return min(timed, default=None)

    def _gemm_variant(self, m: float, n: float, k: float, variant: str):
        read = self._read(("gemm", variant, n, k), "gemm", variant, n=n, k=k)
        ideal = float(kernels.gemm_ideal_s(self.peaks, variant, m, n, k))
        compute = 2.0 * m * n * k / self.peaks["peak_flops"].get(kernels.WEIGHT_FORMATS[variant][0])
        return ideal / _capped(read(m)), compute >= ideal

    def decode_attention(self, layer, batch: float, length: float) -> float | None:
        """Seconds of one decode step's attention in `layer`: `batch` sequences of mean context
        `length` on the chip, one query each (the hot path: a layer's reader is made once)."""
        plan = self._decode.get(layer)
        if plan is None:
            plan = self._decode[layer] = self._decode_plan(layer)
        if not plan or batch <= 0 or length <= 0:
            return None
        read, per_key, per_sequence, rows = plan
        # a decode set keeps its size for many steps: its row of the table (along the context) is kept
        row = rows.get(batch)
        if row is None:
            if len(rows) >= 4096:
                rows.clear()
            row = rows[batch] = read.row(batch * layer.kv_heads)
        efficiency = row(length)
        return batch * (length * per_key + per_sequence) / (efficiency if efficiency < 1.0 else 1.0)  # _capped

    def _decode_plan(self, layer) -> tuple | bool:
        """(reader, ideal seconds per cached token and per sequence) of a layer, or False."""
        kv = _KV_TABLES.get(layer.kv_dtype)
        variant = f"{kv}_d{layer.head_dim}"
        if layer.latent or variant not in self.measured["decode_attention"]:
            return False
        group = layer.heads / layer.kv_heads
        read = self._read(("decode", variant, group), "decode_attention", variant, group=group)
        # the ideal time is linear in the context and in the sequences: its two coefficients
        ideal = partial(kernels.decode_attention_ideal_s, self.peaks, kv, layer.head_dim, 1.0,
                        num_heads=layer.heads, num_kv_heads=layer.kv_heads)
        return read, ideal(kv_len=1.0) - ideal(kv_len=0.0), ideal(kv_len=0.0), {}

    def context_attention(self, layer, batch: float, length: float) -> float | None:
        """Seconds of causal prefill attention in `layer`: `batch` fresh prompts of `length`
        tokens on the chip, in fp8 where the KV cache is fp8 and the engine measured it."""
        return self._memoised(self._context_attention, layer, batch, length)

    def _context_attention(self, layer, batch: float, length: float) -> float | None:
        kv = _KV_TABLES.get(layer.kv_dtype)
        if layer.latent or kv is None or batch <= 0 or length <= 0:
            return None
        variant = self._first("context_attention", [f"{d}_d{layer.head_dim}" for d in dict.fromkeys((kv, "bf16"))])
        if variant is None:
            return None
        group = layer.heads / layer.kv_heads
        read = self._read(("context", variant, group), "context_attention", variant, group=group)
        ideal = float(kernels.context_attention_ideal_s(self.peaks, variant.split("_")[0], layer.head_dim, batch,
                                                        length, layer.heads, layer.kv_heads))
        return ideal / _capped(read(batch * layer.heads, length))

    def moe(self, layer, tokens: float, busiest: float) -> float | None:
        """Seconds of one MoE layer's routed experts on the busiest rank, `tokens` entering it."""
        return self._memoised(self._moe, layer, tokens, busiest)

    def _moe(self, layer, tokens: float, busiest: float) -> float | None:
        if tokens <= 0:
            return None
        # per format its first measured routing (MOE_ROUTING's order); formats as _timed_with says
        tables = {}
        for v in formats("moe", layer.dtype, self.runs[layer.dtype]):
            routing = next((r for r in MOE_ROUTING if f"{v}_{r}" in self.measured["moe"]), None)
            if routing is not None:
                tables[v] = routing
        timed = [self._moe_variant(layer, tokens, busiest, fmt, tables[fmt]) for fmt in self._timed_with(list(tables))]
        return min(timed, default=None)

    def _moe_variant(self, layer, tokens: float, busiest: float, fmt: str, routing: str) -> float:
        if routing == "balanced":
            tokens = tokens * busiest
        shape = (layer.hidden, layer.inter, layer.top_k, layer.num_experts, layer.tp, layer.ep, layer.gated)
        per_expert, elems, local = kernels.moe_axes(tokens, *shape)
        variant = f"{fmt}_{routing}"
        read = self._read(("moe", variant, float(elems), local), "moe", variant, expert_elems=float(elems),
                          local_experts=local)
        return float(kernels.moe_ideal_s(self.peaks, fmt, tokens, *shape)) / _capped(read(per_expert))

    def all_reduce(self, nbytes: float, ranks: int) -> float | None:
        """Seconds of a bf16 all-reduce of `nbytes` over `ranks` chips on the measured link, or None."""
        if not self.same_link:
            return None
        read = self._reads.get(("all_reduce", ranks))
        if read is None:
            every = AllReduce(self.tables.allreduce(self.chip, self.engine, ranks))
            if every.points and every.bus_bandwidth(ranks) < 0.5 * self.link_bw:
                read = AllReduce({})  # measured on a slower link than the chip's: not this system
            else:
                read = every if self.cuda_graphs else \
                    AllReduce(self.tables.allreduce(self.chip, self.engine, ranks, cuda_graphs=False))
            self._reads[("all_reduce", ranks)] = read
        return read(nbytes)


def _capped(efficiency: float) -> float:
    """A measured efficiency, at most 1: a serving step streams its weights and KV cache from HBM,
    so no kernel of it beats the roofline of the chip's catalog figures. The tables hold higher
    ones where the measuring harness, repeating a kernel on the same inputs, kept them warm in L2
    (L40S and RTX PRO 6000, whose 96-128 MB L2 holds small GEMMs and KV caches: efficiencies up
    to 4) or counted otherwise (A100's TensorRT-LLM decode table: 1.16 over a 268 MB cache)."""
    return efficiency if efficiency < 1.0 else 1.0


class Line:
    """exp of log(efficiency) interpolated linearly in log(x) along one axis, x clamped to it:
    kernels.interpolate for one float, in pure Python (the simulator's hot path: no helper calls)."""

    __slots__ = ("axis", "values")

    def __init__(self, log_axis: list[float], log_values: list[float]):
        self.axis, self.values = log_axis, log_values

    def __call__(self, x: float) -> float:
        a, v = self.axis, self.values
        p = math.log(x) if x > 0.0 else a[0]
        if p <= a[0]:
            return math.exp(v[0])
        if p >= a[-1]:
            return math.exp(v[-1])
        i = bisect_right(a, p) - 1
        return math.exp(v[i] + (p - a[i]) / (a[i + 1] - a[i]) * (v[i + 1] - v[i]))


class Grid:
    """The same over two axes (bilinear in the logs)."""

    __slots__ = ("axes", "values")

    def __init__(self, log_axes: list[list[float]], log_values: list[list[float]]):
        self.axes, self.values = log_axes, log_values

    def __call__(self, x: float, y: float) -> float:
        return self.row(x)(y)

    def row(self, x: float) -> Line:
        """The Line along the second axis at `x` on the first."""
        i, wi = _cell(self.axes[0], x)
        lo, hi = self.values[i], self.values[i + 1]
        return Line(self.axes[1], [a + wi * (b - a) for a, b in zip(lo, hi)])


def _cell(log_axis: list[float], x: float) -> tuple[int, float]:
    """(cell, weight of its upper node) of x on a log axis, clamped as kernels.interpolate does."""
    last = len(log_axis) - 2
    if x <= 0.0:
        return 0, 0.0
    p = math.log(x)
    if p <= log_axis[0]:
        return 0, 0.0
    if p >= log_axis[-1]:
        return last, 1.0
    i = bisect_right(log_axis, p) - 1
    return i, (p - log_axis[i]) / (log_axis[i + 1] - log_axis[i])


class AllReduce:
    """kernels.allreduce_time for floats: the fastest measured kernel at each message size, read
    log-log, time held below the smallest measured message and bus bandwidth above the largest."""

    __slots__ = ("points",)

    def __init__(self, measured: dict):
        self.points = [([math.log(b) for b in nbytes], [math.log(s) for s in seconds], float(nbytes[-1]),
                        float(seconds[-1])) for nbytes, seconds in measured.values()]

    def bus_bandwidth(self, ranks: int) -> float:
        """Bytes/s each rank moves for the largest message measured, by the fastest kernel (NCCL's
        busbw: 2 (p - 1) / p of the message over the time)."""
        return max(2.0 * (ranks - 1) / ranks * last_b / last_s for _, _, last_b, last_s in self.points)

    def __call__(self, nbytes: float) -> float | None:
        if not self.points:
            return None
        best = math.inf
        for log_b, log_s, last_b, last_s in self.points:
            if nbytes > last_b:
                t = last_s * nbytes / last_b
            else:
                i, w = _cell(log_b, nbytes)
                t = math.exp(log_s[i] + w * (log_s[i + 1] - log_s[i]))
            best = t if t < best else best
        return best


# ---- the Fidelity's functions (fidelity.FIDELITIES["measured"]) --------------------------------

def gemm(m, n, k, groups, flops, nbytes, dtype, dev: Device):
    timed = dev.kernels.gemm(m, n, k, dtype) if groups == 1 else None  # a grouped GEMM: a MoE layer's own
    if timed is None:
        seconds, compute = roofline.gemm(m, n, k, groups, flops, nbytes, dtype, dev)
        return seconds + dev.launch_s, compute
    return timed


def attention(flops, nbytes, dev: Device, layer=None, batch=0.0, length=0.0, decode=True):
    if layer is None:
        seconds = None
    elif decode:
        seconds = dev.kernels.decode_attention(layer, batch, length)
    else:
        seconds = dev.kernels.context_attention(layer, batch, length)
    if seconds is None:
        seconds, compute = roofline.attention(flops, nbytes, dev)
        return seconds + dev.launch_s, compute
    # decode reads the KV cache (memory-bound, as its table's ideal time); prefill as the roofline says
    return seconds, not decode and flops / dev.attention_rate >= nbytes / dev.attention_bw


def elementwise(nbytes, dev: Device):
    return roofline.elementwise(nbytes, dev) + dev.launch_s


def collective(kind, nbytes, ranks, dev: Device):
    if kind == "all_reduce" and 1 < ranks <= dev.domain:
        seconds = dev.kernels.all_reduce(nbytes, ranks)
        if seconds is not None:
            return seconds
    return roofline.collective(kind, nbytes, ranks, dev)


def moe(layer, tokens, busiest, dev: Device):
    return dev.kernels.moe(layer, tokens, busiest)
