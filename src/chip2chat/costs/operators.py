"""The operator API: the cost of GEMMs, attention, MoE expert layers and memory-bound kernels on a
Device.

Each function works out what an operator does (FLOP, bytes), asks a fidelity how long one call
takes on the device, and adds the call into a step accumulator with its launch overhead (unless
the fidelity's times include it) and its energy (FLOP x J/FLOP + bytes x J/byte). `count`
multiplies an operator repeated identically (e.g. once per layer of a group). Collectives are in
costs/collectives.py.

The fidelity that times the calls is the device's (`dev.times`, chosen when the Device is made:
costs/fidelity.py); a `fidelity=` argument names another for one call. The shapes a measured
table is looked up by (an attention layer's heads and head dim, a MoE layer's experts) travel
with the call; the roofline ignores them.

Accumulators: StepCost keeps a chip's step split by what bounds each operator, with an optional
list of every operator; StepTotal keeps only time and dynamic energy, and works on floats and on
numpy arrays (a Device of many designs) alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from chip2chat.costs.device import Device
from chip2chat.costs.fidelity import AttentionLayer, MoeLayer
from chip2chat.costs.fidelity import fidelity as named


@dataclass(frozen=True, slots=True)
class OpRecord:
    """One operator of a step, as the cost model saw it (kept when a breakdown is asked for):
    per-call FLOP and bytes, which rate divides the FLOP (a GEMM dtype, 'attention', or '' for
    memory-only), and for collectives their kind, group size and message."""

    name: str
    seconds: float  # all `count` calls together
    bound: str
    flops: float  # all calls together
    bytes: float
    count: float
    rate: str = ""
    collective: str = ""
    ranks: int = 0
    message_bytes: float = 0.0

    def scaled(self, factor: float) -> "OpRecord":
        return OpRecord(self.name, self.seconds * factor, self.bound, self.flops * factor, self.bytes * factor,
                        self.count * factor, self.rate, self.collective, self.ranks, self.message_bytes)


@dataclass(slots=True)
class StepCost:
    """One chip's step split by what bounds each operator, plus work and dynamic energy (floats)."""

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

    def add(self, name: str, seconds: float, launch_s: float, compute_bound: bool, flops: float, nbytes: float,
            e_flop: float, dev: Device, count: float, rate: str = "") -> None:
        """`count` calls of `seconds` each, plus `launch_s` each of launch overhead, doing `flops`
        and moving `nbytes` in all."""
        if compute_bound:
            self.compute_s += seconds * count
        else:
            self.memory_s += seconds * count
        self.overhead_s += launch_s * count
        self.flops += flops
        self.bytes += nbytes
        self.dynamic_energy_j += flops * e_flop + nbytes * dev.energy_per_byte
        if self.ops is not None:
            self.ops.append(OpRecord(name, (seconds + launch_s) * count, "compute" if compute_bound else "memory",
                                     flops, nbytes, count, rate))

    def add_collective(self, name: str, seconds: float, moved: float, dev: Device, count: float, kind: str,
                       ranks: int, message_bytes: float) -> None:
        """`count` collectives of `seconds` each, moving `moved` bytes per chip in all."""
        self.communication_s += seconds * count
        self.dynamic_energy_j += moved * dev.energy_per_byte  # reading and writing the buffers
        if self.ops is not None:
            self.ops.append(OpRecord(name, seconds * count, "communication", 0.0, moved, count, collective=kind,
                                     ranks=ranks, message_bytes=message_bytes))

    def add_overhead(self, seconds: float) -> None:
        self.overhead_s += seconds

    def scale(self, factor: float) -> None:
        """Every figure times `factor` (a pipeline: each micro-batch passes every stage)."""
        self.compute_s, self.memory_s = self.compute_s * factor, self.memory_s * factor
        self.communication_s, self.overhead_s = self.communication_s * factor, self.overhead_s * factor
        self.flops, self.bytes = self.flops * factor, self.bytes * factor
        self.dynamic_energy_j *= factor
        if self.ops is not None:
            self.ops = [op.scaled(factor) for op in self.ops]


class StepTotal:
    """Time and dynamic energy of a step, nothing else: floats or arrays (one entry per design)."""

    __slots__ = ("time_s", "dynamic_energy_j")

    def __init__(self) -> None:
        self.time_s = 0.0
        self.dynamic_energy_j = 0.0

    def add(self, name, seconds, launch_s, compute_bound, flops, nbytes, e_flop, dev: Device, count, rate="") -> None:
        self.time_s = self.time_s + (seconds + launch_s) * count
        self.dynamic_energy_j = self.dynamic_energy_j + flops * e_flop + nbytes * dev.energy_per_byte

    def add_collective(self, name, seconds, moved, dev: Device, count, kind, ranks, message_bytes) -> None:
        self.time_s = self.time_s + seconds * count
        self.dynamic_energy_j = self.dynamic_energy_j + moved * dev.energy_per_byte

    def add_overhead(self, seconds) -> None:
        self.time_s = self.time_s + seconds

    def scale(self, factor: float) -> None:
        self.time_s, self.dynamic_energy_j = self.time_s * factor, self.dynamic_energy_j * factor


Accumulator = StepCost | StepTotal


