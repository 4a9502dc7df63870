"""Collectives on the scale-up link, costed with the ring algorithm's bus-bandwidth factors.

all-reduce moves 2(p-1)/p of the message per rank, all-gather / reduce-scatter / all-to-all
(p-1)/p (the message of an all-gather or reduce-scatter is the whole gathered buffer), a point-to-point send all of it (NCCL's busbw conventions). Groups larger than the
scale-up domain run at the scale-out bandwidth. Each call adds a fixed latency.
"""

from __future__ import annotations

from chip2chat.costs.device import Device
from chip2chat.costs.operators import OpRecord, StepCost

_FACTOR = {"all_reduce": lambda p: 2.0 * (p - 1) / p, "all_gather": lambda p: (p - 1) / p,
           "reduce_scatter": lambda p: (p - 1) / p, "all_to_all": lambda p: (p - 1) / p, "send": lambda p: 1.0}


def collective_time(kind: str, nbytes: float, ranks: int, dev: Device) -> float:
    """Seconds for one collective of `nbytes` (the full message per rank) over `ranks` chips."""
    if ranks <= 1 and kind != "send":
        return 0.0
    bw = dev.link_bw if ranks <= dev.domain else dev.scale_out_bw
    return dev.link_latency_s + _FACTOR[kind](ranks) * nbytes / bw


def collective(acc: StepCost, name: str, kind: str, nbytes: float, ranks: int, dev: Device,
               count: float = 1.0) -> None:
    seconds = collective_time(kind, nbytes, ranks, dev)
    if seconds <= 0:
        return
    acc.communication_s += seconds * count
    moved = nbytes * _FACTOR[kind](max(ranks, 2)) * count
    acc.dynamic_energy_j += moved * dev.energy_per_byte  # reading and writing the buffers
    if acc.ops is not None:
        acc._record(OpRecord(name, seconds * count, "communication", 0.0, moved, count, collective=kind,
                             ranks=ranks, message_bytes=nbytes))
