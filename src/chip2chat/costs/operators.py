"""The operator API: the cost of GEMMs, attention and memory-bound kernels on a Device.

Each function works out what an operator does (FLOP, bytes), asks a fidelity how long one call
takes on the device, and adds the call into a step accumulator with its launch overhead and its
energy (FLOP x J/FLOP + bytes x J/byte). `count` multiplies an operator repeated identically (e.g.
once per layer of a group). Collectives are in costs/collectives.py.

The fidelity that times the calls is the device's (`dev.times`, chosen by name from
costs.fidelity.FIDELITIES when the Device is made); a `fidelity=` argument names another for one
call. Only the analytic "roofline" (costs/roofline.py) exists now.

Accumulators: StepCost keeps a chip's step split by what bounds each operator, with an optional
list of every operator; StepTotal keeps only time and dynamic energy, and works on floats and on
numpy arrays (a Device of many designs) alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from chip2chat.costs.device import Device
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

    def add(self, name: str, seconds: float, compute_bound: bool, flops: float, nbytes: float, e_flop: float,
            dev: Device, count: float, rate: str = "") -> None:
        """`count` calls of `seconds` each (launch excluded) doing `flops` and moving `nbytes` in all."""
        if compute_bound:
            self.compute_s += seconds * count
        else:
            self.memory_s += seconds * count
        self.overhead_s += dev.launch_s * count
        self.flops += flops
        self.bytes += nbytes
        self.dynamic_energy_j += flops * e_flop + nbytes * dev.energy_per_byte
        if self.ops is not None:
            self.ops.append(OpRecord(name, (seconds + dev.launch_s) * count, "compute" if compute_bound else "memory",
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

    def add(self, name, seconds, compute_bound, flops, nbytes, e_flop, dev: Device, count, rate="") -> None:
        self.time_s = self.time_s + (seconds + dev.launch_s) * count
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
    """C[m,n] = A[m,k] @ W[k,n]. Weights are read once per call (`weight_reads` x k x n elements).

    `groups` > 1: a grouped GEMM, that many such problems with their own weights in one kernel
    (the experts of an MoE layer): one launch, the tiles of all groups sharing the waves.
    """
    if m <= 0 or groups <= 0:
        return
    flops = 2.0 * m * n * k * groups
    w_elems = k * n if weight_reads is None else weight_reads * k * n
    nbytes = (w_elems * weight_bytes_per_el + (m * k + m * n) * act_bytes) * groups
    seconds, compute = (named(fidelity) if fidelity else dev.times).gemm(m, n, k, groups, flops, nbytes, dtype, dev)
    acc.add(name, seconds, compute, flops * count, nbytes * count, dev.energy_per_flop[dtype], dev, count, dtype)


def attention(acc: Accumulator, name: str, flops: float, nbytes: float, dev: Device, count: float = 1.0,
              fidelity: str | None = None) -> None:
    """Fused attention (FlashAttention-style) doing `flops` and reading `nbytes` of KV cache a call."""
    if flops <= 0 and nbytes <= 0:
        return
    seconds, compute = (named(fidelity) if fidelity else dev.times).attention(flops, nbytes, dev)
    acc.add(name, seconds, compute, flops * count, nbytes * count, dev.energy_per_flop["attention"], dev, count,
            "attention")


def elementwise(acc: Accumulator, name: str, nbytes: float, dev: Device, count: float = 1.0, fidelity: str | None = None) -> None:
    """A memory-bound kernel (norm, activation, residual, embedding gather) moving `nbytes` a call."""
    if nbytes <= 0:
        return
    seconds = (named(fidelity) if fidelity else dev.times).elementwise(nbytes, dev)
    acc.add(name, seconds, False, 0.0, nbytes * count, 0.0, dev, count)