def gemm(acc: Accumulator, name: str, m: float, n: float, k: float, dtype: str, weight_bytes_per_el: float,
         dev: Device, count: float = 1.0, act_bytes: float = 2.0, weight_reads: float | None = None,
         groups: float = 1.0, fidelity: str | None = None) -> None:
    """C[m,n] = A[m,k] @ W[k,n] with `dtype` weights (a costs.device.DTYPES name: the Device knows
    the rate they run at). Weights are read once per call (`weight_reads` x k x n elements).

    `groups` > 1: a grouped GEMM, that many such problems with their own weights in one kernel
    (the experts of an MoE layer): one launch, the tiles of all groups sharing the waves.
    """
    if m <= 0 or groups <= 0:
        return
    flops = 2.0 * m * n * k * groups
    w_elems = k * n if weight_reads is None else weight_reads * k * n
    nbytes = (w_elems * weight_bytes_per_el + (m * k + m * n) * act_bytes) * groups
    f = named(fidelity) if fidelity else dev.times
    launch = 0.0 if f.launch_included else dev.launch_s  # what the step adds to the fidelity's time
    seconds, compute = f.gemm(m, n, k, groups, flops, nbytes, dtype, dev)
    acc.add(name, seconds, launch, compute, flops * count, nbytes * count, dev.energy_per_flop[dtype], dev, count,
            dtype)


def attention(acc: Accumulator, name: str, flops: float, nbytes: float, dev: Device, count: float = 1.0,
              fidelity: str | None = None, layer: AttentionLayer | None = None, batch: float = 0.0,
              length: float = 0.0, decode: bool = True) -> None:
    """Fused attention (FlashAttention-style) doing `flops` and reading `nbytes` of KV cache a call:
    `batch` sequences of mean context `length` decoding one token each, or prefill chunks whose
    (query, key) pairs equal `batch` fresh prompts of `length` tokens (decode False), in `layer`."""
    if flops <= 0 and nbytes <= 0:
        return
    f = named(fidelity) if fidelity else dev.times
    launch = 0.0 if f.launch_included else dev.launch_s  # what the step adds to the fidelity's time
    seconds, compute = f.attention(flops, nbytes, dev, layer, batch, length, decode)
    acc.add(name, seconds, launch, compute, flops * count, nbytes * count, dev.energy_per_flop["attention"], dev,
            count, "attention")


def elementwise(acc: Accumulator, name: str, nbytes: float, dev: Device, count: float = 1.0, fidelity: str | None = None) -> None:
    """A memory-bound kernel (norm, activation, residual, embedding gather) moving `nbytes` a call."""
    if nbytes <= 0:
        return
    f = named(fidelity) if fidelity else dev.times
    launch = 0.0 if f.launch_included else dev.launch_s  # what the step adds to the fidelity's time
    acc.add(name, f.elementwise(nbytes, dev), launch, False, 0.0, nbytes * count, 0.0, dev, count)


def moe_experts(acc: Accumulator, layer: MoeLayer, tokens: float, local_tokens: float, busiest: float,
                weight_bytes_per_el: float, dev: Device, count: float = 1.0, act_bytes: float = 2.0,
                fidelity: str | None = None) -> None:
    """The routed experts of one MoE layer on one chip. `tokens` enter the layer on every chip that
    holds experts (the step's tokens, all-reduced or all-gathered), top_k experts each; the chip
    holds num_experts / ep experts of inter / tp columns and runs its share of the token-expert
    pairs times `busiest` (the busiest expert-parallel rank's over the mean, which sets the step);
    `local_tokens` are the chip's own tokens, gathered into expert order and scattered back.

    A fidelity that times the layer whole (measured expert-layer tables) makes it one call doing
    the work of the kernels below; else (the roofline, or no table) the layer is its kernels: the
    gather of each token's hidden state once per chosen expert, the grouped GEMMs of the gate/up
    and down projections (each touched expert streams its weights once, the rows spread over
    them), the activation between them, and the scatter back with the router weights."""
    if tokens <= 0:
        return
    f = named(fidelity) if fidelity else dev.times
    launch = 0.0 if f.launch_included else dev.launch_s  # what the step adds to the fidelity's time
    seconds = f.moe(layer, tokens, busiest, dev) if f.moe is not None else None
    if seconds is None:
        _expert_kernels(acc, layer, tokens, local_tokens, busiest, weight_bytes_per_el, dev, count, act_bytes,
                        fidelity)
        return
    work = StepCost()  # the same work as the kernels, for the energy and what bounds the call
    _expert_kernels(work, layer, tokens, local_tokens, busiest, weight_bytes_per_el, dev, 1.0, act_bytes,
                    "roofline")
    acc.add("moe_experts", seconds, launch, work.compute_s >= work.memory_s, work.flops * count, work.bytes * count,
            dev.energy_per_flop[layer.dtype], dev, count, layer.dtype)


def _expert_kernels(acc: Accumulator, layer: MoeLayer, tokens: float, local_tokens: float, busiest: float,
                    wb: float, dev: Device, count: float, act: float, fidelity: str | None) -> None:
    h, d = layer.hidden, layer.dtype
    # experts of this chip that receive at least one token (tokens routed uniformly)
    touched = layer.num_experts / layer.ep * (1.0 - (1.0 - 1.0 / layer.num_experts) ** (tokens * layer.top_k))
    # token-expert pairs on this chip: its 1/ep share, on the busiest rank (which sets the step)
    rows = tokens * layer.top_k / layer.ep * busiest
    cols = layer.inter / layer.tp
    per_expert_rows = rows / max(touched, 1e-9)
    kw = dict(count=count, act_bytes=act, fidelity=fidelity)
    elementwise(acc, "moe_permute", (local_tokens * h + rows * h) * act, dev, count, fidelity)
    gemm(acc, "experts_gate_up", per_expert_rows, (2 if layer.gated else 1) * cols, h, d, wb, dev, groups=touched, **kw)
    elementwise(acc, "experts_act", 3 * rows * cols * act, dev, count, fidelity)
    gemm(acc, "experts_down", per_expert_rows, h, cols, d, wb, dev, groups=touched, **kw)
    elementwise(acc, "moe_unpermute", (rows * h + local_tokens * h) * act, dev, count, fidelity)
